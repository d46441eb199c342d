"""Submission (RFC 6409 on 587 with STARTTLS, RFC 8314 on 465 with TLS) and the encrypted outbound
queue behind it, driven by real clients (Python's smtplib and swaks) and delivered to real SMTP
sinks (python3-aiosmtpd) through the transport map: AUTH only over TLS, no sending as someone
else, DKIM signatures that dkimpy verifies, retries after temporary failures, "mailbox full"
deferred rather than bounced, a DSN for an unknown recipient, the copy in Sent, rate limits, and
nothing lost when the process is killed with mail queued."""

import email
import email.policy
import imaplib
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

import dkim  # python3-dkim

from harness import (RawClient, Sealpost, Sink, cli_then_reload, log_lines, txt_value,
                     wait_for_log, wait_until, zone_records)

PASSWORD = "correct horse battery staple"
ALICE = "alice@example.com"


def client_tls():
    """The test certificate is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(subject, sender=ALICE, to="bob@dest.test", body="Hello from the test.",
            extra=""):
    return (f"From: Alice <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\n"
            f"{body}\r\n").encode()


class TlsRaw(RawClient):
    """RawClient that can switch to TLS after STARTTLS, or start in TLS (port 465)."""

    def __init__(self, port, implicit_tls=False):
        super().__init__(port, timeout=30)
        if implicit_tls:
            self.sock = client_tls().wrap_socket(self.sock)

    def starttls(self):
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        self.sock = client_tls().wrap_socket(self.sock)


class SubmissionCase(unittest.TestCase):
    """A server with submission ports, the domain example.com, the mailboxes alice@ and bob@, and
    the alias hello@ -> alice@ and me@home.test; dest.test and home.test are sinks."""
    queue = 'retry = "1s"\n'
    submission = ""

    def setUp(self):
        self.sink = Sink(tls=True).start()
        self.addCleanup(self.sink.stop)
        self.home = Sink().start()  # where hello@example.com also forwards
        self.addCleanup(self.home.stop)
        extra = "[queue]\n" + self.queue
        if self.submission:
            extra += "\n[submission]\n" + self.submission
        self.mx = Sealpost(transport={"dest.test": self.sink.port, "home.test": self.home.port},
                           listen=("submission", "submissions", "imaps"), extra=extra)
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.pw = os.path.join(self.mx.dir, "pw")
        with open(self.pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.mx.cli("mailbox", "add", ALICE, "--password-file", self.pw)
        self.mx.cli("alias", "add", "hello@example.com", "--forward", ALICE,
                    "--forward", "me@home.test")
        self.mx.cli("mailbox", "add", "bob@example.com", "--password-file", self.pw)
        self.mx.start()
        self.port = self.mx.ports["submission"]
        self.tls_port = self.mx.ports["submissions"]

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=60)
        s.starttls(context=client_tls())
        s.login(ALICE, PASSWORD)
        return s

    def dkim_records(self):
        lines = zone_records(self.mx.cli("domain", "dns", "example.com").stdout)
        return {l.split()[0].rstrip(".").encode(): txt_value(l).encode() for l in lines
                if "._domainkey." in l}


class SubmissionTest(SubmissionCase):
    def test_starttls_and_implicit_tls_deliver_signed_mail_that_dkimpy_verifies(self):
        with self.smtp() as s:
            refused = s.sendmail(ALICE, ["bob@dest.test"], message("over 587"))
            self.assertEqual(refused, {})
        with smtplib.SMTP_SSL("127.0.0.1", self.tls_port, timeout=60,
                              context=client_tls()) as s:
            s.login(ALICE, PASSWORD)
            code, text = s.mail(ALICE)
            self.assertEqual(code, 250)
            s.rcpt("bob@dest.test")
            code, text = s.data(message("over 465"))
            self.assertEqual(code, 250)
            self.assertRegex(text.decode(), r"^2\.0\.0 Queued as [0-9a-f]{16}$")
        got = self.sink.wait_for(2, timeout=30)
        self.assertEqual(len(got), 2)
        records = self.dkim_records()

        def dnsfunc(name, timeout=5):
            return records.get(name.rstrip(b".") if isinstance(name, bytes)
                               else name.encode().rstrip(b"."))

        for m in got:
            self.assertEqual(m.mail_from, ALICE)
            self.assertEqual(m.rcpt_tos, ["bob@dest.test"])
            self.assertTrue(m.tls, "the relay used STARTTLS when the sink did not offer it?")
            parsed = email.message_from_bytes(m.content, policy=email.policy.default)
            self.assertIsNotNone(parsed["Date"], "a missing Date: is added")
            # Our Received: names no client (no address, no HELO name).
            self.assertRegex(parsed["Received"], r"^by mx\.sealpost\.test \(Sealpost\) with ESMTPSA;")
            self.assertNotIn(b"127.0.0.1", m.content)
            self.assertRegex(parsed["Message-ID"], r"^<[0-9a-f]{32}@example\.com>$")
            self.assertEqual(m.content.count(b"DKIM-Signature:"), 2)
            self.assertTrue(dkim.DKIM(m.content).verify(idx=0, dnsfunc=dnsfunc), "RSA signature")
            self.assertTrue(dkim.DKIM(m.content).verify(idx=1, dnsfunc=dnsfunc),
                            "Ed25519 signature")

    def test_swaks_authenticates_with_plain_and_login(self):
        for auth, tls in (("PLAIN", "--tls"), ("LOGIN", "--tlsc")):
            port = self.port if tls == "--tls" else self.tls_port
            r = subprocess.run(
                ["swaks", "--server", f"127.0.0.1:{port}", tls, "--auth", auth,
                 "--auth-user", ALICE, "--auth-password", PASSWORD, "--from", ALICE,
                 "--to", "bob@dest.test", "--header", f"Subject: swaks {auth}",
                 "--h-From", f"<{ALICE}>"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("235 2.7.0 Authentication successful", r.stdout)
        got = self.sink.wait_for(2, timeout=30)
        self.assertEqual(sorted(m.content.split(b"Subject: ")[1].split(b"\r\n")[0] for m in got),
                         [b"swaks LOGIN", b"swaks PLAIN"])

    def test_no_auth_before_tls_and_no_mail_before_auth(self):
        c = TlsRaw(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        code, text = c.cmd("EHLO client.test")
        self.assertEqual(code, 250)
        self.assertIn("STARTTLS", text)
        self.assertNotIn("AUTH", text, "AUTH is not offered before TLS")
        plain = "AGFsaWNlQGV4YW1wbGUuY29tAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU="
        self.assertEqual(c.cmd("AUTH PLAIN " + plain),
                         (538, "5.7.11 Encryption required for requested authentication mechanism"))
        self.assertEqual(c.cmd(f"MAIL FROM:<{ALICE}>")[0], 530)
        c.starttls()
        code, text = c.cmd("EHLO client.test")
        self.assertIn("AUTH PLAIN LOGIN", text)
        self.assertNotIn("STARTTLS", text)
        self.assertEqual(c.cmd(f"MAIL FROM:<{ALICE}>"), (530, "5.7.0 Authentication required"))
        self.assertEqual(c.cmd("AUTH CRAM-MD5")[0], 504)
        # LOGIN by hand: the two challenges, then success.
        self.assertEqual(c.cmd("AUTH LOGIN"), (334, "VXNlcm5hbWU6"))
        self.assertEqual(c.cmd("YWxpY2VAZXhhbXBsZS5jb20="), (334, "UGFzc3dvcmQ6"))
        self.assertEqual(c.cmd("Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ=="),
                         (235, "2.7.0 Authentication successful"))
        self.assertEqual(c.cmd("AUTH PLAIN " + plain)[0], 503, "only once per session")

    def test_wrong_password_fails_and_cancel_works(self):
        c = TlsRaw(self.tls_port, implicit_tls=True)
        self.addCleanup(c.close)
        c.reply()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN"), (334, ""))
        self.assertEqual(c.cmd("*"), (501, "5.7.0 Authentication cancelled"))
        bad = "AGFsaWNlQGV4YW1wbGUuY29tAHdyb25n"  # alice@example.com / wrong
        self.assertEqual(c.cmd("AUTH PLAIN " + bad),
                         (535, "5.7.8 Authentication credentials invalid"))
        self.assertEqual(c.cmd("AUTH PLAIN not-base64!")[0], 501)

    def test_sending_as_someone_else_is_refused(self):
        with self.smtp() as s:
            code, text = s.mail("bob@example.com")
            self.assertEqual(code, 550, "bob's address is not alice's")
            self.assertIn(b"5.7.1", text)
            s.rset()
            code, _ = s.mail("someone@elsewhere.test")
            self.assertEqual(code, 550)
            s.rset()
            # The envelope is hers but the From: header is not.
            s.mail(ALICE)
            s.rcpt("bob@dest.test")
            code, text = s.data(message("spoofed", sender="ceo@example.com"))
            self.assertEqual(code, 550)
            self.assertIn(b"From: address", text)
            # Her alias (it forwards to her mailbox) and plus-addressing are hers.
            s.rset()
            s.sendmail("hello@example.com", ["bob@dest.test"],
                       message("as alias", sender="hello@example.com"))
            s.sendmail("alice+news@example.com", ["bob@dest.test"],
                       message("as plus", sender="alice+news@example.com"))
            # A local recipient that does not exist is refused at RCPT.
            s.mail(ALICE)
            code, _ = s.rcpt("nobody@example.com")
            self.assertEqual(code, 550)
        got = self.sink.wait_for(2, timeout=30)
        self.assertEqual(sorted(m.mail_from for m in got),
                         ["alice+news@example.com", "hello@example.com"])
        self.assertNotIn(b"spoofed", b"".join(m.content for m in got))

    def test_temporary_failures_are_retried_until_delivered_once(self):
        self.sink.data_replies = ["421 4.7.0 Too many connections, try again later",
                                  "451 4.3.0 Temporary local problem"]
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("retried"))
        # The runner logs an attempt once it is recorded: at "pending=no" no recipient is left
        # to try, so the sink's count is final.
        wait_for_log(self.mx, r"queue entry=\S+ .* pending=no")
        self.assertEqual(len(self.sink.messages), 1, "delivered exactly once")
        self.assertEqual(self.sink.attempts, 3)
        self.assertEqual(len(log_lines(self.mx, r"queue entry=")), 3, "one record per attempt")
        # A bounce would have been queued with the attempt that ended it.
        self.assertEqual(len(self.mx.cli("queue", "list").stdout.splitlines()), 2,
                         "the heading and the one entry: no bounce for a message that got through")
        self.assertEqual(self.home.messages, [])

    def test_mailbox_full_is_retried_not_bounced(self):
        self.sink.rcpt_replies["full@dest.test"] = \
            "552 5.2.2 The recipient's inbox is out of storage space"
        with self.smtp() as s:
            s.sendmail("hello@example.com", ["full@dest.test"],
                       message("to a full mailbox", sender="hello@example.com"))
        deadline = time.monotonic() + 30
        while self.mx.log_text().count("queue entry=") < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertGreaterEqual(self.mx.log_text().count("queue entry="), 3,
                                "tried again and again")
        self.assertEqual(self.home.messages, [], "no bounce while it is retried")
        del self.sink.rcpt_replies["full@dest.test"]
        got = self.sink.wait_for(1, timeout=30)
        self.assertEqual([m.rcpt_tos for m in got], [["full@dest.test"]])

    def test_unknown_recipient_bounces_to_the_senders_alias(self):
        self.sink.rcpt_replies["nobody@dest.test"] = \
            "550 5.1.1 The email account that you tried to reach does not exist"
        with self.smtp() as s:
            s.sendmail("hello@example.com", ["nobody@dest.test", "bob@dest.test"],
                       message("half bounces", sender="hello@example.com",
                               body="SECRET-BODY-MARKER"))
        got = self.home.wait_for(1, timeout=30)
        self.assertEqual(len(got), 1, "the DSN reaches the alias's forward")
        dsn = got[0]
        self.assertEqual(dsn.rcpt_tos, ["me@home.test"])
        parsed = email.message_from_bytes(dsn.content, policy=email.policy.default)
        self.assertEqual(parsed.get_content_type(), "multipart/report")
        self.assertEqual(parsed.get_param("report-type"), "delivery-status")
        self.assertIn(b"Final-Recipient: rfc822; nobody@dest.test", dsn.content)
        self.assertIn(b"Status: 5.1.1", dsn.content)
        self.assertIn(b"Action: failed", dsn.content)
        self.assertIn(b"Subject: half bounces", dsn.content, "the original's header is there")
        self.assertNotIn(b"SECRET-BODY-MARKER", dsn.content, "its body is not")
        self.assertNotIn(b"bob@dest.test\r\nAction", dsn.content)
        self.assertEqual(len(self.sink.wait_for(1)), 1, "the good recipient got it")
        # The alias also delivers into alice's mailbox (here, not through port 25): the DSN is
        # in her INBOX.
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls())
        self.addCleanup(imap.logout)
        imap.login(ALICE, PASSWORD)
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "HEADER", "Content-Type", "multipart/report")
        self.assertEqual(len(data[0].split()), 1, "the DSN is in alice's INBOX")

    def test_sent_copy_lands_in_the_senders_sent_folder(self):
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("keep a copy"))
        self.sink.wait_for(1, timeout=30)
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls())
        self.addCleanup(imap.logout)
        imap.login(ALICE, PASSWORD)
        # The copy is made right after the 250: give it a moment.
        deadline = time.monotonic() + 10
        while True:
            typ, data = imap.select("Sent", readonly=True)
            if data != [b"0"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = imap.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT DKIM-SIGNATURE)])")
        self.assertIn(b"\\Seen", data[0][0])
        self.assertIn(b"Subject: keep a copy", data[0][1])
        self.assertIn(b"DKIM-Signature:", data[0][1], "the copy is what was sent")

    def test_logs_name_no_address_or_subject(self):
        with self.smtp() as s:
            s.sendmail("hello@example.com", ["bob@dest.test"],
                       message("LOGGED-SUBJECT?", sender="hello@example.com"))
        self.sink.wait_for(1, timeout=30)
        log = self.mx.log_text()
        for secret in ("alice", "hello@", "bob@", "dest.test", "LOGGED-SUBJECT"):
            self.assertNotIn(secret, log)
        self.assertIn("submission session=", log)


class QueueAdminTest(SubmissionCase):
    queue = 'retry = "1h"\nretention = "30d"\n'

    def setUp(self):
        # The queue's clock, which the test moves (SEALPOST_TEST_CLOCK_FILE: seconds to add).
        self.clock = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"clock-{os.getpid()}")
        with open(self.clock, "w") as f:
            f.write("0\n")
        os.environ["SEALPOST_TEST_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SEALPOST_TEST_CLOCK_FILE", None)
        self.addCleanup(os.remove, self.clock)
        super().setUp()

    def advance(self, seconds):
        with open(self.clock, "w") as f:
            f.write(f"{seconds}\n")

    def entries(self):
        out = self.mx.cli("queue", "list").stdout.splitlines()
        return [line.split() for line in out[1:]]

    def test_list_show_retry_drop_and_redaction_after_retention(self):
        self.sink.data_replies = ["451 4.3.0 Not now"]
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("KEEP-ME-30-DAYS", body="BODY-TEXT"))
            # The first one takes the 451 before the second is sent.
            deadline = time.monotonic() + 30
            while self.sink.attempts < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            s.sendmail(ALICE, ["gone@dest.test"], message("to be dropped"))
        wait_for_log(self.mx, r"queue entry=", count=2)  # both attempts are recorded
        # One was deferred for an hour (451), the other delivered.
        rows = {r[0]: r for r in self.entries()}
        self.assertEqual(len(rows), 2)
        pending = [r for r in rows.values() if r[4] == "1"]
        self.assertEqual(len(pending), 1, rows)
        pending_id = pending[0][0]
        show = self.mx.cli("queue", "show", pending_id).stdout
        self.assertIn("attempts=1", show)
        self.assertIn("last=451 (other)", show)
        # retry makes it due now: the running server delivers it within seconds.
        self.mx.cli("queue", "retry", pending_id)
        got = self.sink.wait_for(2, timeout=30)
        self.assertEqual(len(got), 2)
        shown = self.mx.cli("queue", "show", pending_id).stdout
        self.assertIn("delivered", shown)
        self.assertIn("content kept until:", shown)
        self.assertIn("BODY-TEXT", shown, "within the retention period the content is kept")

        other = next(i for i in rows if i != pending_id)
        self.mx.cli("queue", "drop", other)
        self.assertEqual([r[0] for r in self.entries()], [pending_id])
        self.assertNotEqual(self.mx.cli("queue", "show", other, check=False).returncode, 0)

        # 30 days and a minute later the content is replaced by the notice.
        self.advance(30 * 86400 + 60)
        deadline = time.monotonic() + 30
        while "redacted: yes" not in self.mx.cli("queue", "show", pending_id).stdout and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        shown = self.mx.cli("queue", "show", pending_id).stdout
        self.assertIn("redacted: yes", shown)
        self.assertIn("This message was successfully sent. It has been redacted and purged for "
                      "your security and privacy.", shown)
        self.assertNotIn("BODY-TEXT", shown)
        self.assertNotIn("KEEP-ME-30-DAYS", shown)
        self.mx.stop()
        for root, _, files in os.walk(self.mx.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    self.assertNotIn(b"BODY-TEXT", fh.read())


    def test_a_domain_can_keep_sent_mail_shorter(self):
        out = cli_then_reload(self.mx, "domain", "retention", "example.com", "2h").stdout
        self.assertIn("7200 s after delivery", out)
        self.assertIn("example.com  retention=7200s", self.mx.cli("domain", "list").stdout)
        bad = self.mx.cli("domain", "retention", "nowhere.test", "1d", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not hosted", bad.stderr)
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("short-lived", body="GONE-SOON"))
        wait_for_log(self.mx, r"queue entry=\S+ .* delivered=1")  # recorded with its retention
        entry = self.entries()[0][0]
        self.assertIn("GONE-SOON", self.mx.cli("queue", "show", entry).stdout)
        self.advance(2 * 3600 + 120)  # past example.com's 2 h, far from the server's 30 d
        deadline = time.monotonic() + 30
        while "redacted: yes" not in self.mx.cli("queue", "show", entry).stdout and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertNotIn("GONE-SOON", self.mx.cli("queue", "show", entry).stdout)
        self.mx.cli("domain", "retention", "example.com", "default")
        self.assertNotIn("retention=", self.mx.cli("domain", "list").stdout)

    def test_a_message_waiting_four_hours_sends_one_delay_notice_then_a_bounce(self):
        self.sink.data_replies = ["421 4.7.0 Too many concurrent connections, try later"] * 1000
        with self.smtp() as s:
            s.sendmail("hello@example.com", ["slow@dest.test"],
                       message("slow one", sender="hello@example.com", body="NOT-IN-A-DSN"))
        first = wait_for_log(self.mx, r"queue entry=")[0]
        mail = first.split("queue entry=")[1].split()[0]
        self.assertEqual(len(self.entries()), 1, "no notice queued in the first hours")
        self.assertEqual(self.home.messages, [])
        self.advance(4 * 3600 + 60)  # past [queue] delay_notice, and the 1h retry is due
        got = self.home.wait_for(1, timeout=30)
        self.assertEqual(len(got), 1, "one delay notice to the sender's alias")
        notice = got[0].content
        self.assertIn(b"Action: delayed", notice)
        self.assertIn(b"Final-Recipient: rfc822; slow@dest.test", notice)
        self.assertIn(b"Will-Retry-Until:", notice)
        self.assertNotIn(b"NOT-IN-A-DSN", notice)
        self.advance(8 * 3600 + 120)  # another try: still deferred, but no second notice
        # A notice is queued with the attempt that decides it: after the third attempt's record
        # the queue holds the message and the one notice.
        wait_for_log(self.mx, rf"queue entry={mail} .* pending=yes", count=3)
        self.assertEqual(len(self.entries()), 2, "the delay notice is queued once")
        self.assertEqual(len(self.home.messages), 1, "the delay notice is sent once")
        # Past [queue] lifetime (5 days) the message bounces: a final DSN.
        self.advance(5 * 86400 + 3600)
        got = self.home.wait_for(2, timeout=30)
        self.assertEqual(len(got), 2)
        self.assertIn(b"Action: failed", got[1].content)
        self.assertIn(b"Status: 4.7.0", got[1].content)
        rows = self.entries()
        self.assertTrue(any(r[6] == "1" for r in rows), rows)  # FAILED column
        # The bounce categories are in the metrics, once the notices' deliveries are recorded
        # (the message's failure, the delay notice and the bounce: nothing left pending).
        wait_for_log(self.mx, r"queue entry=\S+ .* pending=no", count=3)
        stats = self.mx.cli("queue", "stats").stdout
        self.assertIn('sealpost_queue_recipients{state="failed",category="capacity"} 1', stats)
        # ...and the two notices were delivered (to the alias's forward and to alice's mailbox).
        self.assertIn('sealpost_queue_recipients{state="delivered",category="none"} 2', stats)


class SubmissionRateTest(SubmissionCase):
    submission = "messages_per_user_hour = 2\n"

    def test_the_third_message_in_an_hour_waits(self):
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("one"))
            s.sendmail(ALICE, ["bob@dest.test"], message("two"))
            code, text = s.mail(ALICE)
            self.assertEqual(code, 451)
            self.assertIn(b"4.7.1 Sending limit reached for this account (2 per hour", text)


class SubmissionIdentityTest(SubmissionCase):
    """Submission sends only as the user (issue 16): every author, Sender: and Resent-* field is
    read whole and checked; Bcc: never reaches a recipient; lines past 998 octets are refused."""

    def refused(self, content, code, words):
        with self.smtp() as s:
            s.mail(ALICE)
            s.rcpt("bob@dest.test")
            got, text = s.data(content)
            self.assertEqual(got, code, text)
            self.assertIn(words, text)

    def test_every_author_is_checked_and_a_list_that_cannot_be_read_is_refused(self):
        # The reader used to skip what it could not read, and stop at 64 authors: the skipped and
        # the 65th were never checked.
        for header in (f"{ALICE}, Boss ceo@example.com",
                       f"<{ALICE}> <ceo@example.com>",
                       f"{ALICE}, <ceo@example.com",
                       f"Friends: {ALICE};"):
            with self.subTest(header=header):
                self.refused(f"From: {header}\r\nTo: bob@dest.test\r\nSubject: s\r\n\r\nx\r\n",
                             554, b"cannot be read")
        many = ", ".join([ALICE] * 11)
        self.refused(f"From: {many}\r\nSubject: s\r\n\r\nx\r\n", 554, b"more than 10")
        self.refused(message("co-author", sender=f"{ALICE}>, <ceo@example.com"), 550,
                     b"From: address")
        # Several authors that are all hers are fine.
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"],
                       message("two authors", sender=f"{ALICE}>, <hello@example.com"))
        self.assertEqual(len(self.sink.wait_for(1, timeout=30)), 1)

    def test_sender_and_resent_fields_are_hers_too(self):
        self.refused(message("sender", extra="Sender: ceo@example.com\r\n"), 550,
                     b"Sender: address")
        self.refused(message("two senders", extra=f"Sender: {ALICE}\r\nSender: {ALICE}\r\n"),
                     554, b"at most one Sender:")
        self.refused(message("resent", extra="Resent-From: ceo@example.com\r\n"), 550,
                     b"Resent-From: address")
        self.refused(message("resent sender", extra=f"Resent-From: {ALICE}\r\n"
                                                    "Resent-Sender: ceo@example.com\r\n"),
                     550, b"Resent-Sender: address")
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"],
                       message("resent ok", extra=f"Sender: {ALICE}\r\nResent-From: {ALICE}\r\n"))
        self.assertEqual(len(self.sink.wait_for(1, timeout=30)), 1)

    def test_bcc_is_removed_before_signing_and_queueing_but_kept_in_sent(self):
        with self.smtp() as s:
            refused = s.sendmail(ALICE, ["bob@dest.test", "me@home.test"],
                                 message("blind", extra="Bcc: Secret <me@home.test>\r\n"))
        self.assertEqual(refused, {})
        got = self.sink.wait_for(1, timeout=30) + self.home.wait_for(1, timeout=30)
        self.assertEqual(len(got), 2, "the Bcc recipient still gets the message")
        for m in got:
            self.assertNotIn(b"Bcc:", m.content)
            self.assertNotIn(b"Secret", m.content)
            self.assertIn(b"Subject: blind", m.content)
        # dkimpy verifies what was sent: the signature was made without the field.
        records = self.dkim_records()

        def dnsfunc(name, timeout=5):
            return records.get(name.rstrip(b".") if isinstance(name, bytes)
                               else name.encode().rstrip(b"."))

        self.assertTrue(dkim.DKIM(got[0].content).verify(idx=0, dnsfunc=dnsfunc))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls())
        self.addCleanup(imap.logout)
        imap.login(ALICE, PASSWORD)
        deadline = time.monotonic() + 10
        while imap.select("Sent", readonly=True)[1] == [b"0"] and time.monotonic() < deadline:
            time.sleep(0.1)
        typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (BCC)])")
        self.assertIn(b"Bcc: Secret <me@home.test>", data[0][1], "the sender's copy keeps it")

    def test_lines_longer_than_998_octets_are_refused_with_a_clear_reply(self):
        self.refused(message("long", body="x" * 999), 554, b"longer than 998 octets")
        with self.smtp() as s:
            s.sendmail(ALICE, ["bob@dest.test"], message("just fits", body="x" * 998))
        self.assertEqual(len(self.sink.wait_for(1, timeout=30)), 1)


class QueueCrashTest(unittest.TestCase):
    def test_killed_with_mail_queued_delivers_every_message_after_restart(self):
        sink = Sink()
        sink.data_replies = ["451 4.3.0 Not yet"] * 1000  # nothing gets through at first
        sink.start()
        self.addCleanup(sink.stop)
        mx = Sealpost(transport={"dest.test": sink.port}, listen=("submission",),
                      extra='[queue]\nretry = "1s"\n')
        self.addCleanup(mx.cleanup)
        mx.cli("domain", "add", "example.com")
        pw = os.path.join(mx.dir, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        mx.cli("mailbox", "add", ALICE, "--password-file", pw)
        mx.start()
        with smtplib.SMTP("127.0.0.1", mx.ports["submission"], timeout=60) as s:
            s.starttls(context=client_tls())
            s.login(ALICE, PASSWORD)
            for i in range(20):
                s.sendmail(ALICE, ["bob@dest.test"],
                           message(f"queued {i}", extra=f"Message-ID: <crash-{i}@example.com>\r\n"))
        wait_until(lambda: sink.attempts > 0, message="the runner tries the queued mail")
        os.kill(mx.proc.pid, signal.SIGKILL)
        mx.proc.wait()
        mx.log.close()
        self.assertEqual(sink.messages, [])
        # The queue is sealed: neither content nor envelope is readable in any file.
        for root, _, files in os.walk(mx.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    blob = fh.read()
                self.assertNotIn(b"queued 1", blob, f"no plaintext in {f}")
                self.assertNotIn(b"Hello from the test", blob, f"no plaintext in {f}")
                self.assertNotIn(b"bob@dest.test", blob, f"no recipient in {f}")
        sink.data_replies = []
        mx.start()
        got = sink.wait_for(20, timeout=60)
        ids = sorted({m.content.split(b"Message-ID: <")[1].split(b">")[0] for m in got})
        self.assertEqual(ids, sorted(f"crash-{i}@example.com".encode() for i in range(20)))
        # Every entry recorded as done (the restarted server's log is a new file): nothing is
        # left to deliver a second time.
        wait_for_log(mx, r"queue entry=\S+ .* pending=no", count=20, timeout=60)
        self.assertEqual(len(sink.messages), 20, "each exactly once")


if __name__ == "__main__":
    unittest.main()
