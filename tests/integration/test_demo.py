"""`sealpost demo`, as `make demo` runs it: the embedded default starts on 127.0.0.1, and the
swaks command it prints delivers through the alias to its sink, authenticated and ARC-sealed."""

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import SEALPOST_BIN, free_port, wait_for_port


class DemoTest(unittest.TestCase):
    def test_demo_forwards_the_printed_example(self):
        work = tempfile.mkdtemp(prefix="sealpost-demo-")
        self.addCleanup(shutil.rmtree, work, True)
        # Run as root, the demo serves as the system user "sealpost", which must reach its files.
        os.chmod(work, 0o711)
        port, sink_port, imap_port, pop3_port = free_port(), free_port(), free_port(), free_port()
        submission_port = free_port()
        out_path = os.path.join(work, "out.log")
        out = open(out_path, "wb")
        self.addCleanup(out.close)
        proc = subprocess.Popen([SEALPOST_BIN, "demo", "--dir", os.path.join(work, "demo"),
                                 "--port", str(port), "--sink-port", str(sink_port),
                                 "--imap-port", str(imap_port), "--pop3-port", str(pop3_port),
                                 "--submission-port", str(submission_port)],
                                stdout=out, stderr=subprocess.STDOUT)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
        self.addCleanup(stop)
        wait_for_port(port, proc=proc)
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline and "swaks" not in text:
            time.sleep(0.1)
            with open(out_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        commands = [l.strip() for l in text.splitlines() if l.strip().startswith(("swaks ", "curl "))]
        self.assertEqual(len(commands), 4, text)
        command = commands[0]
        self.assertIn("--from someone@sender.test", command)
        result = subprocess.run(command.split(), capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "message arrived" not in text:
            time.sleep(0.1)
            with open(out_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        self.assertIn("message arrived for <you@inbox.test>", text)
        self.assertIn("Authentication-Results: mx.example.test; spf=none", text)
        self.assertIn("first header: ARC-Seal: a=rsa-sha256;", text)

        # The printed pair for the sealed mailbox: swaks stores a message, curl reads it back
        # over IMAP (STARTTLS, then LOGIN with the printed password).
        self.assertIn("--to alice@example.test", commands[1])
        stored = subprocess.run(commands[1].split(), capture_output=True, text=True, timeout=60)
        self.assertEqual(stored.returncode, 0, stored.stdout + stored.stderr)
        self.assertTrue(commands[2].startswith("curl --insecure --ssl-reqd --user "), commands[2])
        read = subprocess.run(shlex.split(commands[2]), capture_output=True, timeout=60)
        self.assertEqual(read.returncode, 0, read.stderr)
        self.assertIn(b"Return-Path: <someone@sender.test>", read.stdout)
        self.assertIn(b"This is a test mailing", read.stdout)  # swaks's default body

        # The printed submission: alice sends to the sink, DKIM-signed by example.test.
        self.assertIn(f"127.0.0.1:{submission_port} --tls --auth PLAIN", commands[3])
        sent = subprocess.run(shlex.split(commands[3]), capture_output=True, text=True, timeout=60)
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and text.count("message arrived") < 2:
            time.sleep(0.1)
            with open(out_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        self.assertEqual(text.count("message arrived for <you@inbox.test>"), 2, text)
        self.assertRegex(text, r"first header: DKIM-Signature: v=1; a=(rsa|ed25519)-sha256; "
                               r"c=relaxed/relaxed; d=example\.test;")


if __name__ == "__main__":
    unittest.main()
