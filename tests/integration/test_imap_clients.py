"""IMAP over a sealed mailbox, driven by real mail clients from Debian: mbsync (isync) syncing the
mailbox both ways with a local Maildir until both sides are identical, neomutt reading the INBOX
over IMAPS on a pseudo-terminal, and two concurrent IDLE sessions that see deliveries by the MX
and each other's STORE and EXPUNGE at once.

Mail arrives through the MX (smtplib to the SMTP port) and by APPEND; what the clients hold is
compared with what the server stores (imaplib UID FETCH BODY.PEEK[], and the EML export)."""

import fcntl
import imaplib
import os
import pty
import re
import select
import shutil
import signal
import smtplib
import socket
import ssl
import struct
import subprocess
import termios
import time
import unittest

from harness import Sealpost
from imap_parse import fetch_items

PASSWORD = "correct horse battery staple"
ADDRESS = "alice@example.com"

# Maildir info letters (https://cr.yp.to/proto/maildir.html) and the IMAP flags they stand for.
MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen",
                 "T": "\\Deleted"}


def message(subject, body, sender="someone@sender.test", to=ADDRESS):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.test>\r\n\r\n{body}\r\n").encode()


def lf(data):
    return data.replace(b"\r\n", b"\n")


def canonical(raw):
    """A message as mbsync's two sides must agree on it: LF line ends (the server stores CRLF, the
    Maildir LF), and without the one X-TUID header mbsync 1.4 adds at the end of the header of
    every message it copies, either way (the key of its journal)."""
    head, sep, body = lf(raw).partition(b"\n\n")
    return re.sub(rb"\nX-TUID: [A-Za-z0-9+/]{12}$", b"", head, count=1) + sep + body


def subject_of(raw):
    m = re.search(rb"^Subject: (.*?)\r?$", raw, re.M)
    return m.group(1).decode() if m else None


class Wire:
    """An IMAP connection spoken by hand over TLS, for IDLE: every line the server sends is seen
    when it arrives (imaplib has no IDLE before Python 3.14)."""

    def __init__(self, port, cafile, timeout=15.0):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False  # the certificate names mx.sealpost.test; we dial 127.0.0.1
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                             timeout=timeout))
        self.timeout = timeout
        self.buf = b""
        self.tags = 0
        self.greeting = self.line()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def line(self, deadline=None):
        """One response line, literals included ({n} followed by its n octets); None when the
        deadline (time.monotonic()) passes first."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                if not self._fill(deadline):
                    return None
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line
            m = re.search(rb"\{(\d+)\+?\}$", line)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                if not self._fill(deadline):
                    return None
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]

    def _fill(self, deadline):
        wait = self.timeout if deadline is None else deadline - time.monotonic()
        if wait <= 0:
            return False
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            if deadline is None:
                raise
            return False
        if not chunk:
            raise ConnectionError(f"connection closed; got {self.buf!r}")
        self.buf += chunk
        return True

    def command(self, text):
        """Sends `TAG text`; returns (untagged lines, tagged line)."""
        self.tags += 1
        tag = f"W{self.tags}"
        self.send(f"{tag} {text}")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)

    def idle(self):
        """Starts IDLE; returns the tag. The continuation must come at once."""
        self.tags += 1
        tag = f"W{self.tags}"
        self.send(f"{tag} IDLE")
        return tag

    def lines_until(self, pattern, deadline):
        """Reads lines until one matches `pattern` (bytes regex); returns (match or None,
        lines read, time.monotonic() when the match was read)."""
        seen = []
        while True:
            line = self.line(deadline)
            if line is None:
                return None, seen, None
            seen.append(line)
            m = re.match(pattern, line)
            if m:
                return m, seen, time.monotonic()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class ImapClientsTest(unittest.TestCase):
    def setUp(self):
        self.mx = Sealpost(listen=("imap", "imaps"))
        self.addCleanup(self.mx.cleanup)
        # The harness's certificate names mx.sealpost.test only, which resolves nowhere here.
        # Issued again (same files) for localhost and 127.0.0.1 too, so that the clients verify
        # the server's name for real: with the certificate as their only trust anchor, connecting
        # to localhost (which is 127.0.0.1).
        self.cert = os.path.join(self.mx.dir, "cert.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", os.path.join(self.mx.dir, "key.pem"), "-out", self.cert,
             "-days", "2", "-subj", "/CN=mx.sealpost.test", "-addext",
             "subjectAltName=DNS:mx.sealpost.test,DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
        self.mx.cli("domain", "add", "example.com")
        self.pw = os.path.join(self.mx.dir, "pw")
        with open(self.pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.mx.cli("mailbox", "add", ADDRESS, "--password-file", self.pw)
        self.mx.start()

    # ---- helpers

    def deliver(self, messages):
        """Sends through the MX; returns time.monotonic() when the last DATA got its 250."""
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            for m in messages:
                self.assertEqual(s.sendmail("someone@sender.test", [ADDRESS], m), {})
                at = time.monotonic()
        return at

    def tls(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False
        return ctx

    def imap(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=self.tls(),
                              timeout=30)
        self.addCleanup(self.close_quietly, m)
        m.login(ADDRESS, PASSWORD)
        return m

    @staticmethod
    def close_quietly(m):
        try:
            m.shutdown()
        except Exception:
            pass

    def ok(self, result):
        typ, data = result
        self.assertEqual(typ, "OK", data)
        return data

    def server_folders(self, m):
        names = []
        for line in self.ok(m.list('""', "*")):
            names.append(re.match(rb'\(.*?\) "/" (.*)$', line).group(1).decode().strip('"'))
        return sorted(names)

    def server_state(self):
        """{folder: {uid: (frozenset of flags, bytes)}} as the server has it, read with EXAMINE
        and UID FETCH BODY.PEEK[] (which changes nothing)."""
        m = self.imap()
        out = {}
        for folder in self.server_folders(m):
            count = int(self.ok(m.select(f'"{folder}"', readonly=True))[0])
            msgs = {}
            if count:
                items = fetch_items(self.ok(m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")))
                self.assertEqual(len(items), count, folder)
                for it in items.values():
                    msgs[it["UID"]] = (frozenset(str(f) for f in it["FLAGS"]), it["BODY[]"])
            out[folder] = msgs
        m.logout()
        return out

    def internal_dates(self, folder):
        """{uid: INTERNALDATE as a Unix time} of one folder."""
        m = self.imap()
        self.ok(m.select(folder, readonly=True))
        items = fetch_items(self.ok(m.uid("FETCH", "1:*", "(UID INTERNALDATE)")))
        m.logout()
        return {it["UID"]: int(time.mktime(imaplib.Internaldate2tuple(
            b'INTERNALDATE "' + it["INTERNALDATE"] + b'"'))) for it in items.values()}

    def export(self, name):
        """The EML export: {folder: {uid: bytes}}."""
        out_dir = os.path.join(self.mx.dir, name)
        self.mx.cli("mailbox", "export", ADDRESS, "--format", "eml", "-o", out_dir,
                    "--password-file", self.pw)
        out = {}
        for root, _, files in os.walk(out_dir):
            folder = os.path.relpath(root, out_dir)
            if folder == ".":
                continue
            msgs = out.setdefault(folder, {})
            for f in files:
                self.assertTrue(f.endswith(".eml"), f)
                with open(os.path.join(root, f), "rb") as fh:
                    msgs[int(f[:-4])] = fh.read()
        return out

    # ---- mbsync

    def maildir_state(self, root):
        """{folder: {file name: (frozenset of flags, bytes)}} of a Maildir tree as mbsync
        writes it with SubFolders Verbatim (INBOX at root/INBOX)."""
        out = {}
        for dirpath, dirs, _ in os.walk(root):
            if not {"cur", "new", "tmp"} <= set(dirs):
                continue
            folder = os.path.relpath(dirpath, root)
            msgs = {}
            for sub in ("new", "cur"):
                for name in os.listdir(os.path.join(dirpath, sub)):
                    info = name.split(":2,", 1)[1] if ":2," in name else ""
                    flags = frozenset(MAILDIR_FLAGS[c] for c in info if c in MAILDIR_FLAGS)
                    with open(os.path.join(dirpath, sub, name), "rb") as f:
                        msgs[f"{sub}/{name}"] = (flags, f.read())
            out[folder] = msgs
        return out

    def write_mbsyncrc(self, home, maildir, tls_mode):
        port = self.mx.ports["imaps" if tls_mode == "IMAPS" else "imap"]
        rc = os.path.join(home, ".mbsyncrc")
        with open(rc, "w") as f:
            f.write(f"""IMAPAccount sealpost
Host localhost
Port {port}
User {ADDRESS}
PassCmd "head -n 1 {self.pw}"
SSLType {tls_mode}
SSLVersions TLSv1.2 TLSv1.3
CertificateFile {self.cert}
SystemCertificates no

IMAPStore server
Account sealpost

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel mail
Far :server:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
Sync All
SyncState *
CopyArrivalDate yes
""")
        return rc

    def mbsync(self, home, maildir, tls_mode):
        rc = self.write_mbsyncrc(home, maildir, tls_mode)
        r = subprocess.run(["mbsync", "-c", rc, "-V", "mail"], env=dict(os.environ, HOME=home),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"mbsync failed:\n{r.stdout}\n{r.stderr}")
        self.assertNotIn("Error", r.stdout + r.stderr, r.stdout + r.stderr)
        self.assertIn("Connection is now encrypted", r.stdout + r.stderr)
        return r.stdout + r.stderr

    def assertSameMail(self, server, local):
        """Both sides hold the same folders, and in each the same messages (bytes, CRLF on the
        server and LF in the Maildir as mbsync writes it) with the same flags."""
        self.assertEqual(sorted(server), sorted(local), "the same folders on both sides")
        for folder in server:
            remote = sorted((canonical(body), sorted(flags))
                            for flags, body in server[folder].values())
            near = sorted((canonical(body), sorted(flags))
                          for flags, body in local[folder].values())
            self.assertEqual(remote, near, f"folder {folder}")
            for flags, body in server[folder].values():
                self.assertNotIn(b"\n", body.replace(b"\r\n", b""),
                                 f"{folder}: the server stores CRLF lines only")

    def test_mbsync_syncs_both_ways_until_identical(self):
        if shutil.which("mbsync") is None:
            self.skipTest("mbsync is not installed (Debian package isync)")
        # On the server: three deliveries through the MX, one APPEND to INBOX (\Seen) and one
        # to Sent.
        self.deliver([message(f"delivered {i}", f"delivered body {i}") for i in range(3)])
        m = self.imap()
        self.ok(m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(1764583200),
                         message("appended seen", "appended body")))
        self.ok(m.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(1764583300),
                         message("sent one", "sent body", sender=ADDRESS, to="bob@else.test")))
        m.logout()

        home = os.path.join(self.mx.dir, "mbsync-home")
        maildir = os.path.join(home, "Mail")
        os.makedirs(maildir)
        # Folders that exist only locally, one below the other: Create Both makes them on the
        # server (and the server's Sent, Archive, ... in the Maildir).
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, "Projects", sub))
            os.makedirs(os.path.join(maildir, "Projects", "2026", sub))
        local_only = b"From: alice@example.com\nSubject: project plan\n\nplan body\n"
        with open(os.path.join(maildir, "Projects", "cur", "1764583400.P1.testhost:2,S"),
                  "wb") as f:
            f.write(local_only)
        nested = b"From: alice@example.com\nSubject: project 2026\n\nnested body\n"
        with open(os.path.join(maildir, "Projects", "2026", "cur",
                               "1764583401.P1.testhost:2,F"), "wb") as f:
            f.write(nested)

        # First sync over implicit TLS: everything is pulled, Projects pushed.
        out = self.mbsync(home, maildir, "IMAPS")
        server = self.server_state()
        local = self.maildir_state(maildir)
        self.assertEqual(sorted(server), ["Archive", "Drafts", "INBOX", "Junk", "Projects",
                                          "Projects/2026", "Sent", "Trash"], out)
        self.assertSameMail(server, local)
        self.assertEqual(len(server["INBOX"]), 4)
        self.assertEqual(sorted(subject_of(b) for _, b in server["INBOX"].values()),
                         ["appended seen", "delivered 0", "delivered 1", "delivered 2"])
        [(flags, body)] = server["Projects"].values()
        self.assertEqual(flags, {"\\Seen"})
        self.assertEqual(canonical(body), local_only, "the local message reached the server")
        [(flags, body)] = server["Projects/2026"].values()
        self.assertEqual(flags, {"\\Flagged"})
        self.assertEqual(canonical(body), nested)
        # What mbsync pulled is what the mailbox stores (the EML export), byte for byte.
        exported = self.export("export-1")
        for folder in server:
            self.assertEqual({u: b for u, (_, b) in server[folder].items()},
                             exported.get(folder, {}), folder)
        # Unseen mail went to new/, seen mail to cur/ with its S. CopyArrivalDate: the file
        # times are the server's INTERNALDATEs (the APPENDed one's as given).
        inbox = local["INBOX"]
        dates = self.internal_dates("INBOX")
        for name, (_, body) in inbox.items():
            [uid] = [u for u, (_, b) in server["INBOX"].items() if canonical(b) == canonical(body)]
            self.assertEqual(int(os.stat(os.path.join(maildir, "INBOX", name)).st_mtime),
                             dates[uid], name)
        self.assertIn(1764583200, dates.values())
        for name, (flags, body) in inbox.items():
            if subject_of(body).startswith("delivered"):
                self.assertTrue(name.startswith("new/"), name)
                self.assertEqual(flags, frozenset())
            else:
                self.assertEqual(flags, {"\\Seen"}, name)

        # Local changes: a new message, one delivered message marked seen and flagged, another
        # deleted. On the server meanwhile: a new delivery and \Answered on the appended one.
        by_subject = {subject_of(body): name for name, (_, body) in inbox.items()}
        inbox_dir = os.path.join(maildir, "INBOX")
        written = b"From: alice@example.com\nSubject: written locally\n\nlocal body\n"
        with open(os.path.join(inbox_dir, "new", "1764583500.P2.testhost"), "wb") as f:
            f.write(written)
        os.utime(os.path.join(inbox_dir, "new", "1764583500.P2.testhost"),
                 (1764583500, 1764583500))
        marked = by_subject["delivered 1"]
        base = os.path.basename(marked).split(":2,")[0]
        os.rename(os.path.join(inbox_dir, marked), os.path.join(inbox_dir, "cur", base + ":2,FS"))
        os.remove(os.path.join(inbox_dir, by_subject["delivered 2"]))
        m = self.imap()
        self.ok(m.select("INBOX"))
        appended_uid = [u for u, (_, b) in server["INBOX"].items()
                        if subject_of(b) == "appended seen"][0]
        self.ok(m.uid("STORE", str(appended_uid), "+FLAGS.SILENT", "(\\Answered)"))
        m.logout()
        self.deliver([message("delivered later", "later body")])

        # Second sync, over STARTTLS on the other port.
        out = self.mbsync(home, maildir, "STARTTLS")
        after = self.server_state()
        local = self.maildir_state(maildir)
        self.assertSameMail(after, local)
        inbox = {subject_of(b): (u, flags, b) for u, (flags, b) in after["INBOX"].items()}
        self.assertEqual(sorted(inbox), ["appended seen", "delivered 0", "delivered 1",
                                         "delivered later", "written locally"], out)
        old = {subject_of(b): (u, flags, b) for u, (flags, b) in server["INBOX"].items()}
        # Exactly those changes: the same UIDs and bytes for what stayed, the flags changed only
        # where they were changed.
        for s in ("appended seen", "delivered 0", "delivered 1"):
            self.assertEqual(inbox[s][0], old[s][0], f"{s}: same UID")
            self.assertEqual(inbox[s][2], old[s][2], f"{s}: same bytes")
        self.assertEqual(inbox["delivered 0"][1], frozenset())
        self.assertEqual(inbox["delivered 1"][1], {"\\Seen", "\\Flagged"})
        self.assertEqual(inbox["appended seen"][1], {"\\Seen", "\\Answered"})
        self.assertEqual(inbox["written locally"][1], frozenset())
        self.assertEqual(canonical(inbox["written locally"][2]), written)
        self.assertGreater(inbox["written locally"][0], max(u for u in server["INBOX"]))
        self.assertEqual(self.internal_dates("INBOX")[inbox["written locally"][0]], 1764583500,
                         "APPEND kept the date mbsync gave (the file's time)")
        self.assertNotIn("delivered 2", inbox, "the deleted message was expunged")
        local_inbox = {subject_of(b): (n, fl) for n, (fl, b) in local["INBOX"].items()}
        self.assertEqual(local_inbox["appended seen"][1], {"\\Seen", "\\Answered"})
        self.assertTrue(local_inbox["delivered later"][0].startswith("new/"))
        for folder in after:
            if folder != "INBOX":
                self.assertEqual(after[folder], server[folder], f"{folder} did not change")
        exported = self.export("export-2")
        self.assertEqual({u: b for u, (_, b) in after["INBOX"].items()}, exported["INBOX"])

        # A third sync has nothing to do: nothing changes on either side.
        m = self.imap()
        before_status = self.ok(m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"))
        m.logout()
        out = self.mbsync(home, maildir, "IMAPS")
        self.assertEqual(self.maildir_state(maildir), local, "no local change")
        self.assertEqual(self.server_state(), after, "no server change")
        m = self.imap()
        self.assertEqual(
            self.ok(m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)")),
            before_status, "not even a MODSEQ moved")
        m.logout()

    # ---- neomutt

    def test_neomutt_reads_the_inbox_over_imaps(self):
        if shutil.which("neomutt") is None:
            self.skipTest("neomutt is not installed (Debian package neomutt)")
        subjects = ["neomutt first", "neomutt second", "neomutt third"]
        self.deliver([message(s, f"body of {s}") for s in subjects])
        home = os.path.join(self.mx.dir, "neomutt-home")
        os.makedirs(home)
        certs = os.path.join(home, "certificates")
        shutil.copy(self.cert, certs)
        port = self.mx.ports["imaps"]
        url = f"imaps://alice%40example.com@localhost:{port}/INBOX"
        rc = os.path.join(home, "muttrc")
        with open(rc, "w") as f:
            f.write(f'set imap_user="{ADDRESS}"\nset imap_pass="{PASSWORD}"\n'
                    f'set certificate_file="{certs}"\nset ssl_verify_host=yes\n'
                    "set ssl_force_tls=yes\nset ssl_starttls=yes\n"
                    'set header_cache=""\nset message_cachedir=""\n'
                    f'set folder="imaps://localhost:{port}/"\n'
                    "set sort=date-sent\nset imap_check_subscribed=no\n"
                    "set mail_check_stats=no\nset timeout=0\nset imap_keepalive=300\n")
        env = dict(os.environ, HOME=home, TERM="xterm", COLUMNS="160", LINES="40", LC_ALL="C.UTF-8")
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve("/usr/bin/neomutt", ["neomutt", "-n", "-F", rc, "-R", "-f", url], env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        screen = b""

        def read_until(done, seconds):
            nonlocal screen
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not done():
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    try:
                        screen += os.read(fd, 65536)
                    except OSError:
                        return

        try:
            read_until(lambda: all(s.encode() in screen for s in subjects), 30)
            index = screen
            # Open the first message in the pager: its body comes over IMAP too.
            os.write(fd, b"\r")
            read_until(lambda: b"body of neomutt first" in screen[len(index):], 15)
            pager = screen[len(index):]
        finally:
            try:
                os.write(fd, b"qq")
                time.sleep(0.3)
            except OSError:
                pass
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
        for s in subjects:
            self.assertIn(s.encode(), index, f"neomutt's index shows {s!r}: {index[-2000:]!r}")
        self.assertIn(b"body of neomutt first", pager, pager[-2000:])
        for bad in (b"Login failed", b"rror", b"not verif"):
            self.assertNotIn(bad, index)
        # The session's log line is written when the server sees the connection end.
        deadline = time.monotonic() + 10
        while not re.search(r"imap session .*tls=TLSv1\.[23] login=yes", self.mx.log_text()):
            self.assertLess(time.monotonic(), deadline, self.mx.log_text())
            time.sleep(0.1)

    # ---- IDLE

    def wire(self):
        w = Wire(self.mx.ports["imaps"], self.cert)
        self.addCleanup(w.close)
        self.assertTrue(w.greeting.startswith(b"* OK"), w.greeting)
        _, ok = w.command(f'LOGIN {ADDRESS} "{PASSWORD}"')
        self.assertTrue(ok.startswith(b"OK"), ok)
        return w

    def test_two_idle_sessions_see_deliveries_and_each_others_changes(self):
        self.deliver([message("before 1", "one"), message("before 2", "two")])
        a, b = self.wire(), self.wire()
        for w in (a, b):
            untagged, ok = w.command("SELECT INBOX")
            self.assertTrue(ok.startswith(b"OK"), ok)
            self.assertIn(b"* 2 EXISTS", untagged)

        # Both IDLE; a delivery wakes both. An idling session has no timer of its own: only the
        # mailbox's notification wakes it, so the generous deadlines below prove the push.
        tags = {}
        for w in (a, b):
            tags[w] = w.idle()
            cont = w.line()
            self.assertTrue(cont.startswith(b"+ "), cont)
        t250 = self.deliver([message("while idle", "three")])
        for name, w in (("first", a), ("second", b)):
            m, seen, at = w.lines_until(rb"\* 3 EXISTS$", t250 + 30)
            self.assertIsNotNone(m, f"{name} IDLE session: no '* 3 EXISTS' after the 250; "
                                    f"got {seen!r}")
            for line in seen:
                self.assertTrue(line.startswith(b"* "), line)

        # The first ends its IDLE; the second stays idling and sees the first's STORE.
        a.send("DONE")
        m, seen, _ = a.lines_until(rf"{tags[a]} ".encode(), time.monotonic() + 10)
        self.assertIsNotNone(m, seen)
        self.assertRegex(seen[-1], rb"^W\d+ OK")
        untagged, ok = a.command("STORE 2 +FLAGS (\\Flagged)")
        self.assertTrue(ok.startswith(b"OK"), ok)
        # a selected first: the two messages are its \Recent (RFC 3501 2.3.2), not b's.
        self.assertTrue(any(re.match(rb"\* 2 FETCH \(.*FLAGS \(\\Flagged \\Recent\)", l)
                            for l in untagged), untagged)
        started = time.monotonic()
        m, seen, at = b.lines_until(rb"\* 2 FETCH \((.*)\)$", started + 30)
        self.assertIsNotNone(m, f"the idling session did not see the STORE: {seen!r}")
        self.assertRegex(m.group(1), rb"FLAGS \(\\Flagged\)")
        uid = re.search(rb"UID (\d+)", m.group(1))
        if uid:
            self.assertEqual(uid.group(1), b"2")

        # The first expunges message 1; the idling second is told `* 1 EXPUNGE`.
        _, ok = a.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertTrue(ok.startswith(b"OK"), ok)
        untagged, ok = a.command("EXPUNGE")
        self.assertTrue(ok.startswith(b"OK"), ok)
        self.assertEqual(untagged[0], b"* 1 EXPUNGE", untagged)
        # RFC 9051 section 7.4.1: an EXISTS after EXPUNGE is not necessary, but allowed.
        self.assertIn(untagged[1:], ([], [b"* 2 EXISTS"]), untagged)
        m, seen, at = b.lines_until(rb"\* (\d+) EXPUNGE$", time.monotonic() + 30)
        self.assertIsNotNone(m, f"the idling session did not see the EXPUNGE: {seen!r}")
        self.assertEqual(m.group(1), b"1")
        for line in seen[:-1]:
            self.assertRegex(line, rb"^\* 1 FETCH \(.*\\Deleted", "only the \\Deleted flag first")
        b.send("DONE")
        m, seen, _ = b.lines_until(rf"{tags[b]} ".encode(), time.monotonic() + 10)
        self.assertIsNotNone(m, seen)
        self.assertRegex(seen[-1], rb"^W\d+ OK")
        self.assertIn(seen[:-1], ([], [b"* 2 EXISTS"]), "nothing more to tell after DONE")

        # Both agree on what is left, by sequence number: message 1 is now UID 2 (\Flagged),
        # message 2 is UID 3. \Recent is each session's own (RFC 3501 2.3.2): UID 2 is a's,
        # which selected first; UID 3 came while both idled, and is one session's.
        got = {}
        for w in (a, b):
            untagged, ok = w.command("FETCH 1:* (UID FLAGS)")
            self.assertTrue(ok.startswith(b"OK"), ok)
            self.assertEqual(len(untagged), 2, untagged)
            got[w] = untagged
        self.assertEqual(got[a][0], b"* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))")
        self.assertEqual(got[b][0], b"* 1 FETCH (UID 2 FLAGS (\\Flagged))")
        self.assertEqual(sorted([got[a][1], got[b][1]]), [b"* 2 FETCH (UID 3 FLAGS ())",
                                                          b"* 2 FETCH (UID 3 FLAGS (\\Recent))"])

        # An APPEND by one wakes the other's IDLE as a delivery does.
        tags[a] = a.idle()
        self.assertTrue(a.line().startswith(b"+ "))
        started = time.monotonic()
        raw = message("appended while idle", "four")
        b.send(f"W{b.tags + 1} APPEND INBOX {{{len(raw)}+}}")
        b.tags += 1
        b.sock.sendall(raw + b"\r\n")
        m, seen, _ = b.lines_until(rf"W{b.tags} ".encode(), started + 10)
        self.assertIsNotNone(m, seen)
        self.assertRegex(seen[-1], rb"^W\d+ OK \[APPENDUID \d+ 4\]")
        m, seen, at = a.lines_until(rb"\* 3 EXISTS$", started + 30)
        self.assertIsNotNone(m, f"APPEND by another session did not wake IDLE: {seen!r}")
        a.send("DONE")
        m, seen, _ = a.lines_until(rf"{tags[a]} ".encode(), time.monotonic() + 10)
        self.assertIsNotNone(m, seen)
        self.assertRegex(seen[-1], rb"^W\d+ OK")
        for w in (a, b):
            _, ok = w.command("LOGOUT")
            self.assertTrue(ok.startswith(b"OK"), ok)


if __name__ == "__main__":
    unittest.main()
