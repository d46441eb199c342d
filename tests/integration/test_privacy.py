"""Privacy claims, proven: forwarded mail never touches the disk, and the log holds no
addresses, subjects or message ids."""

import os
import secrets
import smtplib
import unittest

from harness import Sealpost, Sink


def files_under(path):
    for root, _, names in os.walk(path):
        for n in names:
            yield os.path.join(root, n)


class PrivacyTest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        self.deferring = Sink().start()
        self.addCleanup(self.deferring.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port,
                                      "slow.test": self.deferring.port})
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "private@example.com", "--forward", "secret-dest@dest.test")
        self.mx.cli("alias", "add", "both@example.com", "--forward", "x@dest.test",
                    "--forward", "y@slow.test")
        self.mx.start()

    def send(self, marker, rcpt="private@example.com"):
        msg = (f"From: Sender Person <sender-addr@origin.test>\r\nTo: {rcpt}\r\n"
               f"Subject: subject-{marker}\r\nMessage-ID: <msgid-{marker}@origin.test>\r\n\r\n"
               f"body {marker}\r\n" + f"padding {marker}\r\n" * 2000).encode()
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            return c.sendmail("sender-addr@origin.test", [rcpt], msg)

    def test_forwarded_messages_never_touch_the_disk(self):
        markers = [secrets.token_hex(16) for _ in range(5)]
        for m in markers:
            self.send(m)
        self.assertEqual(len(self.sink.wait_for(5)), 5)
        # Open files of the running server: none may hold the content.
        fd_dir = f"/proc/{self.mx.proc.pid}/fd"
        open_files = []
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("/") and os.path.isfile(target):
                open_files.append(target)
        self.assertTrue(any(f.endswith("metadata.db") for f in open_files), open_files)
        # While running (the SQLite WAL and shared memory exist then), and after stopping.
        self.assert_nothing_holds(markers, list(files_under(self.mx.data_dir)) + open_files)
        self.mx.stop()
        self.assert_nothing_holds(markers, list(files_under(self.mx.data_dir)))

    def assert_nothing_holds(self, markers, paths):
        checked = 0
        for path in paths:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            checked += 1
            for m in markers:
                self.assertNotIn(m.encode(), data, path)
            self.assertNotIn(b"sender-addr@origin.test", data, path)
        self.assertGreater(checked, 0)

    def test_log_names_no_address_subject_or_message_id(self):
        marker = secrets.token_hex(8)
        self.send(marker)
        # A temporary failure at one destination too, so failure paths are logged as well.
        self.deferring.data_replies = ["451 4.3.0 try later <y@slow.test>"]
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send(marker + "b", rcpt="both@example.com")
        self.assertEqual(err.exception.smtp_code, 451)
        # The destination's reply is passed back without the address it named.
        self.assertNotIn(b"y@slow.test", err.exception.smtp_error)
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.ehlo()
            c.mail("sender-addr@origin.test")
            c.rcpt("unknown-person@example.com")
            c.rcpt("someone@not-hosted.test")
        self.mx.stop()
        log = self.mx.log_text()
        self.assertIn("message session=", log)
        self.assertIn("session id=", log)
        for secret in ["sender-addr", "origin.test", "private@", "secret-dest", "dest.test",
                       "slow.test", "unknown-person", "not-hosted", f"subject-{marker}",
                       f"msgid-{marker}", "127.0.0.1 "]:
            self.assertNotIn(secret, log)
        # The client address appears only as a keyed hash.
        self.assertRegex(log, r"client=[0-9a-f]{16}")


if __name__ == "__main__":
    unittest.main()
