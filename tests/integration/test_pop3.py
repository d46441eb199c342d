"""POP3 (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH PLAIN RFC 5034) over a sealed mailbox's
INBOX, driven by real clients: Python's poplib and fetchmail. Mail is sent through the MX with
smtplib; what POP3 hands out is compared byte for byte with what the mailbox stores (an EML export)
and with what was sent."""

import base64
import getpass
import glob
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import Sealpost, free_port, log_lines, wait_for_log

PASSWORD = "correct horse battery staple"
ADDRESS = "alice@example.com"


def message(subject, body, sender="someone@sender.test", to=ADDRESS):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.test>\r\n\r\n{body}\r\n").encode()


def client_tls():
    """A client TLS context for the test's self-signed certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Wire:
    """A POP3 connection spoken by hand, for what poplib will not send (pipelining, overlong
    lines, a dropped connection)."""

    def __init__(self, port, implicit_tls=False, timeout=15.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if implicit_tls:
            self.sock = client_tls().wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; got {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline(self):
        """The lines of a multi-line body, dot-stuffing undone, up to the "." line."""
        lines = []
        while True:
            line = self.line()
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith(".") else line)

    def closed(self, timeout=10.0):
        """True when the server closes the connection within `timeout` (what it still sent is
        kept in buf)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class Pop3Test(unittest.TestCase):
    access = ""

    def setUp(self):
        extra = "[access]\n" + self.access if self.access else ""
        self.mx = Sealpost(extra=extra, listen=("pop3", "pop3s", "imaps"))
        self.addCleanup(self.mx.cleanup)
        self.pop3_port = self.mx.ports["pop3"]
        self.pop3s_port = self.mx.ports["pop3s"]
        self.mx.cli("domain", "add", "example.com")
        self.pw = os.path.join(self.mx.dir, "pw")
        with open(self.pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.mx.cli("mailbox", "add", ADDRESS, "--password-file", self.pw)

    def start(self):
        self.mx.start()

    def send(self, messages, to=ADDRESS):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            for m in messages:
                s.sendmail("someone@sender.test", [to], m)

    def pop(self, password=PASSWORD, user=ADDRESS):
        """poplib over STLS, logged in."""
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        self.addCleanup(p.close)
        p.stls(client_tls())
        p.user(user)
        p.pass_(password)
        return p

    def wire(self, implicit_tls=False):
        w = Wire(self.pop3s_port if implicit_tls else self.pop3_port, implicit_tls)
        self.addCleanup(w.close)
        self.assertEqual(w.line(), "+OK Sealpost POP3 ready")
        return w

    def wire_logged_in(self):
        w = self.wire(implicit_tls=True)
        self.assertTrue(w.cmd(f"USER {ADDRESS}").startswith("+OK"))
        self.assertTrue(w.cmd(f"PASS {PASSWORD}").startswith("+OK Logged in"))
        return w

    def stored(self):
        """The INBOX as the store holds it: {uid: bytes}, from an EML export."""
        out = self.mx.workdir("pop3-eml-")
        shutil.rmtree(out)
        self.mx.cli("mailbox", "export", ADDRESS, "--format", "eml", "-o", out,
                    "--password-file", self.pw)
        got = {}
        for path in glob.glob(os.path.join(out, "INBOX", "*.eml")):
            with open(path, "rb") as f:
                got[int(os.path.basename(path)[:-4])] = f.read()
        return got

    def flags(self):
        """{uid: flags} of the INBOX, from a decrypted SQLite export."""
        path = os.path.join(self.mx.workdir("pop3-db-"), "m.db")
        self.mx.cli("mailbox", "export", ADDRESS, "--format", "sqlite", "-o", path,
                    "--password-file", self.pw)
        db = sqlite3.connect(path)
        rows = db.execute("SELECT m.uid, m.flags FROM messages m JOIN folders f ON f.id = "
                          "m.folder WHERE f.name = 'INBOX' ORDER BY m.uid").fetchall()
        db.close()
        return dict(rows)


class Pop3ClientTest(Pop3Test):
    def test_mail_sent_before_the_first_login_is_retrieved_byte_exact(self):
        self.start()
        tricky = [
            message("plain one", "hello"),
            message("dots", ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot"),
            message("long", ("0123456789abcdef" * 4 + "\r\n") * 5000),  # sent in pieces
        ]
        self.send(tricky)
        spools = glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool"))
        self.assertEqual(len(spools), 1, "the locked mailbox sealed the mail into its spool")

        p = self.pop()
        count, octets = p.stat()
        self.assertEqual(count, 3, "the login moved the spool into the mailbox")
        _, listing, _ = p.list()
        sizes = {int(n): int(s) for n, s in (l.split() for l in listing)}
        self.assertEqual(sum(sizes.values()), octets)
        _, uidls, _ = p.uidl()
        uids = {int(n): u.decode() for n, u in (l.split() for l in uidls)}
        self.assertEqual(len(set(uids.values())), 3)
        retrieved = {}
        for n in (1, 2, 3):
            resp, lines, got_octets = p.retr(n)
            self.assertEqual(resp, f"+OK {sizes[n]} octets".encode())
            raw = b"\r\n".join(lines) + b"\r\n"
            self.assertEqual(got_octets, sizes[n], "LIST's size is what RETR sends")
            self.assertEqual(len(raw), sizes[n])
            self.assertTrue(raw.startswith(b"Return-Path: <someone@sender.test>\r\n"), raw[:60])
            self.assertTrue(raw.endswith(tricky[n - 1]), "the message as sent, after the "
                            "MX's Return-Path and Received")
            retrieved[n] = raw
        # TOP n 0: the header and the blank line; TOP n 1: and one body line.
        header = retrieved[2].split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        _, top0, _ = p.top(2, 0)
        self.assertEqual(b"\r\n".join(top0) + b"\r\n", header)
        _, top1, _ = p.top(2, 1)
        self.assertEqual(b"\r\n".join(top1) + b"\r\n", header + b".leading dot\r\n")
        self.assertEqual(p.quit(), b"+OK Sealpost POP3 signing off")
        self.assertEqual(glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool")), [])

        # What POP3 sent is what the mailbox stores, byte for byte; the UIDL names the UID.
        stored = self.stored()
        self.assertEqual(len(stored), 3)
        for n in (1, 2, 3):
            validity, uid = uids[n].split(".")
            self.assertEqual(retrieved[n], stored[int(uid)])
            self.assertRegex(uids[n], r"^[0-9]+\.[0-9]+$")
        # RETR without DELE keeps the messages and marks them \Seen (TOP does not count).
        self.assertEqual(set(self.flags().values()), {1})

        # One log line per session, with counts and a hashed client: no address. (Written when
        # the session has ended, which may be just after the client's QUIT returned.)
        lines = wait_for_log(self.mx, "pop3 session", count=1)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("login=yes", lines[0])
        self.assertIn("retrieved=3", lines[0])
        self.assertIn("end=quit", lines[0])
        self.assertNotIn("127.0.0.1", lines[0])
        self.assertNotIn("alice", self.mx.log_text())
        self.assertNotIn("sender.test", self.mx.log_text())

    def test_pop3s_implicit_tls_and_auth_plain(self):
        self.start()
        self.send([message("over pop3s", "secure")])
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_tls(), timeout=30)
        self.addCleanup(p.close)
        self.assertEqual(p.getwelcome(), b"+OK Sealpost POP3 ready")
        self.assertIn(p.sock.version(), ("TLSv1.2", "TLSv1.3"))
        caps = p.capa()
        self.assertIn("SASL", caps)
        self.assertEqual(caps["SASL"], ["PLAIN"])
        self.assertNotIn("STLS", caps, "TLS is up already")
        # AUTH PLAIN with an initial response (RFC 5034).
        token = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        self.assertTrue(p._shortcmd(f"AUTH PLAIN {token}").startswith(b"+OK Logged in, 1 "))
        self.assertEqual(p.stat()[0], 1)
        self.assertTrue(b"\r\n".join(p.retr(1)[1]).endswith(b"secure"))
        p.quit()

        # AUTH PLAIN answering the "+ " challenge; "*" cancels; a wrong password fails.
        w = self.wire(implicit_tls=True)
        self.assertEqual(w.cmd("AUTH PLAIN"), "+ ")
        self.assertEqual(w.cmd("*"), "-ERR Authentication cancelled")
        wrong = base64.b64encode(f"\0{ADDRESS}\0wrong".encode()).decode()
        self.assertEqual(w.cmd(f"AUTH PLAIN {wrong}"), "-ERR [AUTH] Authentication failed")
        self.assertEqual(w.cmd("AUTH CRAM-MD5"), "-ERR Unsupported SASL mechanism: use PLAIN")
        self.assertEqual(w.cmd("APOP alice " + "0" * 32)[:5], "-ERR ")
        self.assertEqual(w.cmd("AUTH PLAIN"), "+ ")
        self.assertTrue(w.cmd(token).startswith("+OK Logged in, 1 messages"))
        self.assertEqual(w.cmd("QUIT"), "+OK Sealpost POP3 signing off")
        self.assertTrue(w.closed())

    def test_dele_quit_removes_and_rset_or_a_dropped_connection_keeps(self):
        self.start()
        self.send([message(f"keep or not {i}", f"body {i}") for i in range(3)])
        p = self.pop()
        _, before, _ = p.uidl()
        p.dele(1)
        self.assertEqual(p.stat()[0], 2)
        with self.assertRaises(poplib.error_proto) as e:
            p.retr(1)
        self.assertEqual(e.exception.args[0], b"-ERR Message 1 is marked deleted")
        with self.assertRaises(poplib.error_proto):
            p.list(1)
        self.assertEqual([l.split()[0] for l in p.list()[1]], [b"2", b"3"])
        self.assertEqual(p.rset(), b"+OK Maildrop has 3 messages (%d octets)" % p.stat()[1])
        p.quit()
        self.assertEqual(len(self.stored()), 3, "RSET unmarked it")

        # DELE, then the connection drops without QUIT: nothing is deleted.
        dropped = r"pop3 session .* login=yes .* end=eof "
        sessions = len(log_lines(self.mx, dropped))
        w = self.wire_logged_in()
        self.assertEqual(w.cmd("DELE 2"), "+OK Message 2 deleted")
        self.assertEqual(w.cmd("DELE 2"), "-ERR Message 2 is marked deleted")
        w.close()
        # The session's line is logged once it has let go of the maildrop: its count is final.
        line = wait_for_log(self.mx, dropped, count=sessions + 1)[-1]
        self.assertIn(" deleted=0 ", line)
        self.assertEqual(len(self.stored()), 3, "no QUIT, no UPDATE")

        p = self.pop()
        self.assertEqual(p.uidl()[1], before, "the same unique ids in every session")
        p.retr(1)
        p.dele(2)
        self.assertEqual(p.quit(), b"+OK Sealpost POP3 signing off (1 messages deleted)")
        p = self.pop()
        after = p.uidl()[1]
        self.assertEqual([l.split()[1] for l in after],
                         [before[0].split()[1], before[2].split()[1]],
                         "message 2 went; the others keep their unique ids")
        p.quit()
        self.assertEqual(list(self.flags().values()), [1, 0], "RETR marked message 1 \\Seen")

    def test_the_maildrop_is_fixed_at_login(self):
        self.start()
        self.send([message("first", "one")])
        p = self.pop()
        self.assertEqual(p.stat()[0], 1)
        _, first_ids, _ = p.uidl()
        self.send([message("second", "two")])  # the mailbox is open: straight into the store
        self.assertEqual(p.stat()[0], 1, "mail arriving during a session waits for the next")
        with self.assertRaises(poplib.error_proto):
            p.retr(2)
        p.quit()
        p = self.pop()
        _, ids, _ = p.uidl()
        self.assertEqual(len(ids), 2)
        self.assertEqual(ids[0], first_ids[0])
        self.assertNotEqual(ids[1].split()[1], ids[0].split()[1])
        self.assertTrue(b"\r\n".join(p.retr(2)[1]).endswith(b"two"))
        p.quit()

    def test_passwords_wait_for_stls(self):
        self.start()
        w = self.wire()
        self.assertEqual(w.cmd("CAPA"), "+OK Capability list follows")
        caps = w.multiline()
        for c in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS",
                  "IMPLEMENTATION Sealpost"):
            self.assertIn(c, caps)
        self.assertNotIn("USER", caps, "no password before TLS")
        self.assertFalse([c for c in caps if c.startswith("SASL")])
        refused = "-ERR [SYS/PERM] TLS required: send STLS first, passwords are not accepted " \
                  "in plaintext"
        self.assertEqual(w.cmd(f"USER {ADDRESS}"), refused)
        self.assertEqual(w.cmd(f"PASS {PASSWORD}"), refused)
        token = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        self.assertEqual(w.cmd(f"AUTH PLAIN {token}"), refused)
        self.assertEqual(w.cmd("STAT"), "-ERR Log in first")
        # Commands pipelined after STLS in plaintext are discarded, not run over TLS.
        w.send("STLS\r\nUSER injected\r\nCAPA\r\n")
        self.assertEqual(w.line(), "+OK Begin TLS negotiation")
        w.buf = b""
        w.sock = client_tls().wrap_socket(w.sock)
        self.assertEqual(w.cmd("PASS x"), "-ERR Send USER first", "USER injected was dropped")
        self.assertEqual(w.cmd("CAPA"), "+OK Capability list follows")
        caps = w.multiline()
        self.assertIn("USER", caps)
        self.assertIn("SASL PLAIN", caps)
        self.assertNotIn("STLS", caps)
        self.assertEqual(w.cmd("STLS"), "-ERR TLS is already active")
        self.assertTrue(w.cmd(f"USER {ADDRESS}").startswith("+OK"))
        self.assertTrue(w.cmd(f"PASS {PASSWORD}").startswith("+OK Logged in"))
        # With poplib: plaintext USER refused the same way.
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        self.addCleanup(p.close)
        with self.assertRaises(poplib.error_proto) as e:
            p.user(ADDRESS)
        self.assertTrue(e.exception.args[0].startswith(b"-ERR [SYS/PERM] TLS required"))

    def test_wrong_passwords_fail_alike_then_are_throttled(self):
        self.start()
        answers = []
        for i in range(10):
            p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
            self.addCleanup(p.close)
            p.stls(client_tls())
            p.user(ADDRESS if i % 2 else "nobody@example.com")
            with self.assertRaises(poplib.error_proto) as e:
                p.pass_(f"wrong {i}")
            answers.append(e.exception.args[0])
            p.close()
            if b"[SYS/TEMP]" in answers[-1]:
                break
        self.assertEqual(answers[0], b"-ERR [AUTH] Authentication failed",
                         "an unknown account fails as a wrong password does")
        self.assertEqual(answers[1], b"-ERR [AUTH] Authentication failed")
        self.assertEqual(answers[-1], b"-ERR [SYS/TEMP] Too many failed logins, try again later")
        self.assertLessEqual(len(answers), 8, "throttled after a few failures")
        # While throttled even the right password waits; afterwards it works.
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        self.addCleanup(p.close)
        p.stls(client_tls())
        p.user(ADDRESS)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_(PASSWORD)
        self.assertIn(b"[SYS/TEMP]", e.exception.args[0])
        deadline = time.monotonic() + 20
        while True:
            try:
                self.pop().quit()
                break
            except poplib.error_proto as err:
                self.assertIn(b"[SYS/TEMP]", err.args[0])
                self.assertLess(time.monotonic(), deadline, "the wait ends")
                time.sleep(0.5)

    def test_pipelined_commands_and_bounded_lines(self):
        self.start()
        self.send([message("pipelined", "x")])
        w = self.wire_logged_in()
        w.send("STAT\r\nLIST\r\nUIDL 1\r\nNOOP\r\nTOP 1 0\r\n")
        self.assertRegex(w.line(), r"^\+OK 1 [0-9]+$")
        self.assertRegex(w.line(), r"^\+OK 1 messages \([0-9]+ octets\)$")
        self.assertEqual(len(w.multiline()), 1)
        self.assertRegex(w.line(), r"^\+OK 1 [0-9]+\.[0-9]+$")
        self.assertEqual(w.line(), "+OK")
        self.assertEqual(w.line(), "+OK Top of message follows")
        self.assertEqual(w.multiline()[-1], "")
        self.assertEqual(w.cmd("NOOP " + "x" * 300), "-ERR Command line too long")
        self.assertEqual(w.cmd("X" * 100000), "-ERR Line too long")
        self.assertEqual(w.cmd("RETR 0"), "-ERR Invalid message number")
        self.assertEqual(w.cmd("RETR 2"), "-ERR No such message, only 1 in the maildrop")
        self.assertEqual(w.cmd("USER again"), "-ERR Already logged in")
        self.assertEqual(w.cmd("NOOP"), "+OK", "the session goes on")


    def test_imap_and_pop3_agree_on_one_mailbox(self):
        """POP3 serves the INBOX IMAP sees: the same messages, bytes and UIDs (UIDL is
        UIDVALIDITY.UID); what one deletes, the other no longer has; flags IMAP set survive POP3."""
        self.start()
        self.send([message(f"shared {i}", f"shared body {i}") for i in range(3)])
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls(),
                                 timeout=30)
        self.addCleanup(lambda: imap.state == "LOGOUT" or imap.shutdown())
        imap.login(ADDRESS, PASSWORD)
        typ, data = imap.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"3"]))
        validity = int(imap.response("UIDVALIDITY")[1][0])
        typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        by_uid = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                by_uid[uid] = item[1]
        self.assertEqual(len(by_uid), 3)

        p = self.pop()
        _, uidls, _ = p.uidl()
        pop_ids = [u.decode().split(" ")[1] for u in uidls]
        self.assertEqual(pop_ids, [f"{validity}.{uid}" for uid in sorted(by_uid)])
        for n, uid in enumerate(sorted(by_uid), 1):
            self.assertEqual(b"\r\n".join(p.retr(n)[1]) + b"\r\n", by_uid[uid])
        p.dele(2)
        p.quit()

        # The IMAP session is told at its next command: RETR set \Seen, message 2 was expunged.
        # (Its SELECT was the first to see the messages: they are its \Recent.)
        typ, _ = imap.noop()
        self.assertEqual(typ, "OK")
        self.assertEqual(imap.response("EXPUNGE")[1], [b"2"])
        remaining = sorted(by_uid)
        del remaining[1]
        self.assertEqual(imap.response("FETCH")[1],
                         [f"{i} (UID {u} FLAGS (\\Seen \\Recent))".encode()
                          for i, u in enumerate(remaining, 1)])
        typ, data = imap.fetch("1:*", "(UID FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [f"{i} (UID {u} FLAGS (\\Seen \\Recent))".encode()
                                for i, u in enumerate(remaining, 1)])
        # IMAP expunges one, flags the other: POP3's next session has one message, same id.
        imap.store("1", "+FLAGS", "(\\Deleted \\Flagged)")
        imap.expunge()
        imap.store("1", "+FLAGS", "(\\Flagged)")
        p = self.pop()
        _, uidls, _ = p.uidl()
        self.assertEqual([u.decode().split(" ")[1] for u in uidls],
                         [f"{validity}.{remaining[1]}"])
        p.quit()
        typ, data = imap.fetch("1", "(FLAGS)")
        self.assertEqual(data, [b"1 (FLAGS (\\Seen \\Flagged \\Recent))"], "POP3 kept the flags")
        imap.logout()


class Pop3LimitsTest(Pop3Test):
    access = "login_timeout = 2\nerrors_per_session = 4\nsessions_per_user = 1\n"

    def test_login_timeout_closes(self):
        self.start()
        w = self.wire()
        self.assertTrue(w.closed(timeout=20), "closed within 10 times the 2 s login timeout")
        self.assertEqual(w.buf, b"-ERR Disconnected for inactivity\r\n")

    def test_too_many_errors_close(self):
        self.start()
        w = self.wire()
        for _ in range(3):
            self.assertEqual(w.cmd("FROB"), "-ERR Unknown command")
        self.assertEqual(w.cmd("FROB"),
                         "-ERR Unknown command (too many errors, closing the connection)")
        self.assertTrue(w.closed())

    def test_sessions_per_mailbox_are_bounded(self):
        self.start()
        first = self.pop()
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_tls(), timeout=30)
        self.addCleanup(p.close)
        p.user(ADDRESS)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_(PASSWORD)
        self.assertEqual(e.exception.args[0],
                         b"-ERR [IN-USE] Too many sessions for this mailbox, try again later")
        first.quit()
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_tls(), timeout=30)
        self.addCleanup(p.close)
        p.user(ADDRESS)
        self.assertTrue(p.pass_(PASSWORD).startswith(b"+OK"))
        p.quit()


class FetchmailTest(Pop3Test):
    def fetchmail(self, home, *args):
        env = dict(os.environ, HOME=home, FETCHMAILHOME=home, LC_ALL="C")
        return subprocess.run(["fetchmail", "-f", os.path.join(home, ".fetchmailrc"),
                               "--nodetach", "--nosyslog", *args],
                              env=env, capture_output=True, text=True, timeout=120)

    def test_fetchmail_downloads_everything_over_stls(self):
        if shutil.which("fetchmail") is None:
            self.skipTest("fetchmail is not installed (Debian package fetchmail)")
        self.start()
        count = 5
        sent = [message(f"fetch {i}", f"fetchmail body {i}\r\n.dotted line {i}")
                for i in range(count)]
        self.send(sent)
        home = tempfile.mkdtemp(prefix="fetchmail-home-", dir=self.mx.dir)
        out = os.path.join(home, "out")
        os.mkdir(out)
        rc = os.path.join(home, ".fetchmailrc")
        with open(rc, "w") as f:
            f.write(f'poll 127.0.0.1 service {self.pop3_port} protocol POP3 auth password\n'
                    f'  user "{ADDRESS}" there with password "{PASSWORD}" is "{getpass.getuser()}" here\n'
                    f"  sslproto 'TLS1.2+' no sslcertck\n"
                    f'  mda "/bin/sh -c \'cat > $(mktemp {out}/msg.XXXXXX)\'"\n')
        os.chmod(rc, 0o600)

        def downloaded():
            got = []
            for path in sorted(glob.glob(os.path.join(out, "msg.*"))):
                with open(path, "rb") as f:
                    got.append(f.read())
            return got

        kept = self.fetchmail(home, "--keep")
        self.assertEqual(kept.returncode, 0, kept.stdout + kept.stderr)
        got = downloaded()
        self.assertEqual(len(got), count, kept.stdout + kept.stderr)
        self.assertEqual(len(self.stored()), count, "--keep left the mail on the server")
        for m in sent:
            body = m.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")
            self.assertEqual(sum(1 for g in got if g.replace(b"\r\n", b"\n").endswith(body)), 1,
                             body)

        # Without --keep (and --all, as fetchmail remembers what it has seen): fetched and
        # deleted.
        flushed = self.fetchmail(home, "--all")
        self.assertEqual(flushed.returncode, 0, flushed.stdout + flushed.stderr)
        self.assertEqual(len(downloaded()), 2 * count)
        self.assertEqual(self.stored(), {}, "fetched mail was deleted at QUIT")
        again = self.fetchmail(home)
        self.assertEqual(again.returncode, 1, "1: no mail")
        # Each session's line is written once it has ended, maybe after fetchmail exited.
        lines = wait_for_log(self.mx, "pop3 session", count=3)
        self.assertEqual(len(lines), 3, lines)
        for line in lines:
            self.assertRegex(line, r"tls=TLSv1\.[23] login=yes")


if __name__ == "__main__":
    unittest.main()
