"""The SMTP session's rules: replies, enhanced codes, limits, timeouts (RFC 5321 and friends)."""

import smtplib
import socket
import ssl
import unittest

from harness import RawClient, Sealpost, Sink, forwarding_server, wait_until


class SessionTest(unittest.TestCase):
    extra = ('[limits]\nmessage_size = "64K"\nrecipients = 3\nerrors_per_session = 5\n'
             'unknown_recipients_per_session = 4\n')

    @classmethod
    def setUpClass(cls):
        cls.sink, cls.mx = forwarding_server(extra=cls.extra)

    @classmethod
    def tearDownClass(cls):
        cls.mx.cleanup()
        cls.sink.stop()

    def client(self):
        raw = RawClient(self.mx.port)
        self.addCleanup(raw.close)
        code, text = raw.reply()
        self.assertEqual(code, 220)
        self.assertTrue(text.startswith("mx.sealpost.test "))
        return raw

    def test_ehlo_lists_extensions(self):
        raw = self.client()
        code, text = raw.cmd("EHLO client.test")
        self.assertEqual(code, 250)
        ext = text.split("\n")[1:]
        for e in ["SIZE 65536", "8BITMIME", "SMTPUTF8", "PIPELINING", "CHUNKING",
                  "ENHANCEDSTATUSCODES", "STARTTLS"]:
            self.assertIn(e, ext)

    def test_helo_gives_no_extensions_and_refuses_parameters(self):
        raw = self.client()
        self.assertEqual(raw.cmd("HELO client.test"), (250, "mx.sealpost.test"))
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test> BODY=8BITMIME")[0], 555)
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test>")[0], 250)

    def test_order_of_commands(self):
        raw = self.client()
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test>"), (503, "5.5.1 Send EHLO first"))
        raw.cmd("EHLO c.test")
        self.assertEqual(raw.cmd("RCPT TO:<a@example.com>")[0], 503)
        self.assertEqual(raw.cmd("DATA")[0], 503)
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test>")[0], 250)
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test>"), (503, "5.5.1 Sender already specified"))
        self.assertEqual(raw.cmd("DATA"), (554, "5.5.1 No valid recipients"))
        self.assertEqual(raw.cmd("RSET"), (250, "2.0.0 OK"))
        self.assertEqual(raw.cmd("NOOP"), (250, "2.0.0 OK"))
        self.assertEqual(raw.cmd("QUIT")[0], 221)
        self.assertTrue(raw.closed())

    def test_vrfy_is_never_an_oracle(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        known = raw.cmd("VRFY a@example.com")
        unknown = raw.cmd("VRFY nobody@example.com")
        self.assertEqual(known[0], 252)
        self.assertEqual(known, unknown)
        self.assertEqual(raw.cmd("EXPN list")[0], 502)

    def test_syntax_errors_have_enhanced_codes(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        self.assertEqual(raw.cmd("FOO bar"), (500, "5.5.1 Command unrecognized"))
        self.assertEqual(raw.cmd("MAIL FROM:a@b.test")[1][:5], "5.1.7")
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test> FOO=1"), (555, "5.5.4 Unsupported MAIL parameter"))
        self.assertEqual(raw.cmd("MAIL FROM:<jörg@b.test>")[:1], (553,))
        self.assertEqual(raw.cmd("HELO")[0], 501)

    def test_line_too_long_and_bare_lf(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        raw.send("NOOP " + "x" * 5000 + "\r\n")
        self.assertEqual(raw.reply(), (500, "5.5.2 Line too long"))
        raw.send("NOOP\n")
        self.assertEqual(raw.reply()[0], 500)
        self.assertEqual(raw.cmd("NOOP")[0], 250)

    def test_too_many_errors_closes(self):
        raw = self.client()
        for _ in range(4):
            self.assertEqual(raw.cmd("BOGUS")[0], 500)
        raw.send("BOGUS\r\n")
        self.assertEqual(raw.reply()[0], 500)
        self.assertEqual(raw.reply()[0], 421)
        self.assertTrue(raw.closed())

    def test_recipient_limit(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        raw.cmd("MAIL FROM:<a@b.test>")
        for _ in range(3):
            self.assertEqual(raw.cmd("RCPT TO:<a@example.com>")[0], 250)
        self.assertEqual(raw.cmd("RCPT TO:<a@example.com>"), (452, "4.5.3 Too many recipients"))

    def test_unknown_recipient_enumeration_is_cut_off(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        raw.cmd("MAIL FROM:<a@b.test>")
        for i in range(3):
            self.assertEqual(raw.cmd(f"RCPT TO:<guess{i}@example.com>")[0], 550)
        raw.send("RCPT TO:<guess9@example.com>\r\n")
        self.assertEqual(raw.reply()[0], 550)
        self.assertEqual(raw.reply()[0], 421)
        self.assertTrue(raw.closed())

    def test_mail_loop_is_refused(self):
        hops = "".join(f"Received: from hop{i}.test by hop{i+1}.test; Tue, 1 Jan 2030\r\n"
                       for i in range(51))
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            with self.assertRaises(smtplib.SMTPDataError) as err:
                c.sendmail("a@b.test", ["a@example.com"], (hops + "Subject: loop\r\n\r\nx\r\n").encode())
        self.assertEqual(err.exception.smtp_code, 554)
        self.assertTrue(err.exception.smtp_error.startswith(b"5.4.6"))

    def test_declared_size_over_limit(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        self.assertEqual(raw.cmd("MAIL FROM:<a@b.test> SIZE=100000")[1][:5], "5.3.4")

    def test_oversize_message_rejected_after_reading(self):
        before = len(self.sink.messages)
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.ehlo()
            del c.esmtp_features["size"]  # do not declare the size: it is enforced while reading
            with self.assertRaises(smtplib.SMTPDataError) as err:
                c.sendmail("a@b.test", ["a@example.com"], b"Subject: big\r\n\r\n" + b"x" * 70000 + b"\r\n")
            self.assertEqual(err.exception.smtp_code, 552)
            # The session goes on after the refusal.
            self.assertEqual(c.noop()[0], 250)
        # The MX answers only after relaying: what the sink has at the 552 is final.
        self.assertEqual(len(self.sink.messages), before)

    def test_tls_1_1_refused_and_1_2_accepted(self):
        for version, ok in [(ssl.TLSVersion.TLSv1_1, False), (ssl.TLSVersion.TLSv1_2, True),
                            (ssl.TLSVersion.TLSv1_3, True)]:
            raw = self.client()
            raw.cmd("EHLO c.test")
            self.assertEqual(raw.cmd("STARTTLS")[0], 220)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if version == ssl.TLSVersion.TLSv1_1:
                ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = version
            ctx.maximum_version = version
            if ok:
                tls = ctx.wrap_socket(raw.sock)
                self.assertEqual(tls.version(), version.name.replace("v1_", "v1."))
                tls.close()
            else:
                with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                    ctx.wrap_socket(raw.sock)

    def test_starttls_discards_pipelined_plaintext(self):
        raw = self.client()
        raw.cmd("EHLO c.test")
        # Commands injected after STARTTLS in the same packet must not run inside TLS.
        raw.send("STARTTLS\r\nMAIL FROM:<evil@b.test>\r\n")
        self.assertEqual(raw.reply()[0], 220)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.assertEqual(raw.buf, b"", "nothing after the 220")
        raw.sock = ctx.wrap_socket(raw.sock)
        # The first answer inside TLS is the EHLO's (multi-line), and RCPT finds no transaction:
        # the injected MAIL FROM was not run.
        code, text = raw.cmd("EHLO c.test")
        self.assertEqual(code, 250)
        self.assertIn("\n", text, "the EHLO reply lists the extensions")
        self.assertEqual(raw.cmd("RCPT TO:<a@example.com>")[0], 503)
        raw.sock.close()


class InFlightBudgetTest(unittest.TestCase):
    """Message bytes held in memory across all sessions are bounded: past the budget, senders
    are told to come back later (4.3.1) instead of the server running out of memory."""

    def setUp(self):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port},
                           extra='[limits]\nmessage_size = "48K"\nbytes_in_flight = "64K"\n')
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "a@example.com", "--forward", "a@dest.test")
        self.mx.start()

    def open_transaction(self, size=None):
        raw = RawClient(self.mx.port)
        self.addCleanup(raw.close)
        raw.reply()
        raw.cmd("EHLO c.test")
        reply = raw.cmd("MAIL FROM:<a@b.test>" + (f" SIZE={size}" if size else ""))
        return raw, reply

    def test_over_budget_is_a_temporary_failure(self):
        first, _ = self.open_transaction()
        first.cmd("RCPT TO:<a@example.com>")
        self.assertEqual(first.cmd("DATA")[0], 354)
        first.send(b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 500)

        # Once the server has read it the budget is used up: a declared size no longer fits.
        declared, reply = self.open_transaction(size=1000)

        def refused():
            nonlocal reply
            if reply[0] == 250:
                declared.cmd("RSET")
                reply = declared.cmd("MAIL FROM:<a@b.test> SIZE=1000")
            return reply[0] != 250
        wait_until(refused, message="the server reads the first message")
        self.assertEqual(reply, (452, "4.3.1 Insufficient system resources, try again later"))

        second, _ = self.open_transaction()
        second.cmd("RCPT TO:<a@example.com>")
        self.assertEqual(second.cmd("DATA"),
                         (451, "4.3.1 Insufficient system resources, try again later"))

        # When the first message is done, its memory is given back and the next one fits.
        first.send(b".\r\n")
        self.assertEqual(first.reply()[0], 250)
        second.cmd("MAIL FROM:<a@b.test>")
        second.cmd("RCPT TO:<a@example.com>")
        self.assertEqual(second.cmd("DATA")[0], 354)
        second.send(b"Subject: small\r\n\r\nhi\r\n.\r\n")
        self.assertEqual(second.reply()[0], 250)
        self.assertEqual(len(self.sink.wait_for(2)), 2)


class ConnectionLimitsTest(unittest.TestCase):
    """Limits that would disturb other tests get a server of their own."""

    def setUp(self):
        self.mx = Sealpost(extra="[limits]\nidle_timeout = 2\nconnections_per_client = 4\n")
        self.addCleanup(self.mx.cleanup)
        self.mx.start()

    client = SessionTest.client

    def test_idle_timeout_says_421_and_closes_session(self):
        raw = self.client()
        raw.sock.settimeout(20)  # 10 times the 2 s idle timeout: it ends, however busy the machine
        code, text = raw.reply()
        self.assertEqual(code, 421)
        self.assertTrue(text.startswith("4.4.2 "), text)
        self.assertTrue(raw.closed(timeout=20))

    def admitted(self):
        """A connection the server admits. A connection that just closed (the harness's
        readiness probe, a client's QUIT) counts until the server has let go of it: until then
        a new one is refused, so that one is tried again."""
        def attempt():
            raw = RawClient(self.mx.port)
            if raw.reply()[0] == 220:
                return raw
            raw.close()
            return None
        raw = wait_until(attempt, message="a connection admitted")
        self.addCleanup(raw.close)
        return raw

    def test_connections_per_client(self):
        clients = [self.admitted() for _ in range(4)]
        # Four are open: the fifth is refused at once.
        extra = RawClient(self.mx.port)
        self.addCleanup(extra.close)
        code, text = extra.reply()
        self.assertEqual(code, 421)
        self.assertIn("4.7.0", text)
        clients[0].cmd("QUIT")
        self.assertTrue(clients[0].closed())
        self.admitted()


if __name__ == "__main__":
    unittest.main()
