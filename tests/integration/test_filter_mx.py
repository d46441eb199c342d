"""The content filter on the MX (issue 18): every message is checked in memory before the reply,
so a refusal is the 550 the sending server gets (no bounce of ours), junk is forwarded with
`X-Spam-Status: Yes` and filed in the mailbox's Junk folder, and each domain may keep its spam or
turn the filter off (`sealpost domain filter`). The log names symbols, never who wrote to whom."""

import email.message
import email.policy
import os
import shutil
import smtplib
import tempfile
import unittest

import clamd
from dns_server import DnsServer
from harness import (NO_NETWORK_CHECKS, RawClient, cli_then_reload, forwarding_server,
                     wait_for_log, wait_until)

PASSWORD = "correct horse battery staple"

SENDER = "someone@sender.test"


def message(to="a@example.com", attachments=(), text="Hello.", html=None,
            sender=SENDER, subject="quarterly figures"):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m.set_content(text)
    if html:
        m.add_alternative(html, subtype="html")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def program(to="a@example.com"):
    return message(to, [("invoice.pdf.exe", "application/octet-stream", b"MZ\x90\x00" * 64)])


def phish(to="a@example.com"):
    """Scores 9 (a display name showing another address, 4; a link whose user-info looks like a
    host, 5): junk by default, refused where reject_score is 8."""
    return message(to, html="<p>Log in at http://paypal.com@evil.example/ today</p>",
                   sender='"service@paypal.com" <someone@sender.test>')


def header_block(raw):
    return raw.split(b"\r\n\r\n", 1)[0].decode()


class FilterMxTest(unittest.TestCase):
    def start(self, filter=None, **options):
        self.sink, self.mx = forwarding_server(aliases=("a", "b"), filter=filter, **options)
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.mx.cleanup)

    def send(self, raw, to=("a@example.com",)):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=60) as s:
            return s.sendmail(SENDER, list(to), raw)

    def refused(self, raw, to=("a@example.com",)):
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            self.send(raw, to)
        return caught.exception.smtp_code, caught.exception.smtp_error.decode()

    def assert_log_is_private(self):
        log = self.mx.log_text()
        for secret in ("example.com", "dest.test", "sender.test", "paypal", "evil.example",
                       "quarterly", "invoice"):
            self.assertNotIn(secret, log)

    def test_a_senders_own_spam_fields_are_cleared(self):
        self.start()
        raw = message(text="nothing to see here")
        raw = b"X-Spam-Status: No, score=-10.0 required=6.0\r\nX-Spam-Flag: NO\r\n" + raw
        self.send(raw)
        header = header_block(self.sink.wait_for(1)[0].content)
        self.assertEqual(header.count("X-Spam-Status:"), 1)
        self.assertIn("X-Spam-Status: No, score=0.0 required=6.0", header)
        self.assertNotIn("X-Spam-Flag", header)

    def test_a_local_adult_list_marks_its_links_as_junk(self):
        lists = tempfile.mkdtemp(prefix="sealpost-adult-")
        self.addCleanup(shutil.rmtree, lists, ignore_errors=True)
        listed = os.path.join(lists, "adult.txt")
        with open(listed, "w") as f:
            f.write("example.xxx\n")
        self.start(filter=NO_NETWORK_CHECKS + f'adult_lists = ["{listed}"]\n')
        self.send(message(text="Tonight: https://www.example.xxx/live"))
        self.assertIn(b"tests=ADULT_DOMAIN=8.0", self.sink.wait_for(1)[0].content)
        self.assert_log_is_private()

    def test_a_program_is_refused_before_the_reply_and_nothing_leaves(self):
        self.start()
        code, text = self.refused(program())
        self.assertEqual(code, 550)
        self.assertEqual(text, "5.7.1 Message refused by the content filter: "
                               "ATTACHMENT_DOUBLE_EXTENSION, ATTACHMENT_EXECUTABLE")
        line = wait_for_log(self.mx, r"filter=reject")[0]
        self.assertIn("filter=reject:ATTACHMENT_DOUBLE_EXTENSION,ATTACHMENT_EXECUTABLE reply=550",
                      line)
        # The next message of the session is the positive signal that the first one was done
        # with: it alone reaches the destination.
        self.send(message(text="the real invoice is attached to no message"))
        self.assertEqual(len(self.sink.wait_for(1)), 1)
        self.assertIn(b"the real invoice", self.sink.messages[0].content)
        self.assertEqual(len(self.sink.messages), 1)
        self.assert_log_is_private()

    def test_bdat_is_filtered_like_data(self):
        self.start()
        raw = program()
        c = RawClient(self.mx.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.test")[0], 250)
        self.assertEqual(c.cmd(f"MAIL FROM:<{SENDER}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<a@example.com>")[0], 250)
        c.send(f"BDAT {len(raw)} LAST\r\n".encode() + raw)
        code, text = c.reply()
        self.assertEqual(code, 550)
        self.assertIn("ATTACHMENT_EXECUTABLE", text)

    def test_legitimate_mail_is_forwarded_with_the_status_header(self):
        self.start()
        self.send(message(attachments=[("minutes.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")],
                          text="The agenda is at https://example.org/agenda."))
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("X-Spam-Status: No, score=0.0 required=6.0 action=accept tests=NONE", h)
        self.assertRegex(self.mx.log_text(), r"filter=accept accepted=1 ")

    def test_junk_is_forwarded_marked_and_filed_in_the_junk_folder(self):
        self.start()
        pw = os.path.join(self.mx.dir, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        cli_then_reload(self.mx, "mailbox", "add", "a@example.com", "--password-file", pw)
        self.send(phish())
        self.send(message(subject="welcome"))
        forwarded = self.sink.wait_for(2)
        self.assertEqual(len(forwarded), 2)
        h = header_block(forwarded[0].content)
        # Folded (at most 78 octets a line).
        self.assertIn("X-Spam-Status: Yes, score=9.0 required=6.0 action=junk\r\n"
                      "\ttests=URL_USERINFO_HOST=5.0,PHISH_DISPLAY_NAME_ADDRESS=4.0\r\n", h + "\r\n")
        self.assertIn("X-Spam-Status: No,", header_block(forwarded[1].content))
        out = os.path.join(self.mx.workdir("export-"), "out")
        self.mx.cli("mailbox", "export", "a@example.com", "--format", "eml", "-o", out,
                    "--password-file", pw)
        with open(os.path.join(out, "Junk", "1.eml"), "rb") as f:
            junk = f.read()
        self.assertIn(b"X-Spam-Status: Yes,", junk)
        self.assertIn(b"evil.example", junk)
        self.assertEqual(os.listdir(os.path.join(out, "INBOX")), ["1.eml"])
        with open(os.path.join(out, "INBOX", "1.eml"), "rb") as f:
            self.assertIn(b"Subject: welcome", f.read())
        self.assertRegex(self.mx.log_text(),
                         r"filter=junk:URL_USERINFO_HOST,PHISH_DISPLAY_NAME_ADDRESS accepted=")
        self.assert_log_is_private()

    def test_each_domain_may_keep_its_spam_or_turn_the_filter_off(self):
        self.start(filter=NO_NETWORK_CHECKS + "reject_score = 8\n")
        self.mx.cli("domain", "add", "example.org")
        cli_then_reload(self.mx, "alias", "add", "c@example.org", "--forward", "c@dest.test")
        # At the server's settings a score of 9 is refused.
        code, text = self.refused(phish())
        self.assertEqual((code, text), (550, "5.7.1 Message refused by the content filter: "
                                             "URL_USERINFO_HOST, PHISH_DISPLAY_NAME_ADDRESS"))

        out = cli_then_reload(self.mx, "domain", "filter", "example.org", "--action-spam", "junk")
        self.assertIn("example.org: a message scoring 8 or more is kept as junk (the domain's own)",
                      out.stdout)
        self.send(phish("c@example.org"), to=["c@example.org"])
        h = header_block(self.sink.wait_for(1)[0].content)
        self.assertIn("X-Spam-Status: Yes, score=9.0 required=6.0 action=junk", h)
        # A program is refused even where spam is kept.
        self.assertEqual(self.refused(program("c@example.org"), to=["c@example.org"])[0], 550)

        # One verdict answers for a whole message: a recipient whose domain is filtered otherwise
        # than the first one's is deferred to a transaction of its own (RFC 5321's 452).
        refused = self.send(message(), to=["a@example.com", "c@example.org", "b@example.com"])
        self.assertEqual(refused, {"c@example.org": (452, b"4.5.3 Too many recipients for this "
                                                          b"message: this domain filters mail "
                                                          b"differently, send it in a separate "
                                                          b"transaction")})
        self.assertEqual(len(self.sink.wait_for(2)), 2)
        self.assertEqual(sorted(self.sink.messages[1].rcpt_tos), ["a@dest.test", "b@dest.test"])

        out = cli_then_reload(self.mx, "domain", "filter", "example.org", "--filter", "off")
        self.assertIn("example.org: content filter off (the domain's own)", out.stdout)
        self.send(program("c@example.org"), to=["c@example.org"])
        self.assertEqual(len(self.sink.wait_for(3)), 3)
        self.assertNotIn("X-Spam-Status", header_block(self.sink.messages[2].content))
        self.assertIn("example.org  filter=off spam_action=junk",
                      self.mx.cli("domain", "list").stdout)

        # Back to the server's settings.
        out = cli_then_reload(self.mx, "domain", "filter", "example.org", "--filter", "default",
                              "--action-spam", "default")
        self.assertIn("content filter on ([filter] enabled)", out.stdout)
        self.assertIn("is refused ([filter] spam_action)", out.stdout)
        self.assertEqual(self.refused(phish("c@example.org"), to=["c@example.org"])[0], 550)
        self.assertEqual(self.mx.cli("domain", "filter", "example.net", check=False).returncode, 1)

    def test_connections_per_network_are_rate_limited(self):
        self.start(extra="[limits]\nconnection_rate = 3\n")

        def greeting(source):
            import socket
            with socket.create_connection(("127.0.0.1", self.mx.port), timeout=30,
                                          source_address=(source, 0)) as s:
                return s.recv(512).decode()

        # The harness's probe of the port was the network's first connection of the minute.
        self.assertTrue(greeting("127.0.0.1").startswith("220 "))
        self.assertTrue(greeting("127.0.0.9").startswith("220 "))  # the same /24
        self.assertTrue(greeting("127.0.0.1").startswith("421 4.7.0 "))
        self.assertTrue(greeting("127.0.1.1").startswith("220 "), "another /24")
        line = wait_for_log(self.mx, r"reason=connection_rate")[0]
        self.assertNotIn("127.0.0", line)

    def test_lookalikes_of_the_hosted_domains_are_flagged_as_they_change(self):
        self.start()
        # example.com is hosted from the start; nоrthwind with a Cyrillic "о" is a homograph.
        self.send(message(sender="Billing <billing@examp1e.com>"))
        self.send(message(sender="Billing <billing@n0rthwind.org>"))
        self.send(message(sender="Billing <billing@xn--nrthwind-nbh.org>"))
        forwarded = self.sink.wait_for(3)
        self.assertIn("tests=PHISH_LOOKALIKE_DOMAIN=5.0", header_block(forwarded[0].content))
        self.assertIn("tests=NONE", header_block(forwarded[1].content))
        self.assertIn("tests=PHISH_HOMOGRAPH=6.0", header_block(forwarded[2].content))
        # A domain added while the MX runs is protected at once. (Other subjects: the MX takes
        # the same message again for a retry of one it has forwarded.)
        cli_then_reload(self.mx, "domain", "add", "northwind.org")
        self.send(message(sender="Billing <billing@n0rthwind.org>", subject="again"))
        self.send(message(sender="Billing <billing@xn--nrthwind-nbh.org>", subject="again"))
        self.assertIn("tests=PHISH_LOOKALIKE_DOMAIN=5.0",
                      header_block(self.sink.wait_for(4)[3].content))
        self.assertRegex(header_block(self.sink.wait_for(5)[4].content),
                         r"tests=PHISH_HOMOGRAPH=6\.0,\s*PHISH_LOOKALIKE_DOMAIN=5\.0")
        self.assertNotIn("rthwind", self.mx.log_text())

    def test_greylisting_defers_a_new_sender_until_it_retries(self):
        self.start(filter=NO_NETWORK_CHECKS + 'greylist = true\ngreylist_delay = "1s"\n')
        c = RawClient(self.mx.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.test")[0], 250)
        self.assertEqual(c.cmd(f"MAIL FROM:<{SENDER}>")[0], 250)
        code, text = c.cmd("RCPT TO:<a@example.com>")
        self.assertEqual((code, text), (451, "4.7.1 Greylisted: please try again in 1 s"))

        def retried():
            self.assertEqual(c.cmd("RSET")[0], 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{SENDER}>")[0], 250)
            code, _ = c.cmd("RCPT TO:<a@example.com>")
            self.assertIn(code, (250, 451))
            return code == 250

        # A retry after the delay passes (polled: the delay is the server's clock's).
        wait_until(retried, timeout=30, interval=0.25)
        # Another recipient is another triplet; the first one passes from now on.
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>")[0], 451)
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assertEqual(c.cmd(f"MAIL FROM:<{SENDER}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<a@example.com>")[0], 250)

    def test_the_operator_can_turn_the_filter_off(self):
        self.start(filter="enabled = false\n" + NO_NETWORK_CHECKS)
        self.send(program())
        content = self.sink.wait_for(1)[0].content
        self.assertNotIn(b"X-Spam-Status", content)
        self.assertRegex(self.mx.log_text(), r"filter=off accepted=1 ")



class FilterReputationMxTest(unittest.TestCase):
    """The network checks against real DNS: an unbound on loopback serves the test's DNSBL, RHSBL
    and URIBL zones, another one stands for the family-filter resolver. The client connects from
    127.0.0.2, the address every DNSBL lists for testing (RFC 5782 section 5), or 127.0.0.1."""

    def setUp(self):
        self.dns = DnsServer(
            zones=["dnsbl.test", "rhsbl.test", "uribl.test"],
            records=["2.0.0.127.dnsbl.test. 300 IN A 127.0.0.2",
                     "spammer.test.rhsbl.test. 300 IN A 127.0.1.2",
                     "evil.test.uribl.test. 300 IN A 127.0.0.4",
                     # A list's "query refused" is no listing.
                     "refused.test.uribl.test. 300 IN A 127.0.0.1"],
            log_queries=True).start()
        self.addCleanup(self.dns.stop)
        self.family = DnsServer(zones=["adult.test", "news.test"],
                                records=["adult.test. 300 IN A 0.0.0.0",
                                         "news.test. 300 IN A 192.0.2.7"]).start()
        self.addCleanup(self.family.stop)
        self.sink, self.mx = forwarding_server(
            aliases=("a",), dns_port=self.dns.port,
            filter=('dnsbl = { "dnsbl.test" = 7 }\nrhsbl = { "rhsbl.test" = 6 }\n'
                    'uribl = { "uribl.test" = 5 }\n'
                    f'family_resolver = "127.0.0.1:{self.family.port}"\n'
                    'reverse_dns = false\nreject_score = 12\ndns_budget = 3\nclamd = ""\n'))
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.mx.cleanup)

    def send(self, raw, source="127.0.0.1", sender=SENDER):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=60,
                          source_address=(source, 0)) as s:
            s.sendmail(sender, ["a@example.com"], raw)

    def forwarded_status(self, count):
        """The header of the count-th forwarded message, unfolded."""
        return header_block(self.sink.wait_for(count)[count - 1].content).replace("\r\n\t", " ")

    def test_a_listed_client_is_scored_by_its_list(self):
        self.send(message(), source="127.0.0.2")
        self.assertIn("X-Spam-Status: Yes, score=7.0 required=6.0 action=junk "
                      "tests=DNSBL_DNSBL_TEST=7.0", self.forwarded_status(1))
        # (Another message: the same one again would be taken for a retry already delivered.)
        self.send(message(subject="from an address no list names"), source="127.0.0.1")
        self.assertIn("X-Spam-Status: No, score=0.0", self.forwarded_status(2))

    def test_a_listed_client_can_be_refused_at_rcpt(self):
        sink, mx = forwarding_server(
            aliases=("a",), dns_port=self.dns.port,
            filter=('dnsbl = { "dnsbl.test" = 7 }\ndnsbl_refuse_score = 5\nrhsbl = {}\n'
                    'uribl = {}\nfamily_resolver = ""\nreverse_dns = false\nclamd = ""\n'))
        self.addCleanup(sink.stop)
        self.addCleanup(mx.cleanup)
        with smtplib.SMTP("127.0.0.1", mx.port, timeout=60,
                          source_address=("127.0.0.2", 0)) as s:
            s.ehlo()
            s.mail(SENDER)
            code, text = s.rcpt("a@example.com")
            self.assertEqual(code, 550)
            self.assertEqual(text.decode(), "5.7.1 Service unavailable; client [127.0.0.2] "
                                            "blocked using dnsbl.test")
        # A client no list names is not; the message then counts its own findings.
        with smtplib.SMTP("127.0.0.1", mx.port, timeout=60,
                          source_address=("127.0.0.1", 0)) as s:
            s.sendmail(SENDER, ["a@example.com"], message())
        self.assertIn(b"X-Spam-Status: No,", sink.wait_for(1)[0].content)
        log = mx.log_text()
        self.assertIn("refused=dnsbl lists=1", log)
        self.assertNotIn("127.0.0.2", log)

    def test_an_address_no_list_names_is_asked_once_per_ttl(self):
        # The usual answer of a blocklist is NXDOMAIN: kept for its TTL (from the zone's SOA,
        # RFC 2308) like any other, so the next message from the same client asks no server.
        self.send(message(subject="first"), source="127.0.0.1")
        self.send(message(subject="second"), source="127.0.0.1")
        self.assertIn("X-Spam-Status: No, score=0.0", self.forwarded_status(2))
        self.assertEqual(self.dns.queries("1.0.0.127.dnsbl.test."), 1)

    def test_listed_sender_and_link_domains_add_up(self):
        self.send(message(text="See https://www.evil.test/offer and http://refused.test/"),
                  sender="bounce@mail.spammer.test")
        self.assertIn("X-Spam-Status: Yes, score=11.0 required=6.0 action=junk "
                      "tests=RHSBL_RHSBL_TEST=6.0,URIBL_URIBL_TEST=5.0", self.forwarded_status(1))
        # With the client listed as well it is past reject_score: refused, naming the lists.
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            self.send(message(text="See https://www.evil.test/offer"), source="127.0.0.2",
                      sender="bounce@spammer.test")
        self.assertEqual(caught.exception.smtp_code, 550)
        self.assertEqual(caught.exception.smtp_error.decode(),
                         "5.7.1 Message refused by the content filter: DNSBL_DNSBL_TEST, "
                         "RHSBL_RHSBL_TEST, URIBL_URIBL_TEST")
        log = self.mx.log_text()
        self.assertIn("filter=reject:DNSBL_DNSBL_TEST,RHSBL_RHSBL_TEST,URIBL_URIBL_TEST", log)
        for secret in ("spammer", "evil", "127.0.0.2"):
            self.assertNotIn(secret, log)

    def test_adult_domains_are_junk_unless_the_domain_turns_it_off(self):
        self.send(message(html='<p><a href="https://www.adult.test/">pictures</a> and '
                               '<a href="https://news.test/">news</a></p>'))
        self.assertIn("X-Spam-Status: Yes, score=8.0 required=6.0 action=junk "
                      "tests=ADULT_DOMAIN=8.0", self.forwarded_status(1))
        out = cli_then_reload(self.mx, "domain", "filter", "example.com", "--adult", "off")
        self.assertIn("example.com: adult-content protection off (the domain's own)", out.stdout)
        self.send(message(html='<p><a href="https://www.adult.test/">pictures</a></p>'))
        self.assertIn("X-Spam-Status: No, score=0.0", self.forwarded_status(2))

    def test_lists_that_do_not_answer_add_nothing(self):
        self.dns.stop()
        self.family.stop()
        # Within [filter] dns_budget the message is answered, as if nothing were listed.
        self.send(message(text="See https://www.evil.test/offer"), source="127.0.0.2",
                  sender="bounce@spammer.test")
        self.assertIn("X-Spam-Status: No, score=0.0", self.forwarded_status(1))


@unittest.skipUnless(clamd.available(), "clamd is not installed (Debian package clamav-daemon)")
class FilterClamdMxTest(unittest.TestCase):
    """ClamAV on the MX: a clamd of the test's own, with the test's signatures (EICAR)."""

    def setUp(self):
        self.clamd = clamd.Clamd().start()
        self.addCleanup(self.clamd.cleanup)
        self.sink, self.mx = forwarding_server(
            aliases=("a",), filter=NO_NETWORK_CHECKS.replace(
                'clamd = ""', f'clamd = "{self.clamd.socket}"\nclamd_timeout = "10s"'))
        self.addCleanup(self.sink.stop)
        self.addCleanup(self.mx.cleanup)

    def send(self, raw):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=60) as s:
            s.sendmail(SENDER, ["a@example.com"], raw)

    def test_a_virus_is_refused_and_clean_mail_forwarded(self):
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            self.send(message(attachments=[("readme.txt", "text/plain", clamd.EICAR)]))
        self.assertEqual(caught.exception.smtp_code, 550)
        self.assertEqual(caught.exception.smtp_error.decode(),
                         "5.7.1 Message refused by the content filter: CLAMAV_VIRUS")
        self.send(message(attachments=[("minutes.pdf", "application/pdf", b"%PDF-1.4\n")]))
        self.assertIn(b"X-Spam-Status: No,", self.sink.wait_for(1)[0].content)
        self.assertEqual(len(self.sink.messages), 1)
        self.assertIn("filter=reject:CLAMAV_VIRUS reply=550", self.mx.log_text())

    def test_mail_with_attachments_waits_while_clamd_is_down(self):
        self.clamd.stop()
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            self.send(message(attachments=[("minutes.pdf", "application/pdf", b"%PDF-1.4\n")]))
        self.assertEqual(caught.exception.smtp_code, 451)
        self.assertEqual(caught.exception.smtp_error.decode(),
                         "4.7.1 Message deferred, try again later: CLAMAV_UNAVAILABLE")
        # Without attachments there is nothing to give clamd ([filter] clamd_scan =
        # "attachments"): it is forwarded.
        self.send(message(text="no attachment here"))
        self.assertIn(b"X-Spam-Status: No,", self.sink.wait_for(1)[0].content)


if __name__ == "__main__":
    unittest.main()
