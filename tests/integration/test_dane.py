"""DANE for SMTP (RFC 7672) on the way out, with real peers on loopback: zones signed with
ldns-signzone and served by unbound (Sealpost's trust anchor is their keys), TLSA records naming the
sink's key (DANE-EE, "3 1 1"), and an SMTP sink as every MX host. Where the MX and TLSA records are
DNSSEC-secure, mail goes only over TLS to a certificate that matches them; otherwise it waits."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from dns_server import DnsServer
from harness import Sealpost, Sink, free_port, make_cert, wait_until

PASSWORD = "correct horse battery staple"
ALICE = "alice@example.com"

ZONE = """$ORIGIN {name}.
$TTL 300
@ IN SOA ns.{name}. admin.{name}. 1 3600 600 86400 300
@ IN NS ns.{name}.
ns IN A 127.0.0.1
@ IN MX 10 mx.{name}.
mx IN A 127.0.0.1
{tlsa}
"""


def spki_sha256(cert):
    """The SHA-256 of a certificate's SubjectPublicKeyInfo (a "3 1 1" TLSA record's data)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def sign_zone(work, name, tlsa):
    """Writes and signs a zone; returns (signed zone file, DNSKEY line for the trust anchor)."""
    zone = os.path.join(work, f"{name}.zone")
    with open(zone, "w") as f:
        f.write(ZONE.format(name=name, tlsa=tlsa))
    key = subprocess.run(["ldns-keygen", "-a", "ED25519", "-k", name], cwd=work, check=True,
                         capture_output=True, text=True).stdout.strip()
    subprocess.run(["ldns-signzone", "-n", zone, key], cwd=work, check=True, capture_output=True)
    with open(os.path.join(work, key + ".key")) as f:
        anchor = f.read().split(";")[0].strip()
    return zone + ".signed", anchor


class DaneTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="dane-test-")
        # The CLI and the server, run as root, act as the server's user: they read the trust
        # anchor from here.
        os.chmod(self.work, 0o711)
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.sink_cert = make_cert(self.work, "mx.dane.test")
        digest = spki_sha256(self.sink_cert[0])
        zones, anchors = [], []
        for name, tlsa in (("dane.test", f"_25._tcp.mx IN TLSA 3 1 1 {digest}"),
                           ("wrongdane.test", "_25._tcp.mx IN TLSA 3 1 1 " + "ab" * 32),
                           ("nodane.test", "")):
            signed, anchor = sign_zone(self.work, name, tlsa)
            zones.append((name, signed))
            anchors.append(anchor)
        anchor_file = os.path.join(self.work, "anchors.key")
        with open(anchor_file, "w") as f:
            f.write("\n".join(anchors) + "\n")
        self.dns = DnsServer([], [], auth_zones=zones)
        self.dns.start()
        self.addCleanup(self.dns.stop)

        self.sink_port = free_port()
        self.sink = Sink(tls=True, port=self.sink_port, cert=self.sink_cert).start()
        self.addCleanup(lambda: self.sink.stop())
        self.mx = Sealpost(dns_port=self.dns.port, listen=("submission",),
                           extra=f'[relay]\nport = {self.sink_port}\n\n[queue]\nretry = "1h"\n')
        with open(self.mx.config) as f:
            text = f.read()
        with open(self.mx.config, "w") as f:
            f.write(text.replace('trust_anchor = ""', f'trust_anchor = "{anchor_file}"'))
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.add_mailbox(ALICE, PASSWORD)
        self.mx.start()

    def send(self, *recipients):
        self.mx.submit(ALICE, PASSWORD, recipients)

    def shown_after_attempt(self, recipient):
        """`queue show` of the entry for `recipient` once it has been attempted."""
        def attempted():
            for line in self.mx.cli("queue", "list").stdout.splitlines()[1:]:
                text = self.mx.cli("queue", "show", line.split()[0]).stdout
                if f"recipient: <{recipient}> " in text and "attempts=0" not in text:
                    return text
            return None
        return wait_until(attempted, interval=0.2, message=f"an attempt for {recipient}")

    def test_tlsa_records_decide_where_mail_may_go(self):
        # The sink's key matches dane.test's TLSA record: delivered over TLS.
        self.send("bob@dane.test")
        got = self.sink.wait_for(1, timeout=30)
        self.assertEqual([m.rcpt_tos for m in got], [["bob@dane.test"]])
        self.assertTrue(got[0].tls)
        # wrongdane.test's record names another key: refused, the mail waits.
        self.send("carol@wrongdane.test")
        shown = self.shown_after_attempt("carol@wrongdane.test")
        self.assertIn(" pending ", shown)
        self.assertIn("4.7.5 Server certificate not verified", shown)
        self.assertEqual(len(self.sink.messages), 1)

        # An MX without STARTTLS: dane.test's mail waits, nodane.test's (signed, no TLSA) goes.
        self.sink.stop()
        self.sink = Sink(port=self.sink_port).start()
        self.send("dave@dane.test", "erin@nodane.test")
        shown = self.shown_after_attempt("dave@dane.test")
        self.assertIn("4.7.5 TLS is required, but was not offered by the host", shown)
        got = self.sink.wait_for(1, timeout=30)
        self.assertEqual([m.rcpt_tos for m in got], [["erin@nodane.test"]])
        self.assertFalse(got[0].tls)
        # dane.test's attempt is recorded as refused (above), and its next try is an hour away.
        self.assertEqual(len(self.sink.messages), 1, "nothing for dane.test in plaintext")


if __name__ == "__main__":
    unittest.main()
