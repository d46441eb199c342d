"""Forwarding through the MX: real clients (smtplib, swaks) in, a real sink (aiosmtpd) out."""

import email
import smtplib
import ssl
import subprocess
import unittest

from harness import RawClient, Sealpost, Sink, cli_then_reload


def message(subject="hello", body="Hi there.\r\n", sender="alice@sender.test", to="x@y.test"):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@sender.test>\r\n\r\n{body}").encode()


class ForwardingTest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        self.sink2 = Sink(tls=True).start()
        self.addCleanup(self.sink2.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port, "other.test": self.sink2.port})
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("domain", "add", "Bücher.example")
        self.mx.cli("alias", "add", "hello@example.com", "--forward", "me@dest.test",
                    "--forward", "you@other.test")
        self.mx.cli("alias", "add", "solo@example.com", "--forward", "solo@dest.test")
        self.mx.cli("alias", "add", "*@xn--bcher-kva.example", "--forward", "books@dest.test")
        self.mx.start()

    def smtp(self):
        client = smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30)
        self.addCleanup(client.close)
        return client

    def test_forwards_to_every_destination_with_srs_and_received(self):
        with self.smtp() as c:
            c.sendmail("alice@sender.test", ["hello@example.com"], message("multi"))
        (m1,) = self.sink.wait_for(1)
        (m2,) = self.sink2.wait_for(1)
        self.assertEqual(m1.rcpt_tos, ["me@dest.test"])
        self.assertEqual(m2.rcpt_tos, ["you@other.test"])
        for m in (m1, m2):
            # SRS0=HHHH=TT=sender.test=alice@<our hostname>: SPF at the destination checks us.
            self.assertRegex(m.mail_from, r"^SRS0=[^=]{4}=[A-Z2-7]{2}=sender\.test=alice@mx\.sealpost\.test$")
            parsed = email.message_from_bytes(m.content)
            self.assertEqual(parsed["Subject"], "multi")
            self.assertIn("by mx.sealpost.test (Sealpost)", parsed["Received"])
            self.assertIn("[127.0.0.1]", parsed["Received"])
        # The destination that offers STARTTLS got the message over TLS.
        self.assertTrue(m2.tls)
        self.assertFalse(m1.tls)

    def test_swaks_over_starttls(self):
        result = subprocess.run(
            ["swaks", "--server", f"127.0.0.1:{self.mx.port}", "--tls", "--to", "solo@example.com",
             "--from", "bob@sender.test", "--header", "Subject: via swaks", "--timeout", "30"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("250 2.0.0", result.stdout)
        (m,) = self.sink.wait_for(1)
        self.assertEqual(m.rcpt_tos, ["solo@dest.test"])
        self.assertIn("ESMTPS", email.message_from_bytes(m.content)["Received"])

    def test_smtplib_starttls_then_send(self):
        with self.smtp() as c:
            c.ehlo()
            self.assertTrue(c.has_extn("starttls"))
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c.starttls(context=ctx)
            c.ehlo()
            self.assertFalse(c.has_extn("starttls"))
            c.sendmail("alice@sender.test", ["solo@example.com"], message("tls"))
        self.assertEqual(len(self.sink.wait_for(1)), 1)

    def test_plus_addressing_case_and_catch_all_and_idn(self):
        with self.smtp() as c:
            c.sendmail("a@sender.test", ["Solo+news@Example.COM"], message("plus"))
            c.sendmail("a@sender.test", ["anyone@xn--bcher-kva.example"], message("idn"))
            c.ehlo()
            # A U-label domain is the same domain (stored and compared as an A-label).
            code, _ = c.docmd("MAIL FROM:<a@sender.test> SMTPUTF8")
            self.assertEqual(code, 250)
            c.command_encoding = "utf-8"
            code, _ = c.docmd("RCPT TO:<leser@bücher.example>")
            self.assertEqual(code, 250)
            c.rset()
        msgs = self.sink.wait_for(2)
        self.assertEqual(sorted(m.rcpt_tos[0] for m in msgs), ["books@dest.test", "solo@dest.test"])

    def test_unknown_user_and_relay_refusals(self):
        with self.smtp() as c:
            c.ehlo()
            c.mail("a@sender.test")
            code, text = c.rcpt("nobody@example.com")
            self.assertEqual((code, text[:5]), (550, b"5.1.1"))
            code, text = c.rcpt("someone@elsewhere.test")
            self.assertEqual((code, text[:5]), (550, b"5.7.1"))
            for trick in ["<solo%elsewhere.test@example.com>", "<elsewhere.test!solo@example.com>",
                          '<"solo@elsewhere.test"@example.com>', "<@example.com:solo@elsewhere.test>",
                          "<@example.com:solo@example.com>", "<solo@[127.0.0.1]>"]:
                code, text = c.docmd("RCPT TO:" + trick)
                self.assertEqual((code, text[:5]), (550, b"5.7.1"), trick)
            code, text = c.docmd("DATA")
            self.assertEqual(code, 554)
        self.assertEqual(self.sink.messages, [])

    def test_pipelined_transaction_in_one_write(self):
        raw = RawClient(self.mx.port)
        self.addCleanup(raw.close)
        self.assertEqual(raw.reply()[0], 220)
        self.assertIn("PIPELINING", raw.cmd("EHLO client.test")[1])
        raw.send("MAIL FROM:<p@sender.test>\r\nRCPT TO:<solo@example.com>\r\n"
                 "RCPT TO:<nobody@example.com>\r\nDATA\r\n")
        self.assertEqual([raw.reply()[0] for _ in range(4)], [250, 250, 550, 354])
        raw.send(b"Subject: piped\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n")
        self.assertEqual(raw.reply()[0], 250)
        self.assertEqual(raw.reply()[0], 221)
        (m,) = self.sink.wait_for(1)
        self.assertIn(b"\r\n.leading dot\r\n", m.content)

    def test_bdat_chunks(self):
        raw = RawClient(self.mx.port)
        self.addCleanup(raw.close)
        raw.reply()
        self.assertIn("CHUNKING", raw.cmd("EHLO client.test")[1])
        raw.cmd("MAIL FROM:<c@sender.test>")
        raw.cmd("RCPT TO:<solo@example.com>")
        part1 = b"Subject: chunked\r\n\r\nfirst part\r\n"
        part2 = b".second part starts with a dot\r\n"
        raw.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(raw.reply()[0], 250)
        raw.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        self.assertEqual(raw.reply()[0], 250)
        (m,) = self.sink.wait_for(1)
        self.assertTrue(m.content.endswith(part1 + part2))

    def test_8bitmime_and_smtputf8(self):
        body = "Grüße aus Köln\r\n".encode()
        with self.smtp() as c:
            c.ehlo()
            self.assertTrue(c.has_extn("8bitmime"))
            self.assertTrue(c.has_extn("smtputf8"))
            c.sendmail("a@sender.test", ["solo@example.com"],
                       b"Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body,
                       mail_options=["BODY=8BITMIME"])
            c.sendmail("jörg@sender.test", ["solo@example.com"], b"Subject: utf8\r\n\r\n" + body,
                       mail_options=["SMTPUTF8"])
        msgs = self.sink.wait_for(2)
        self.assertEqual(len(msgs), 2)
        self.assertTrue(all(body in m.content for m in msgs))
        self.assertIn("SMTPUTF8", msgs[1].mail_options)

    def test_connections_to_a_destination_are_reused(self):
        with self.smtp() as c:
            for i in range(5):
                c.sendmail("a@sender.test", ["solo@example.com"], message(f"reuse {i}"))
        self.assertEqual(len(self.sink.wait_for(5)), 5)
        # One connection (one EHLO) carried all five messages.
        self.assertEqual(self.sink.greetings, 1)

    def test_duplicate_destinations_get_one_copy(self):
        # Before the running server has the new alias, twin@ would be refused and the test
        # would pass without a duplicate to remove.
        cli_then_reload(self.mx, "alias", "add", "twin@example.com", "--forward", "solo@dest.test")
        with self.smtp() as c:
            refused = c.sendmail("a@sender.test", ["solo@example.com", "twin@example.com"],
                                 message("dup"))
        self.assertEqual(refused, {})
        # The MX answers after relaying: what the sink has now is all it gets.
        self.assertEqual([m.rcpt_tos for m in self.sink.messages], [["solo@dest.test"]])


if __name__ == "__main__":
    unittest.main()
