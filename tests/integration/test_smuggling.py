"""SMTP smuggling (SEC Consult, 2023): only <CRLF>.<CRLF> ends DATA. Every known variant of a
fake end marker followed by a smuggled second message must neither end the first message nor
deliver the second. Markers made of bare LFs are taken as line ends (Postfix 3.9's "normalize"):
the whole text is one message, relayed with CRLF line ends and dot-stuffed, so it cannot split at
the next hop either. Markers with a bare CR are refused."""

import unittest

from harness import RawClient, forwarding_server

SMUGGLED = (b"MAIL FROM:<admin@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsmuggled body\r\n")

# Fake end-of-data markers from the published research and its follow-ups.
MARKERS = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n", b"\r.\r", b"\n.\r", b"\r\n.\r",
           b"\r.\n", b"\n.\r\r\n"]


class SmugglingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink, cls.mx = forwarding_server(aliases=("a", "victim"))

    @classmethod
    def tearDownClass(cls):
        cls.mx.cleanup()
        cls.sink.stop()

    def transaction(self):
        """A session with MAIL and one accepted RCPT done."""
        raw = RawClient(self.mx.port)
        self.addCleanup(raw.close)
        raw.reply()
        raw.cmd("EHLO client.test")
        raw.cmd("MAIL FROM:<a@client.test>")
        self.assertEqual(raw.cmd("RCPT TO:<a@example.com>")[0], 250)
        return raw

    def test_fake_end_markers_neither_end_nor_split_a_message(self):
        for n, marker in enumerate(MARKERS):
            with self.subTest(marker=marker):
                before = len(self.sink.messages)
                raw = self.transaction()
                self.assertEqual(raw.cmd("DATA")[0], 354)
                subject = b"Subject: first %d\r\n\r\n" % n
                raw.send(subject + b"first body" + marker + SMUGGLED + b"\r\n.\r\n")
                code, text = raw.reply()
                bare_cr = b"\r" in marker.replace(b"\r\n", b"")
                if bare_cr:
                    # A bare CR: the whole text is refused as one message.
                    self.assertEqual((code, text[:5]), (550, "5.6.0"))
                else:
                    self.assertEqual(code, 250)
                # Either way the server is back at the command stage, not inside a smuggled DATA.
                self.assertEqual(raw.cmd("NOOP")[0], 250)
                raw.cmd("QUIT")
                # The MX answers only once the destination has: the sink's list is final.
                after = self.sink.messages[before:]
                self.assertEqual(len(after), 0 if bare_cr else 1)
                for m in after:
                    # One message from the real sender (SRS-rewritten), the smuggled text inside
                    # its body.
                    self.assertIn("=client.test=a@", m.mail_from)
                    self.assertEqual(m.rcpt_tos, ["a@dest.test"])
                    self.assertIn(subject, m.content)
                    self.assertIn(b"\r\nMAIL FROM:<admin@example.com>\r\n", m.content)
        self.assertFalse(any("admin" in m.mail_from for m in self.sink.messages))
        self.assertFalse(any("victim@dest.test" in m.rcpt_tos for m in self.sink.messages))

    def test_clean_crlf_message_after_smuggling_attempts_still_works(self):
        raw = self.transaction()
        raw.cmd("DATA")
        raw.send(b"Subject: clean\r\n\r\nline\r\n.\r\n")
        self.assertEqual(raw.reply()[0], 250)
        msgs = self.sink.wait_for(1)
        self.assertTrue(any(b"Subject: clean" in m.content for m in msgs))

    def test_bdat_with_a_bare_cr_is_refused(self):
        raw = self.transaction()
        body = b"Subject: x\r\n\r\nhello\r.\r" + SMUGGLED
        raw.send(b"BDAT %d LAST\r\n" % len(body) + body)
        self.assertEqual(raw.reply()[0], 550)
        self.assertEqual(raw.cmd("NOOP")[0], 250)


if __name__ == "__main__":
    unittest.main()
