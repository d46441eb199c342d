"""Hostile and sloppy SMTP clients against the MX (issue 16): chunk and size numbers past 64 bits
are refused and never wrap, memory stays bounded while a client streams a chunk it announced as
enormous, and bare LFs from sloppy mailers are accepted as line ends the way Postfix 3.9's
`smtpd_forbid_bare_newline = normalize` does, without reopening SMTP smuggling."""

import smtplib
import threading
import unittest

from harness import RawClient, forwarding_server

MAX_SIZE = 64 * 1024
TWO_TO_THE_64 = 2 ** 64


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class HostileSmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink, cls.mx = forwarding_server(
            extra=f'[limits]\nmessage_size = "{MAX_SIZE // 1024}K"\n')

    @classmethod
    def tearDownClass(cls):
        cls.mx.cleanup()
        cls.sink.stop()

    def transaction(self):
        raw = RawClient(self.mx.port, timeout=30)
        self.addCleanup(raw.close)
        self.assertEqual(raw.reply()[0], 220)
        self.assertEqual(raw.cmd("EHLO client.test")[0], 250)
        self.assertEqual(raw.cmd("MAIL FROM:<s@client.test>")[0], 250)
        self.assertEqual(raw.cmd("RCPT TO:<a@example.com>")[0], 250)
        return raw

    def delivered(self, marker):
        """The sink's messages holding `marker`: final once the MX answered, since the MX
        answers only after the destination did."""
        return [m for m in self.sink.messages if marker in m.content]

    def test_a_chunk_announced_past_every_limit_is_refused_at_once_in_bounded_memory(self):
        raw = self.transaction()
        raw.send(b"BDAT 1\r\nx")
        self.assertEqual(raw.reply()[0], 250)
        # 1 + (2^64 - 1) wraps to 0: the server used to take this chunk as fitting and hold
        # whatever followed (RSS from 22 MB to 1.07 GB for 1 GiB streamed, and no reply).
        before = rss_kib(self.mx.proc.pid)
        raw.send(b"BDAT 18446744073709551615 LAST\r\n")
        streamed = [0]

        def stream():
            # Goes on after the reply, as a client that does not read would, until the server
            # has closed (or 256 MiB): the server reads and drops it for a grace period.
            block = b"A" * 65536
            try:
                while streamed[0] < 256 * 1024 * 1024:
                    raw.sock.sendall(block)
                    streamed[0] += len(block)
            except OSError:
                pass  # the server hung up: what we want

        sender = threading.Thread(target=stream)
        sender.start()
        try:
            code, text = raw.reply()
            self.assertEqual((code, text[:5]), (552, "5.3.4"))
            self.assertTrue(raw.closed(timeout=20), "the server hangs up: it cannot stay in step")
        finally:
            sender.join()
        grown = rss_kib(self.mx.proc.pid) - before
        print(f"\n  BDAT 2^64-1 after BDAT 1: {streamed[0] // 1024} KiB streamed, "
              f"server RSS {before} KiB -> {before + grown} KiB")
        self.assertLess(grown, 16 * 1024, "the chunk was not held")

    def test_sizes_of_two_to_the_sixty_four_or_more_are_refused_never_wrapped(self):
        raw = self.transaction()
        # Used to read as 0: an empty last chunk, answered 250.
        raw.send(f"BDAT {TWO_TO_THE_64} LAST\r\n".encode())
        self.assertEqual(raw.reply()[:1], (552,))
        self.assertTrue(raw.closed(timeout=20))

        raw = RawClient(self.mx.port, timeout=30)
        self.addCleanup(raw.close)
        raw.reply()
        raw.cmd("EHLO client.test")
        for size in (TWO_TO_THE_64, TWO_TO_THE_64 + 5, 10 ** 20 - 1, MAX_SIZE + 1):
            with self.subTest(size=size):
                code, text = raw.cmd(f"MAIL FROM:<s@client.test> SIZE={size}")
                self.assertEqual((code, text[:5]), (552, "5.3.4"))
        self.assertEqual(raw.cmd(f"MAIL FROM:<s@client.test> SIZE={MAX_SIZE}")[0], 250)

    def test_a_chunk_that_overflows_the_message_is_read_and_refused_and_the_session_goes_on(self):
        raw = self.transaction()
        first = b"Subject: chunks\r\n\r\n" + b"y" * 40000
        raw.send(b"BDAT %d\r\n" % len(first) + first)
        self.assertEqual(raw.reply()[0], 250)
        second = b"z" * 40000  # together past the 64 KiB limit, alone within it
        raw.send(b"BDAT %d LAST\r\n" % len(second) + second)
        self.assertEqual(raw.reply()[:1], (552,))
        self.assertEqual(raw.cmd("RSET")[0], 250)
        self.assertEqual(raw.cmd("NOOP")[0], 250, "still in step with the client")

    def test_smtplib_with_bare_lf_content_is_accepted_and_relayed_with_crlf(self):
        # Python's smtplib passes bytes as given: a message built with "\n" has bare LFs. It
        # stuffs the lines that begin with "." after them, which the server unstuffs.
        content = (b"From: s@client.test\nTo: a@example.com\nSubject: bare-lf-1\n\n"
                   b"first line\n.leading dot\nlast line\n")
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            self.assertEqual(s.sendmail("s@client.test", ["a@example.com"], content), {})
        got = self.delivered(b"bare-lf-1")
        self.assertEqual(len(got), 1)
        body = got[0].content
        self.assertIn(b"\r\nfirst line\r\n.leading dot\r\nlast line\r\n", body)
        self.assertNotIn(b"\n", body.replace(b"\r\n", b""), "no bare LF reaches the next hop")

    def test_lf_dot_lf_inside_the_data_ends_it_neither_here_nor_at_the_next_hop(self):
        raw = self.transaction()
        self.assertEqual(raw.cmd("DATA")[0], 354)
        raw.send(b"Subject: bare-lf-2\r\n\r\nbefore\n.\nMAIL FROM:<x@evil.test>\r\n"
                 b"RCPT TO:<a@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n"
                 b"after\n..\nend\r\n.\r\n")
        self.assertEqual(raw.reply()[0], 250)
        self.assertEqual(raw.cmd("NOOP")[0], 250)
        got = self.delivered(b"bare-lf-2")
        self.assertEqual(len(got), 1, "one message, not two")
        self.assertEqual(self.delivered(b"Subject: smuggled\r\n\r\nafter"), got,
                         "what would have been a second message is this one's text")
        # The "." line is data here; relayed with every line CRLF and dot-stuffed, it is data at
        # the next hop too (the sink's content is after its own unstuffing).
        self.assertIn(b"before\r\n\r\nMAIL FROM:<x@evil.test>\r\n", got[0].content)
        self.assertIn(b"after\r\n.\r\nend\r\n", got[0].content)

    def test_bare_cr_is_still_refused(self):
        raw = self.transaction()
        self.assertEqual(raw.cmd("DATA")[0], 354)
        raw.send(b"Subject: bare-cr\r\n\r\nbefore\r.\rafter\r\n.\r\n")
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (550, "5.6.0"))
        self.assertEqual(raw.cmd("NOOP")[0], 250)
        self.assertEqual(self.delivered(b"bare-cr"), [])

    def test_bdat_content_with_bare_lf_is_normalised_too(self):
        raw = self.transaction()
        body = b"Subject: bare-lf-3\n\nline\n.\nnext\n"
        raw.send(b"BDAT %d LAST\r\n" % len(body) + body)
        self.assertEqual(raw.reply()[0], 250)
        got = self.delivered(b"bare-lf-3")
        self.assertEqual(len(got), 1)
        self.assertIn(b"\r\nline\r\n.\r\nnext\r\n", got[0].content)


if __name__ == "__main__":
    unittest.main()
