"""DNSSEC validation by the resolver (libunbound), through a real DNS server: zones signed with
ldns-signzone and served by unbound; Sealpost's trust anchor is the zones' keys. Signed data is
"secure", tampered data "bogus" (and dropped), data outside any anchor "insecure"."""

import os
import subprocess
import tempfile
import unittest

from dns_server import DnsServer
from harness import Sealpost, free_port

ZONE = """$ORIGIN {name}.
$TTL 300
@ IN SOA ns.{name}. admin.{name}. 1 3600 600 86400 300
@ IN NS ns.{name}.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 -all"
hello IN TXT "hello {name}"
@ IN MX 10 mx.{name}.
mx IN A 192.0.2.25
_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
"""


def sign_zone(work, name, tamper=False):
    """Writes and signs a zone; returns (signed zone file, DNSKEY line for the trust anchor)."""
    zone = os.path.join(work, f"{name}.zone")
    with open(zone, "w") as f:
        f.write(ZONE.format(name=name))
    key = subprocess.run(["ldns-keygen", "-a", "ED25519", "-k", name], cwd=work, check=True,
                         capture_output=True, text=True).stdout.strip()
    subprocess.run(["ldns-signzone", "-n", zone, key], cwd=work, check=True, capture_output=True)
    signed = zone + ".signed"
    if tamper:  # change signed data: its RRSIG no longer matches
        with open(signed) as f:
            text = f.read()
        with open(signed, "w") as f:
            f.write(text.replace(f'"hello {name}"', '"forged"'))
    with open(os.path.join(work, key + ".key")) as f:
        anchor = f.read().split(";")[0].strip()
    return signed, anchor


class DnssecTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="dnssec-")
        secure, anchor1 = sign_zone(cls.work, "secure.test")
        bogus, anchor2 = sign_zone(cls.work, "bogus.test", tamper=True)
        cls.dns = DnsServer(["plain.test"], ['plain.test. 300 IN TXT "unsigned"'],
                            auth_zones=[("secure.test", secure), ("bogus.test", bogus)]).start()
        anchors = os.path.join(cls.work, "anchors.key")
        with open(anchors, "w") as f:
            f.write(anchor1 + "\n" + anchor2 + "\n")
        cls.mx = Sealpost(dns_port=cls.dns.port)
        with open(cls.mx.config) as f:
            text = f.read()
        with open(cls.mx.config, "w") as f:
            f.write(text.replace('trust_anchor = ""', f'trust_anchor = "{anchors}"'))

    @classmethod
    def tearDownClass(cls):
        cls.mx.cleanup()
        cls.dns.stop()

    def lookup(self, name, rtype="TXT"):
        r = self.mx.cli("dns", "lookup", name, "--type", rtype, check=False)
        return r.returncode, r.stdout

    def test_signed_answers_are_secure(self):
        for name, rtype, want in [("hello.secure.test", "TXT", '"hello secure.test"'),
                                  ("secure.test", "MX", "10 mx.secure.test."),
                                  ("mx.secure.test", "A", "192.0.2.25"),
                                  ("_25._tcp.mx.secure.test", "TLSA", "3 1 1 0123456789abcdef")]:
            with self.subTest(name=name, rtype=rtype):
                rc, out = self.lookup(name, rtype)
                self.assertEqual(rc, 0, out)
                self.assertIn("status=ok dnssec=secure", out)
                self.assertIn(want, out)

    def test_signed_denial_is_secure(self):
        rc, out = self.lookup("missing.secure.test")
        self.assertNotEqual(rc, 0)
        self.assertIn("status=nxdomain dnssec=secure", out)

    def test_tampered_answers_are_bogus_and_dropped(self):
        rc, out = self.lookup("hello.bogus.test")
        self.assertNotEqual(rc, 0)
        self.assertIn("dnssec=bogus", out)
        self.assertNotIn("forged", out)

    def test_data_outside_the_anchors_is_insecure(self):
        rc, out = self.lookup("plain.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("status=ok dnssec=insecure", out)
        self.assertIn('"unsigned"', out)


if __name__ == "__main__":
    unittest.main()
