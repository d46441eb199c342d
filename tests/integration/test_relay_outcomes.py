"""What the sender is told when destinations fail, and SRS bounces finding their way back."""

import re
import smtplib
import unittest

from harness import Sealpost, Sink


def msg(tag):
    return f"Subject: {tag}\r\nMessage-ID: <{tag}@origin.test>\r\n\r\nbody {tag}\r\n".encode()


class RelayOutcomeTest(unittest.TestCase):
    def setUp(self):
        self.good = Sink().start()
        self.addCleanup(self.good.stop)
        self.flaky = Sink().start()
        self.addCleanup(self.flaky.stop)
        self.origin = Sink().start()  # the original sender's domain, for bounces
        self.addCleanup(self.origin.stop)
        self.mx = Sealpost(transport={"good.test": self.good.port, "flaky.test": self.flaky.port,
                                      "origin.test": self.origin.port})
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "team@example.com", "--forward", "a@good.test",
                    "--forward", "b@flaky.test")
        self.mx.cli("alias", "add", "one@example.com", "--forward", "c@flaky.test")
        self.mx.start()

    def send(self, rcpt, tag, sender="someone@origin.test"):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            return c.sendmail(sender, [rcpt], msg(tag))

    def test_temporary_failure_then_retry_does_not_duplicate(self):
        self.flaky.data_replies = ["451 4.7.1 Greylisted, try again later"]
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("team@example.com", "retry")
        self.assertEqual(err.exception.smtp_code, 451)
        self.assertIn(b"4.7.1", err.exception.smtp_error)
        self.assertEqual(len(self.good.messages), 1)
        self.assertEqual(len(self.flaky.messages), 0)
        # The sender's queue retries the same message: only the destination that failed gets it.
        self.send("team@example.com", "retry")
        self.assertEqual(len(self.flaky.wait_for(1)), 1)
        self.assertEqual(len(self.good.messages), 1)

    def test_permanent_failure_returns_destination_reason(self):
        self.flaky.rcpt_replies["c@flaky.test"] = "550 5.1.1 <c@flaky.test>: Recipient address rejected"
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("one@example.com", "perm")
        self.assertEqual(err.exception.smtp_code, 550)
        text = err.exception.smtp_error
        self.assertTrue(text.startswith(b"5.1.1 "), text)
        self.assertIn(b"Recipient address rejected", text)
        self.assertNotIn(b"c@flaky.test", text)

    def test_unreachable_destination_is_temporary(self):
        self.flaky.stop()
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("one@example.com", "down")
        self.assertEqual(err.exception.smtp_code, 451)
        self.assertIn(b"4.4.1", err.exception.smtp_error)

    def test_bounce_to_srs_address_reaches_original_sender(self):
        self.send("team@example.com", "to-bounce")
        (fwd,) = self.good.wait_for(1)
        srs_address = fwd.mail_from
        self.assertTrue(srs_address.startswith("SRS0="), srs_address)
        # The destination later bounces to the SRS address with a null sender.
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.sendmail("", [srs_address], msg("bounce"))
        (bounce,) = self.origin.wait_for(1)
        self.assertEqual(bounce.rcpt_tos, ["someone@origin.test"])
        self.assertIn(bounce.mail_from, ("", "<>"))  # the null sender stays null
        # A forged or tampered SRS address is refused.
        forged = re.sub(r"^SRS0=[^=]{4}=", "SRS0=AAAA=", srs_address)
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.ehlo()
            c.mail("")
            code, _ = c.rcpt(forged)
            self.assertEqual(code, 550)

    def test_received_header_without_client_address_when_turned_off(self):
        sink = Sink().start()
        self.addCleanup(sink.stop)
        mx = Sealpost(transport={"good.test": sink.port},
                      extra="[privacy]\nreceived_client_address = false\n")
        self.addCleanup(mx.cleanup)
        mx.cli("domain", "add", "example.com")
        mx.cli("alias", "add", "p@example.com", "--forward", "p@good.test")
        mx.start()
        with smtplib.SMTP("127.0.0.1", mx.port, timeout=30, local_hostname="client.test") as c:
            c.sendmail("s@origin.test", ["p@example.com"], msg("noip"))
        (m,) = sink.wait_for(1)
        received = m.content.split(b"\r\n\r\n")[0]
        self.assertIn(b"Received: from client.test\r\n\tby mx.sealpost.test (Sealpost)", received)
        self.assertNotIn(b"127.0.0.1", received)


if __name__ == "__main__":
    unittest.main()
