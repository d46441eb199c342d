"""The virus scan with the real clamd (issue 18 item 7): `sealpost filter explain` streams the
message to the clamd that [filter] clamd names, over its unix socket or TCP on 127.0.0.1, and
counts its answer as the MX does: a virus is refused (550 5.7.1), a scan that cannot be done is
deferred (451 4.7.1) unless clamd_unavailable = "accept". clamd is Debian's, started by the test
with signatures of its own (tests/lib/clamd.py)."""

import email.message
import email.policy
import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest
import zipfile

import clamd
from harness import SEALPOST_BIN


def explain(raw, config=None, *args):
    cmd = [SEALPOST_BIN, "filter", "explain", *(["-c", config] if config else []), *args]
    env = {k: v for k, v in os.environ.items() if k != "SEALPOST_CONFIG"}
    return subprocess.run(cmd, input=raw, capture_output=True, timeout=120, env=env)


def message(attachments=(), text="Hello, the minutes of Tuesday's meeting are attached."):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "someone@sender.test"
    m["To"] = "alice@example.com"
    m["Subject"] = "minutes"
    m.set_content(text)
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


class SilentPeer:
    """A socket on 127.0.0.1 that takes connections and reads what comes, and never answers:
    a clamd that hangs."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.connections = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    def close(self):
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        self.listener.close()
        for conn in self.connections:
            conn.close()
        self.thread.join(timeout=10)


@unittest.skipUnless(clamd.available(), "clamd is not installed (Debian package clamav-daemon)")
class ClamdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # StreamMaxLength is small enough that a test can pass it.
        cls.clamd = clamd.Clamd(stream_max_length="2M").start()
        cls.dir = tempfile.mkdtemp(prefix="sealpost-clamd-test-")

    @classmethod
    def tearDownClass(cls):
        cls.clamd.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def config(self, clamd_at, extra=""):
        path = os.path.join(self.dir, f"sealpost-{self.id().rsplit('.', 1)[-1]}.toml")
        with open(path, "w") as f:
            f.write(f'[filter]\nclamd = "{clamd_at}"\n{extra}')
        return path

    def assert_scan(self, raw, clamd_at, expected, extra=""):
        r = explain(raw, self.config(clamd_at, extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn(f"clamd: {expected}", out)
        return out

    def test_eicar_in_a_base64_attachment_is_refused(self):
        raw = message([("notes.txt", "application/octet-stream", clamd.EICAR)])
        self.assertIn(b"Content-Transfer-Encoding: base64", raw)
        out = self.assert_scan(raw, self.clamd.socket, f"virus {clamd.EICAR_SIGNATURE}")
        self.assertIn("verdict: reject", out)
        self.assertIn("reply: 550 5.7.1 Message refused by the content filter: CLAMAV_VIRUS\n",
                      out)
        self.assertRegex(out, rf"CLAMAV_VIRUS +0\.0  reject +ClamAV: {clamd.EICAR_SIGNATURE}\n")
        self.assertIn("tests=CLAMAV_VIRUS=0.0", out)

    def test_eicar_inside_a_zip_is_found_over_tcp(self):
        raw = message([("notes.zip", "application/zip", zipped("notes.txt", clamd.EICAR))])
        out = self.assert_scan(raw, self.clamd.tcp, f"virus {clamd.EICAR_SIGNATURE}")
        self.assertIn("reply: 550 5.7.1", out)

    def test_a_file_known_by_its_hash_is_refused(self):
        raw = message([("report.pdf", "application/pdf", clamd.PAYLOAD)])
        out = self.assert_scan(raw, self.clamd.socket, f"virus {clamd.PAYLOAD_SIGNATURE}")
        self.assertIn("reply: 550 5.7.1", out)

    def test_attachments_are_given_to_clamd_and_the_text_only_when_told(self):
        # By default ([filter] clamd_scan = "attachments", as rspamd's antivirus module) clamd
        # gets each decoded attachment but images; the text is not given.
        in_text = message(text="See this: " + clamd.EICAR.decode())
        self.assert_scan(in_text, self.clamd.socket,
                         "nothing to scan (no attachment; the text is scanned with "
                         "[filter] clamd_scan = \"message\")\n")
        two = message([("minutes.pdf", "application/pdf", b"%PDF-1.4\nminutes\n%%EOF\n"),
                       ("notes.txt", "text/plain", clamd.EICAR),
                       ("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + clamd.EICAR)])
        self.assert_scan(two, self.clamd.socket,
                         f"virus {clamd.EICAR_SIGNATURE} (given 2 attachments)\n")
        # "message": the message as received, which clamd decodes part by part.
        out = self.assert_scan(in_text, self.clamd.socket,
                               f"virus {clamd.EICAR_SIGNATURE} (given the whole message)\n",
                               'clamd_scan = "message"\n')
        self.assertIn("reply: 550 5.7.1", out)

    def test_a_clean_message_is_accepted(self):
        raw = message([("minutes.pdf", "application/pdf", b"%PDF-1.4\nminutes\n%%EOF\n")])
        for where in (self.clamd.socket, self.clamd.tcp):
            out = self.assert_scan(raw, where, "clean")
            self.assertIn("verdict: accept", out)
            self.assertNotIn("CLAMAV", out)
            self.assertNotIn("reply:", out)

    def test_a_stopped_clamd_defers_the_message(self):
        stopped = clamd.Clamd().start()
        where = stopped.socket
        stopped.stop()
        attached = message([("minutes.pdf", "application/pdf", b"%PDF-1.4\nminutes\n%%EOF\n")])
        try:
            out = self.assert_scan(attached, where,
                                   f"unavailable (cannot connect to {where}: No such file or "
                                   "directory)")
            self.assertIn("verdict: tempfail", out)
            self.assertIn("reply: 451 4.7.1", out)
            self.assertRegex(out, r"CLAMAV_UNAVAILABLE +0\.0  tempfail +ClamAV could not scan "
                                  r"the message: cannot connect to ")
            # TCP: nothing listens on the port any more.
            out = self.assert_scan(attached, stopped.tcp,
                                   f"unavailable (cannot connect to {stopped.tcp}: Connection "
                                   "refused)")
            self.assertIn("reply: 451 4.7.1", out)
        finally:
            stopped.cleanup()

    def test_the_operator_may_accept_what_could_not_be_scanned(self):
        where = os.path.join(self.dir, "absent.sock")
        attached = message([("minutes.pdf", "application/pdf", b"%PDF-1.4\nminutes\n%%EOF\n")])
        out = self.assert_scan(attached, where,
                               f"unavailable (cannot connect to {where}: No such file or "
                               "directory)", 'clamd_unavailable = "accept"\n')
        self.assertIn("verdict: accept", out)
        self.assertNotIn("reply:", out)
        self.assertIn("(accepted unscanned)", out)
        # A virus is refused all the same.
        raw = message([("notes.txt", "application/octet-stream", clamd.EICAR)])
        out = self.assert_scan(raw, self.clamd.socket, f"virus {clamd.EICAR_SIGNATURE}",
                               'clamd_unavailable = "accept"\n')
        self.assertIn("reply: 550 5.7.1", out)

    def test_a_message_over_clamds_stream_limit_is_deferred_not_hung(self):
        # 3 MB of attachment against StreamMaxLength 2M: clamd stops reading and says so.
        raw = message([("data.bin", "application/octet-stream", os.urandom(3 * 1024 * 1024))])
        for where in (self.clamd.socket, self.clamd.tcp):
            r = explain(raw, self.config(where))
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            if where == self.clamd.socket:
                self.assertIn("clamd: unavailable (the message is larger than clamd's "
                              "StreamMaxLength) (given 1 attachment)\n", out)
            else:
                # Over TCP, clamd's close may reset the connection before its answer is read.
                self.assertIn("clamd: unavailable (", out)
            self.assertIn("reply: 451 4.7.1", out)
        # clamd itself is still there for the next message.
        self.assertTrue(clamd.Clamd.ping(self.clamd.socket))

    def test_a_clamd_that_never_answers_is_given_up_at_clamd_timeout(self):
        peer = SilentPeer()
        try:
            # The reply says the deadline ended the wait (no duration is measured here).
            out = self.assert_scan(message(), peer.address,
                                   "unavailable (clamd did not answer within 2 s)",
                                   "clamd_timeout = \"2s\"\nclamd_scan = \"message\"\n")
            self.assertIn("reply: 451 4.7.1", out)
        finally:
            peer.close()

    def test_explain_asks_clamd_only_when_told_where(self):
        raw = message([("notes.txt", "application/octet-stream", clamd.EICAR)])
        # No configuration: nothing is asked, even where Debian's clamd would listen.
        r = explain(raw, None)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clamd: not asked (--clamd SOCKET, or [filter] clamd in the "
                      "configuration)\n", r.stdout.decode())
        # --clamd names one, with or without a configuration.
        r = explain(raw, None, "--clamd", self.clamd.socket)
        self.assertIn(f"clamd: virus {clamd.EICAR_SIGNATURE} (given 1 attachment)\n",
                      r.stdout.decode())
        r = explain(raw, self.config(os.path.join(self.dir, "absent.sock")), "--clamd",
                    self.clamd.tcp)
        self.assertIn(f"clamd: virus {clamd.EICAR_SIGNATURE} (given 1 attachment)\n",
                      r.stdout.decode())
        # An empty [filter] clamd turns the scan off.
        r = explain(raw, self.config(""))
        self.assertIn("clamd: not asked", r.stdout.decode())
        self.assertNotIn("CLAMAV", r.stdout.decode())


if __name__ == "__main__":
    unittest.main()
