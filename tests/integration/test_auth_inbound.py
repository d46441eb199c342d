"""Inbound authentication on the MX, end to end: SPF, DKIM (signed by dkimpy) and DMARC looked up
in a real DNS server (unbound on 127.0.0.1); the verdict in Authentication-Results on the
forwarded copy, p=reject failures refused at DATA with 550 5.7.1, forged results removed. DMARC
aggregate reports go through the outbound queue to an SMTP sink standing for the rua= addresses'
servers."""

import base64
import email
import email.policy
import gzip
import os
import re
import smtplib
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import dkim  # python3-dkim

from dns_server import DnsServer
from harness import Sealpost, Sink, cli_then_reload, free_port, wait_for_log

AUTHSERV = "mx.sealpost.test"


def message(sender, subject="auth test", extra=b""):
    return extra + (f"From: Sender <{sender}>\r\nTo: a@example.com\r\nSubject: {subject}\r\n"
                    f"Message-ID: <{subject.replace(' ', '-')}@origin>\r\n\r\nHello.\r\n").encode()


def header_block(content):
    return content.split(b"\r\n\r\n", 1)[0].decode()


class InboundAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        work = tempfile.mkdtemp(prefix="auth-")
        cls.key_pem = os.path.join(work, "rsa.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.key_pem], check=True, capture_output=True)
        pub = subprocess.run(["openssl", "pkey", "-in", cls.key_pem, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        b64 = base64.b64encode(pub).decode()
        key_txt = " ".join(f'"{b64[i:i + 200]}"' for i in range(0, len(b64), 200))
        cls.records = [
            'good.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
            '_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject"',
            'spoofed.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
            # Reports to the domain itself, to reports.test (which agreed to take spoofed.test's,
            # RFC 7489 7.1), to unverified.test (which did not), and to an address taking none
            # over 100 octets.
            '_dmarc.spoofed.test. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:r@spoofed.test,'
            'mailto:agg@reports.test,mailto:nope@unverified.test,mailto:tiny@spoofed.test!100"',
            'quar.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
            '_dmarc.quar.test. 300 IN TXT "v=DMARC1; p=quarantine"',
            '_dmarc.signed.test. 300 IN TXT "v=DMARC1; p=reject; adkim=s"',
            f'sel._domainkey.signed.test. 300 IN TXT "v=DKIM1; k=rsa; p=" {key_txt}',
            # p=none: delivered, and reported to reports.test and unverified.test.
            'ext.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
            '_dmarc.ext.test. 300 IN TXT "v=DMARC1; p=none; '
            'rua=mailto:nope@unverified.test,mailto:agg@reports.test"',
            'spoofed.test._report._dmarc.reports.test. 300 IN TXT "v=DMARC1"',
            'ext.test._report._dmarc.reports.test. 300 IN TXT "v=DMARC1;"',
        ]
        cls.zones = ["good.test", "spoofed.test", "quar.test", "signed.test", "ext.test",
                     "reports.test", "unverified.test"]
        cls.dns = DnsServer(cls.zones, cls.records).start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def start(self, extra="", publish_own_records=False, host_domain=False):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        # Where DMARC aggregate reports arrive, whichever rua= domain they go to.
        self.reports = Sink().start()
        self.addCleanup(self.reports.stop)
        # With publish_own_records, a DNS server of its own also serves example.com's records
        # as `sealpost domain dns` prints them (its DKIM keys, so its ARC seals can be checked).
        port = free_port() if publish_own_records else self.dns.port
        transport = {"dest.test": self.sink.port}
        transport.update({d: self.reports.port
                          for d in ("spoofed.test", "reports.test", "unverified.test")})
        self.mx = Sealpost(transport=transport, dns_port=port, auth=True, extra=extra)
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        if host_domain:  # our host name's domain: our reports are DKIM-signed with its keys
            self.mx.cli("domain", "add", "sealpost.test")
        self.mx.cli("alias", "add", "a@example.com", "--forward", "a@dest.test")
        if publish_own_records:
            own = [l for l in self.mx.cli("domain", "dns", "example.com").stdout.splitlines()
                   if l and not l.startswith(";") and "example.com. " in l]
            dns = DnsServer(self.zones + ["example.com"], self.records + own, port=port).start()
            self.addCleanup(dns.stop)
        self.mx.start()

    def send(self, mail_from, content):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=60) as c:
            c.ehlo("client.good.test")
            return c.sendmail(mail_from, ["a@example.com"], content)

    def test_spf_pass_and_dmarc_pass_are_recorded(self):
        self.start()
        self.send("s@good.test", message("s@good.test"))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn(f"Authentication-Results: {AUTHSERV};", h)
        self.assertIn("spf=pass smtp.mailfrom=good.test", h)
        self.assertIn("dkim=none", h)
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=good.test", h)

    def test_dmarc_reject_is_refused_at_data(self):
        self.start(host_domain=True)
        self.send("s@good.test", message("s@good.test"))  # good.test asks for no reports
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("s@spoofed.test", message("ceo@spoofed.test"))
        self.assertEqual(err.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", err.exception.smtp_error)
        self.assertIn(b"DMARC", err.exception.smtp_error)
        self.assertEqual(len(self.sink.messages), 1, "only the good.test message was forwarded")
        # The log says what happened, not who was involved.
        log = self.mx.log_text()
        self.assertIn("dmarc=fail", log)
        self.assertIn("reply=550", log)
        self.assertNotIn("spoofed.test", log)
        self.assertNotIn("ceo@", log)
        # spoofed.test asked for aggregate reports (rua=): queued (sealed) at a clean shutdown,
        # delivered when the server runs again.
        with self.assertRaises(smtplib.SMTPDataError):
            self.send("s@spoofed.test", message("ceo@spoofed.test", "again"))
        self.mx.stop()
        self.assertEqual(self.mx.exit_code, 0)
        log = self.mx.log_text()
        self.assertIn("dmarc reports queued=1 failed=0 uris_unverified=1 "
                      "uris_over_size_limit=1", log)
        for secret in ("spoofed.test", "reports.test", "unverified.test", "tiny@"):
            self.assertNotIn(secret, log)
        self.assert_no_plaintext_report(b"Report Domain: spoofed.test")
        self.assertEqual(self.reports.messages, [])

        self.mx.start()
        # One message, delivered once per destination domain: unverified.test never agreed,
        # tiny@ takes nothing over 100 octets.
        got = self.reports.wait_for(2, timeout=30)
        # The report's queue entry is recorded with nobody left to try: no other copy will come.
        wait_for_log(self.mx, r"queue entry=\S+ .* pending=no")
        self.assertEqual(len(got), 2)
        self.assertEqual(sorted(r for m in got for r in m.rcpt_tos),
                         ["agg@reports.test", "r@spoofed.test"])
        self.assertEqual(got[0].content, got[1].content)
        report = got[0]
        self.assertEqual(report.mail_from, "<>", "reports go from the null sender")
        msg = email.message_from_bytes(report.content, policy=email.policy.default)
        self.assertEqual(msg["To"], "r@spoofed.test, agg@reports.test")
        self.assertRegex(msg["Subject"], r"^Report Domain: spoofed\.test Submitter: "
                                         r"mx\.sealpost\.test Report-ID: <[0-9a-f]+@mx\.sealpost\.test>$")
        self.assertEqual(msg["From"], "reports-noreply@mx.sealpost.test")
        self.assertTrue(msg["Date"] and msg["Message-ID"])
        root = self.report_xml(msg, "spoofed.test")
        self.assertEqual(root.findtext("policy_published/domain"), "spoofed.test")
        self.assertEqual(root.findtext("policy_published/p"), "reject")
        self.assertEqual(root.findtext("report_metadata/org_name"), AUTHSERV)
        self.assertIn(root.findtext("report_metadata/report_id"), msg["Subject"])
        records = root.findall("record")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0].findtext("row/source_ip"), "127.0.0.1")
        self.assertEqual(records[0].findtext("row/count"), "2")
        self.assertEqual(records[0].findtext("row/policy_evaluated/disposition"), "reject")
        self.assertEqual(records[0].findtext("row/policy_evaluated/spf"), "fail")
        self.assertEqual(records[0].findtext("identifiers/header_from"), "spoofed.test")
        self.assertEqual(records[0].findtext("auth_results/spf/result"), "fail")
        # We host our host name's domain: the report carries its DKIM signature, which dkimpy
        # verifies against the keys `sealpost domain dns` publishes.
        self.assertIn(b"DKIM-Signature:", report.content.split(b"\r\n\r\n", 1)[0])
        self.assertTrue(dkim.verify(report.content, dnsfunc=self.own_keys("sealpost.test")),
                        "the report's DKIM signature verifies")

    def test_external_report_address_gets_reports_only_when_its_domain_agreed(self):
        # The queue's clock, which the test moves a day ahead to get the day's reports.
        clock_dir = tempfile.mkdtemp(prefix="auth-clock-")
        os.chmod(clock_dir, 0o711)  # the server reads it as its unprivileged user
        clock = os.path.join(clock_dir, "clock")
        with open(clock, "w") as f:
            f.write("0\n")
        os.environ["SEALPOST_TEST_CLOCK_FILE"] = clock
        self.addCleanup(os.environ.pop, "SEALPOST_TEST_CLOCK_FILE", None)
        self.start()
        self.send("s@ext.test", message("s@ext.test", "p none"))
        self.sink.wait_for(1)
        with open(clock, "w") as f:
            f.write("86400\n")
        got = self.reports.wait_for(1, timeout=30)
        self.assertEqual(len(got), 1)
        # reports.test publishes ext.test._report._dmarc.reports.test; unverified.test publishes
        # nothing and gets nothing.
        self.assertEqual(got[0].rcpt_tos, ["agg@reports.test"])
        msg = email.message_from_bytes(got[0].content, policy=email.policy.default)
        self.assertTrue(msg["Subject"].startswith("Report Domain: ext.test Submitter: "))
        self.assertNotIn("unverified.test", msg["To"])
        records = self.report_xml(msg, "ext.test").findall("record")
        self.assertEqual([(r.findtext("row/source_ip"), r.findtext("row/count"),
                           r.findtext("row/policy_evaluated/disposition"))
                          for r in records], [("127.0.0.1", "1", "none")])
        self.assertIn("dmarc reports queued=1 failed=0 uris_unverified=1 uris_over_size_limit=0",
                      self.mx.log_text())
        # Nothing more goes at shutdown: the day's report is out, nothing was counted since.
        self.mx.stop()
        self.assertEqual(len(self.reports.messages), 1)
        self.assert_no_plaintext_report(b"Report Domain: ext.test")

    def report_xml(self, msg, policy_domain):
        """The report's XML: its one application/gzip attachment, named as RFC 7489 7.2.1.1 says."""
        parts = [p for p in msg.walk() if p.get_content_type() == "application/gzip"]
        self.assertEqual(len(parts), 1)
        name = parts[0].get_filename()
        self.assertRegex(name, rf"^{re.escape(AUTHSERV)}!{re.escape(policy_domain)}!\d+!\d+\.xml\.gz$")
        begin, end = (int(x) for x in name[:-len(".xml.gz")].split("!")[2:])
        self.assertLessEqual(begin, end)
        root = ET.fromstring(gzip.decompress(parts[0].get_content()))
        self.assertEqual(root.findtext("report_metadata/date_range/begin"), str(begin))
        self.assertEqual(root.findtext("report_metadata/date_range/end"), str(end))
        return root

    def own_keys(self, domain):
        """A dkimpy dnsfunc answering with the DKIM keys `sealpost domain dns` prints."""
        records = {}
        for line in self.mx.cli("domain", "dns", domain).stdout.splitlines():
            if "._domainkey." in line:
                records[line.split()[0].rstrip(".").encode()] = "".join(
                    re.findall(r'"([^"]*)"', line)).encode()

        def dnsfunc(name, timeout=5):
            if isinstance(name, str):
                name = name.encode()
            return records.get(name.rstrip(b"."))
        return dnsfunc

    def assert_no_plaintext_report(self, marker):
        """No report file anywhere under the data directory, and no file there holding the
        report in the clear (the queue seals it)."""
        for root, _, files in os.walk(self.mx.data_dir):
            for name in files:
                self.assertFalse(name.endswith(".xml.gz"), os.path.join(root, name))
                self.assertFalse(name.endswith(".rua"), os.path.join(root, name))
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(marker, f.read(), os.path.join(root, name))

    def test_operator_can_quarantine_instead_of_reject(self):
        self.start(extra='[auth]\ndmarc_reject_action = "quarantine"\n')
        self.send("s@spoofed.test", message("ceo@spoofed.test"))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("spf=fail", h)
        self.assertIn("dmarc=fail (p=reject dis=quarantine) header.from=spoofed.test", h)

    def test_quarantine_policy_is_delivered_marked(self):
        self.start()
        self.send("s@quar.test", message("s@quar.test"))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test", h)

    def test_quarantined_mail_lands_in_the_mailbox_junk_folder(self):
        self.start()
        pw = os.path.join(self.mx.dir, "pw")
        with open(pw, "w") as f:
            f.write("a mailbox password\n")
        cli_then_reload(self.mx, "mailbox", "add", "a@example.com", "--password-file", pw)
        self.send("s@quar.test", message("s@quar.test", "quarantined"))
        self.send("s@good.test", message("s@good.test", "welcome"))
        self.sink.wait_for(2)  # a@ also forwards
        out = os.path.join(self.mx.dir, "export")
        self.mx.cli("mailbox", "export", "a@example.com", "--format", "eml", "-o", out,
                    "--password-file", pw)
        with open(os.path.join(out, "Junk", "1.eml"), "rb") as f:
            junk = f.read()
        self.assertIn(b"Subject: quarantined", junk)
        self.assertIn(b"dmarc=fail (p=quarantine dis=quarantine)", junk)
        with open(os.path.join(out, "INBOX", "1.eml"), "rb") as f:
            self.assertIn(b"Subject: welcome", f.read())
        self.assertEqual(os.listdir(os.path.join(out, "INBOX")), ["1.eml"])

    def test_dkim_signature_aligns_for_dmarc_without_spf(self):
        self.start()
        with open(self.key_pem, "rb") as f:
            key = f.read()
        content = message("news@signed.test", "signed")
        sig = dkim.sign(content, b"sel", b"signed.test", key,
                        include_headers=[b"from", b"to", b"subject", b"message-id"])
        self.send("bounce@elsewhere.test", sig + content)
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("spf=none smtp.mailfrom=elsewhere.test", h)
        self.assertIn("dkim=pass header.d=signed.test header.s=sel header.a=rsa-sha256", h)
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=signed.test", h)

    def test_broken_dkim_signature_under_p_reject_is_refused(self):
        self.start()
        with open(self.key_pem, "rb") as f:
            key = f.read()
        content = message("news@signed.test", "tampered")
        sig = dkim.sign(content, b"sel", b"signed.test", key)
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("bounce@elsewhere.test", sig + content.replace(b"Hello.", b"Hellp."))
        self.assertEqual(err.exception.smtp_code, 550)

    def test_forged_results_claiming_our_name_are_removed(self):
        self.start()
        forged = (f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=bank.test\r\n"
                  "Authentication-Results: other.example; spf=pass smtp.mailfrom=x.test\r\n").encode()
        self.send("s@good.test", message("s@good.test", extra=forged))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertNotIn("bank.test", h)
        self.assertIn("Authentication-Results: other.example; spf=pass", h)
        self.assertEqual(h.count(f"Authentication-Results: {AUTHSERV}"), 1)

    def test_forwarded_mail_is_arc_sealed_and_dkimpy_validates_the_seal(self):
        self.start()
        self.send("s@good.test", message("s@good.test", "sealed"))
        content = self.sink.wait_for(1)[0].content
        h = header_block(content)
        self.assertTrue(h.startswith("ARC-Seal: "), h[:200])
        self.assertIn("ARC-Seal: a=rsa-sha256;", h)
        self.assertIn("cv=none; d=example.com; i=1;", h)
        self.assertIn("ARC-Message-Signature: a=rsa-sha256;", h)
        self.assertIn(f"ARC-Authentication-Results: i=1; {AUTHSERV}; spf=pass", h)
        # The keys as `sealpost domain dns` publishes them; dkimpy validates the chain.
        cv, _, reason = dkim.arc_verify(content, dnsfunc=self.own_keys("example.com"))
        self.assertEqual(cv, dkim.CV_Pass, reason)

    def test_arc_chain_of_an_earlier_hop_is_validated(self):
        self.start(publish_own_records=True)
        self.send("s@good.test", message("s@good.test", "first hop"))
        first = self.sink.wait_for(1)[0].content
        # Relay the sealed message through the MX once more: the chain now has two sets.
        self.send("s@good.test", first)
        second = self.sink.wait_for(2)[1].content
        h = header_block(second)
        self.assertIn("arc=pass", h)
        self.assertIn("cv=pass; d=example.com; i=2;", h)

    def test_dns_outage_neither_holds_nor_loses_mail(self):
        # A resolver that answers nothing, timing out after 1 s per query.
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port}, auth=True,
                           extra="")
        self.addCleanup(self.mx.cleanup)
        with open(self.mx.config) as f:
            text = f.read()
        with open(self.mx.config, "w") as f:
            f.write(text.replace('trust_anchor = ""', 'trust_anchor = ""\ntimeout = 1'))
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "a@example.com", "--forward", "a@dest.test")
        self.mx.start()
        # SPF and DMARC time out (2 s, within the 3 s budget): delivered, results say so.
        self.send("s@good.test", message("s@good.test", "outage"))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("spf=temperror", h)
        self.assertIn("dmarc=temperror", h)
        # Four signatures from four domains: four more key lookups pass the budget. The sender
        # is told to retry; nothing is forwarded.
        sigs = b"".join(
            f"DKIM-Signature: v=1; a=rsa-sha256; d=d{i}.test; s=s; h=from; "
            f"bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n".encode()
            for i in range(4))
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("s@good.test", sigs + message("s@good.test", "too slow"))
        self.assertEqual(err.exception.smtp_code, 451)
        self.assertIn(b"4.4.3", err.exception.smtp_error)
        self.assertEqual(len(self.sink.messages), 1)

    def test_two_from_fields_are_refused(self):
        self.start()
        with self.assertRaises(smtplib.SMTPDataError) as err:
            self.send("s@good.test", message("s@good.test", extra=b"From: other@spoofed.test\r\n"))
        self.assertEqual(err.exception.smtp_code, 550)
        self.assertIn(b"exactly one From", err.exception.smtp_error)


if __name__ == "__main__":
    unittest.main()
