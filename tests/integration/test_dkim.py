"""DKIM keys, DNS records and interoperability with dkimpy (Debian's python3-dkim), through a real
DNS server (unbound on 127.0.0.1) serving the records `sealpost domain dns` prints."""

import base64
import os
import re
import subprocess
import tempfile
import unittest

import dkim  # python3-dkim

from dns_server import DnsServer
from harness import Sealpost, free_port, txt_value, zone_records

MESSAGE = (b"From: Alice <alice@example.com>\r\n"
           b"To: Bob <bob@dest.test>\r\n"
           b"Subject: interop  test\r\n"
           b"Date: Wed, 25 Nov 2026 07:00:00 +0000\r\n"
           b"Message-ID: <interop-1@example.com>\r\n"
           b"\r\n"
           b"Hello,  this is\tthe body.\r\n"
           b"\r\n")


class DkimInteropTest(unittest.TestCase):
    def setUp(self):
        self.dns_port = free_port()
        self.mx = Sealpost(dns_port=self.dns_port)
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")

    def serve(self, extra_records=(), publish=True):
        lines = zone_records(self.mx.cli("domain", "dns", "example.com").stdout)
        records = (list(lines) if publish else []) + list(extra_records)
        dns = DnsServer(["example.com", "example.net", "sealpost.test"], records,
                        port=self.dns_port)
        dns.start()
        self.addCleanup(dns.stop)
        return lines, dns

    def test_domain_dns_prints_every_record_and_check_finds_them(self):
        out = self.mx.cli("domain", "dns", "example.com").stdout
        lines = zone_records(out)
        kinds = " ".join(lines)
        self.assertIn("example.com. 3600 IN MX 10 mx.sealpost.test.", lines)
        self.assertIn('example.com. 3600 IN TXT "v=spf1 mx -all"', lines)
        self.assertIn('_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine', kinds)
        keys = [l for l in lines if "._domainkey.example.com." in l]
        self.assertEqual(len(keys), 2, "an RSA and an Ed25519 key")
        self.assertTrue(any("k=rsa" in k for k in keys) and any("k=ed25519" in k for k in keys))
        rsa = next(k for k in keys if "k=rsa" in k)
        strings = re.findall(r'"([^"]*)"', rsa)
        self.assertGreater(len(strings), 1, "an RSA-2048 record needs several strings")
        self.assertTrue(all(len(s) <= 255 for s in strings))

        # No DNS server answers: --check cannot tell, and says so.
        unknown = self.mx.cli("domain", "dns", "example.com", "--check", check=False)
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn("UNKNOWN", unknown.stdout)

        # Nothing is published yet: --check says so and fails.
        _, empty = self.serve(publish=False)
        missing = self.mx.cli("domain", "dns", "example.com", "--check", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertEqual(missing.stdout.count("MISSING"), len(lines), missing.stdout)
        empty.stop()

        self.serve()
        ok = self.mx.cli("domain", "dns", "example.com", "--check", check=False)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("every record is published", ok.stdout)

    def test_sealpost_signs_and_dkimpy_verifies_both_signatures(self):
        lines, _ = self.serve()
        signed = self.mx.cli_bytes("dkim", "sign", "example.com", input=MESSAGE).stdout
        self.assertEqual(signed.count(b"DKIM-Signature:"), 2)
        self.assertIn(b"a=rsa-sha256", signed)
        self.assertIn(b"a=ed25519-sha256", signed)
        records = {l.split()[0].rstrip(".").encode(): txt_value(l).encode() for l in lines
                   if "._domainkey." in l}

        def dnsfunc(name, timeout=5):
            if isinstance(name, str):
                name = name.encode()
            return records.get(name.rstrip(b"."))

        def dkimpy_verifies(message, idx):
            try:
                return dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
            except dkim.ValidationError:
                return False

        self.assertTrue(dkimpy_verifies(signed, 0), "dkimpy verifies the RSA signature")
        self.assertTrue(dkimpy_verifies(signed, 1), "dkimpy verifies the Ed25519 one")
        # And our own verifier through the real DNS server.
        result = self.mx.cli_bytes("dkim", "verify", input=signed, check=False)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(result.stdout.count(b"dkim=pass"), 2, result.stdout)
        # A changed body breaks both, for dkimpy and for us.
        tampered = signed.replace(b"the body", b"the b0dy")
        self.assertFalse(dkimpy_verifies(tampered, 0))
        self.assertFalse(dkimpy_verifies(tampered, 1))
        result = self.mx.cli_bytes("dkim", "verify", input=tampered, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout.count(b"dkim=fail"), 2, result.stdout)

    def test_dkimpy_signs_and_sealpost_verifies(self):
        work = tempfile.mkdtemp(prefix="dkimpy-")
        rsa_pem = os.path.join(work, "rsa.pem")
        ed_pem = os.path.join(work, "ed.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", rsa_pem], check=True, capture_output=True)
        subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", ed_pem], check=True,
                       capture_output=True)
        rsa_pub = subprocess.run(["openssl", "pkey", "-in", rsa_pem, "-pubout", "-outform", "DER"],
                                 check=True, capture_output=True).stdout
        ed_pub = subprocess.run(["openssl", "pkey", "-in", ed_pem, "-pubout", "-outform", "DER"],
                                check=True, capture_output=True).stdout[-32:]
        ed_seed = subprocess.run(["openssl", "pkey", "-in", ed_pem, "-outform", "DER"],
                                 check=True, capture_output=True).stdout[-32:]
        rsa_b64 = base64.b64encode(rsa_pub).decode()
        rsa_txt = " ".join(f'"{rsa_b64[i:i + 200]}"' for i in range(0, len(rsa_b64), 200))
        self.serve([
            f'py._domainkey.example.net. 300 IN TXT "v=DKIM1; k=rsa; p=" {rsa_txt}',
            f'pyed._domainkey.example.net. 300 IN TXT "v=DKIM1; k=ed25519; p={base64.b64encode(ed_pub).decode()}"',
        ])
        with open(rsa_pem, "rb") as f:
            rsa_key = f.read()
        message = MESSAGE.replace(b"example.com", b"example.net")
        for canon in [(b"simple", b"simple"), (b"relaxed", b"relaxed"), (b"relaxed", b"simple"),
                      (b"simple", b"relaxed")]:
            with self.subTest(canon=canon):
                sig = dkim.sign(message, b"py", b"example.net", rsa_key, canonicalize=canon,
                                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
                sig += dkim.sign(message, b"pyed", b"example.net", base64.b64encode(ed_seed),
                                 canonicalize=canon, signature_algorithm=b"ed25519-sha256",
                                 include_headers=[b"from", b"to", b"subject", b"date"])
                signed = sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + message
                result = self.mx.cli_bytes("dkim", "verify", input=signed, check=False)
                self.assertEqual(result.stdout.count(b"dkim=pass"), 2, result.stdout)
                self.assertIn(b"header.a=ed25519-sha256", result.stdout)

    def test_rotation_keeps_old_selectors_published_until_they_retire(self):
        before = [l.split()[0] for l in self.mx.cli("dkim", "list", "example.com").stdout.splitlines()]
        self.assertEqual(len(before), 2)
        out = self.mx.cli("dkim", "rotate", "example.com", "--publish-hours", "0").stdout
        self.assertEqual(out.count("._domainkey.example.com."), 2)
        listing = self.mx.cli("dkim", "list", "example.com").stdout
        self.assertEqual(listing.count("retiring"), 2, listing)
        self.assertEqual(listing.count("active"), 2, listing)
        # Both generations stay in the records to publish during the grace period.
        dns = self.mx.cli("domain", "dns", "example.com").stdout
        self.assertEqual(dns.count("._domainkey.example.com."), 4)
        # Signing uses the new selectors.
        signed = self.mx.cli_bytes("dkim", "sign", "example.com", input=MESSAGE).stdout
        for old in before:
            self.assertNotIn(f"s={old};".encode(), signed)


if __name__ == "__main__":
    unittest.main()
