"""Relaying by MX records from a real DNS server (unbound on 127.0.0.1): preference order,
fallback to the next MX, the implicit MX, null MX and nonexistent domains."""

import smtplib
import unittest

from dns_server import DnsServer
from harness import Sealpost, Sink


class MxLookupTest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        records = [
            # Preference 5 points to an address where nothing listens: the next MX takes it.
            "dest.test. 300 IN MX 5 dead.dest.test.",
            "dest.test. 300 IN MX 10 mx1.dest.test.",
            "dead.dest.test. 300 IN A 127.0.0.2",
            "mx1.dest.test. 300 IN A 127.0.0.1",
            # No MX: the domain's own address is the implicit MX (RFC 5321 section 5.1).
            "implicit.test. 300 IN A 127.0.0.1",
            # Null MX (RFC 7505): the domain accepts no mail.
            "nullmx.test. 300 IN MX 0 .",
        ]
        self.dns = DnsServer(["dest.test", "implicit.test", "nullmx.test", "missing.test"],
                             records).start()
        self.addCleanup(self.dns.stop)
        self.mx = Sealpost(extra=f"[relay]\nport = {self.sink.port}\n"
                                 f"[limits]\nrelay_connect_timeout = 2\n")
        # Point the resolver at our DNS server (replacing the unused default).
        with open(self.mx.config) as f:
            text = f.read()
        import re
        text = re.sub(r'servers = \["127\.0\.0\.1:\d+"\]', f'servers = ["127.0.0.1:{self.dns.port}"]', text)
        with open(self.mx.config, "w") as f:
            f.write(text)
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "a@example.com", "--forward", "a@dest.test")
        self.mx.cli("alias", "add", "b@example.com", "--forward", "b@implicit.test")
        self.mx.cli("alias", "add", "n@example.com", "--forward", "n@nullmx.test")
        self.mx.cli("alias", "add", "m@example.com", "--forward", "m@missing.test")
        self.mx.start()

    def send(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=60) as c:
            return c.sendmail("s@origin.test", [rcpt], b"Subject: mx\r\n\r\nbody\r\n")

    def test_mx_order_with_fallback_and_implicit_mx(self):
        self.send("a@example.com")
        self.send("b@example.com")
        msgs = self.sink.wait_for(2)
        self.assertEqual(sorted(m.rcpt_tos[0] for m in msgs), ["a@dest.test", "b@implicit.test"])

    def test_null_mx_and_missing_domain_fail_permanently(self):
        for rcpt, enhanced in [("n@example.com", b"5.1.10"), ("m@example.com", b"5.1.2")]:
            with self.subTest(rcpt=rcpt):
                with self.assertRaises(smtplib.SMTPDataError) as err:
                    self.send(rcpt)
                self.assertGreaterEqual(err.exception.smtp_code, 550)
                self.assertTrue(err.exception.smtp_error.startswith(enhanced), err.exception.smtp_error)


if __name__ == "__main__":
    unittest.main()
