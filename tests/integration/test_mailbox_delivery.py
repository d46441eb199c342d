"""Mail stored in sealed mailboxes: the MX delivers into a locked mailbox's sealed spool (and
forwards too when the address is also an alias), nothing readable reaches the disk, the spool
moves into the encrypted database at the next unlock even when that is killed part-way, and
`sealpost mailbox export|import` round-trips mail byte for byte (mboxrd that neomutt opens, EML
files, a decrypted SQLite copy), resumable after a kill."""

import glob
import mailbox
import os
import pty
import select
import signal
import smtplib
import sqlite3
import subprocess
import time
import unittest

from harness import SEALPOST_BIN, Sealpost, Sink, cli_then_reload

PASSWORD = "correct horse battery staple"


def message(subject, body, sender="someone@sender.test", to="alice@example.com"):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.test>\r\n\r\n{body}\r\n").encode()


def files_under(directory):
    for root, _, names in os.walk(directory):
        for n in names:
            yield os.path.join(root, n)


def mbox_messages(path):
    """Each message of an mboxrd file, LF line ends, ">From " unescaped (an independent reader:
    Python's mailbox module does not undo mboxrd quoting)."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out, current, previous_blank = [], None, True
    for line in lines:
        if line.startswith(b"From ") and previous_blank:
            if current is not None:
                out.append(current)
            current = []
        elif current is not None:
            stripped = line.lstrip(b">")
            if line.startswith(b">") and stripped.startswith(b"From "):
                line = line[1:]
            current.append(line)
        previous_blank = line == b""
    if current is not None:
        out.append(current)
    # Drop each message's separating blank line.
    return [b"\n".join(m[:-1] if m and m[-1] == b"" else m) + b"\n" for m in out]


class MailboxDeliveryTest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink()
        self.sink.start()
        self.addCleanup(self.sink.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port})
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.pw = self.mx.add_mailbox("alice@example.com", PASSWORD)
        self.out = os.path.join(self.mx.dir, "out")

    def send(self, messages, to="alice@example.com"):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            for m in messages:
                s.sendmail("someone@sender.test", [to], m)

    def export_mbox(self, address="alice@example.com", folder="INBOX", name="INBOX.mbox"):
        path = os.path.join(self.out, name)
        if os.path.exists(path):
            os.remove(path)
        self.mx.cli("mailbox", "export", address, "--format", "mbox", "--folder", folder, "-o",
                    path, "--password-file", self.pw)
        return path

    def test_locked_mailbox_gets_sealed_mail_that_export_reads(self):
        marker = "SEALED-7c1e-marker"
        self.mx.cli("alias", "add", "both@example.com", "--forward", "copy@dest.test")
        self.mx.cli("mailbox", "add", "both@example.com", "--password-file", self.pw)
        self.mx.start()
        self.send([message(f"{marker} {i}", f"body {marker} {i}") for i in range(3)])
        self.send([message(f"{marker} both", "to both", to="both@example.com")],
                  to="both@example.com")
        self.sink.wait_for(1)
        self.assertEqual(self.sink.messages[0].rcpt_tos, ["copy@dest.test"],
                         "an alias with a mailbox also forwards")
        spools = glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool"))
        self.assertEqual(len(spools), 2, "the locked mailboxes got spools")
        for path in files_under(self.mx.data_dir):
            with open(path, "rb") as f:
                self.assertNotIn(marker.encode(), f.read(), path)

        box = self.export_mbox()
        got = mbox_messages(box)
        self.assertEqual(len(got), 3)
        for i, raw in enumerate(got):
            self.assertTrue(raw.startswith(b"Return-Path: <someone@sender.test>\n"), raw[:80])
            self.assertIn(b"Received: from ", raw)
            self.assertTrue(raw.endswith(f"body {marker} {i}\n".encode()))
        self.assertEqual(len(glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool"))),
                         1, "alice's spool moved into her database; both@'s is still there")
        # The unlock moved alice's spool into the database: once, and nothing readable on disk.
        self.assertEqual(len(mbox_messages(self.export_mbox())), 3, "no duplicates")
        for path in files_under(self.mx.data_dir):
            with open(path, "rb") as f:
                self.assertNotIn(marker.encode(), f.read(), path)
        # Mail that arrives later joins what is there.
        self.send([message(f"{marker} later", "later")])
        self.assertEqual(len(mbox_messages(self.export_mbox())), 4)

    def spool_public_key(self):
        db = sqlite3.connect(f"file:{self.mx.data_dir}/metadata.db?mode=ro", uri=True)
        try:
            return db.execute("SELECT spool_public_key FROM mailboxes WHERE address = ?",
                              ("alice@example.com",)).fetchone()[0]
        finally:
            db.close()

    def test_rekey_moves_the_spool_in_and_rotates_its_key_pair(self):
        self.mx.start()
        self.send([message(f"before rekey {i}", f"body {i}") for i in range(2)])
        spools = glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool"))
        self.assertEqual(len(spools), 1)
        old_key = self.spool_public_key()

        new_pw = os.path.join(self.mx.dir, "new-pw")
        with open(new_pw, "w") as f:
            f.write("plum umbrella seventeen orbit\n")
        out = cli_then_reload(self.mx, "mailbox", "passwd", "alice@example.com", "--password-file",
                              self.pw, "--new-password-file", new_pw, "--rekey").stdout
        self.assertIn("re-encrypted under a new key", out)
        self.assertFalse(os.path.exists(spools[0]), "the rekey moved the spool in")
        self.assertNotEqual(self.spool_public_key(), old_key, "the spool's key pair rotated")

        # The server, reloaded, seals to the new key; the new password opens all three.
        self.send([message("after rekey", "body 2")])
        self.pw = new_pw
        got = mbox_messages(self.export_mbox())
        self.assertEqual(len(got), 3)
        for i in range(3):
            self.assertTrue(got[i].endswith(f"body {i}\n".encode()), got[i][-40:])

    def test_a_full_mailbox_defers_with_452(self):
        self.mx.cli("mailbox", "quota", "alice@example.com", "3000")
        self.mx.start()
        self.send([message("fits", "x" * 1500)])
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            with self.assertRaises(smtplib.SMTPDataError) as err:
                s.sendmail("someone@sender.test", ["alice@example.com"],
                           message("too much", "y" * 1500))
        self.assertEqual(err.exception.smtp_code, 452)
        self.assertIn(b"4.2.2", err.exception.smtp_error)

    def test_wrong_password_exports_nothing(self):
        wrong = os.path.join(self.mx.dir, "wrong")
        with open(wrong, "w") as f:
            f.write("nope\n")
        r = self.mx.cli("mailbox", "export", "alice@example.com", "-o",
                        os.path.join(self.out, "x"), "--password-file", wrong, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("authentication failed", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, "x")))

    def test_mbox_round_trip_is_byte_exact_and_neomutt_reads_it(self):
        self.mx.start()
        tricky = [
            message("plain", "hello"),
            message("from lines", "From the start of a line\r\n>From quoted\r\n>>From twice"),
            message("blank end", "ends with blank lines\r\n\r\n"),
            message("utf8 Grüße", "Grüße aus Köln — ünïcödé".encode().decode("latin-1")),
        ]
        self.send(tricky)
        first = self.export_mbox()
        with open(first, "rb") as f:
            exported = f.read()
        self.assertIn(b"\n>From the start of a line\n>>From quoted\n>>>From twice\n", exported)
        # Import into another mailbox, export again: the same bytes per message.
        self.mx.cli("mailbox", "add", "carol@example.com", "--password-file", self.pw)
        out = self.mx.cli("mailbox", "import", "carol@example.com", first, "--password-file",
                          self.pw).stdout
        self.assertIn("imported 4 messages", out)
        second = self.export_mbox("carol@example.com", name="carol.mbox")
        with open(second, "rb") as f:
            self.assertEqual(f.read(), exported)
        # Importing the same file again adds nothing.
        again = self.mx.cli("mailbox", "import", "carol@example.com", first, "--password-file",
                            self.pw).stdout
        self.assertIn("imported 0 messages", again)
        self.assertIn("4 were there already", again)
        self.assertEqual(len(mbox_messages(self.export_mbox("carol@example.com",
                                                            name="carol2.mbox"))), 4)
        self.check_neomutt(first, ["plain", "from lines", "blank end"])

    def check_neomutt(self, path, subjects):
        """Opens the mbox in neomutt on a pseudo-terminal and reads its index screen."""
        if not os.path.exists("/usr/bin/neomutt"):
            self.skipTest("neomutt is not installed (Debian package neomutt)")
        home = os.path.join(self.mx.dir, "home")
        os.makedirs(os.path.join(home, "Mail"), exist_ok=True)
        with open(os.path.join(home, ".neomuttrc"), "w") as f:
            f.write(f"set folder={home}/Mail\nset mbox_type=mbox\nset sort=date-sent\n")
        env = dict(os.environ, HOME=home, TERM="xterm", COLUMNS="160", LINES="40")
        pid, fd = pty.fork()
        if pid == 0:
            os.execve("/usr/bin/neomutt", ["neomutt", "-n", "-F",
                                           os.path.join(home, ".neomuttrc"), "-R", "-f", path],
                      env)
        screen = b""
        deadline = time.time() + 20
        try:
            while time.time() < deadline and not all(s.encode() in screen for s in subjects):
                ready, _, _ = select.select([fd], [], [], 0.5)
                if ready:
                    try:
                        screen += os.read(fd, 65536)
                    except OSError:
                        break
        finally:
            try:
                os.write(fd, b"q")
                time.sleep(0.3)
            except OSError:
                pass
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
        for s in subjects:
            self.assertIn(s.encode(), screen, f"neomutt's index shows {s!r}")
        self.assertNotIn(b"is not a mailbox", screen)

    def test_eml_and_sqlite_exports(self):
        self.mx.start()
        self.send([message("eml one", "first"), message("eml two", "second")])
        eml_dir = os.path.join(self.out, "eml")
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "eml", "-o", eml_dir,
                    "--password-file", self.pw)
        files = sorted(os.listdir(os.path.join(eml_dir, "INBOX")))
        self.assertEqual(files, ["1.eml", "2.eml"])
        with open(os.path.join(eml_dir, "INBOX", "1.eml"), "rb") as f:
            raw = f.read()
        self.assertTrue(raw.endswith(b"\r\n\r\nfirst\r\n"), "stored bytes, CRLF")
        for folder in ("Sent", "Drafts", "Junk", "Trash", "Archive"):
            self.assertTrue(os.path.isdir(os.path.join(eml_dir, folder)), folder)

        plain = os.path.join(self.out, "plain.db")
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "sqlite", "-o", plain,
                    "--password-file", self.pw)
        with open(plain, "rb") as f:
            self.assertTrue(f.read(16).startswith(b"SQLite format 3"), "decrypted copy")
        db = sqlite3.connect(plain)
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone()[0], 2)
        folders = [r[0] for r in db.execute("SELECT name FROM folders ORDER BY id")]
        self.assertEqual(folders, ["INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive"])
        db.close()
        enc = os.path.join(self.out, "enc.db")
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "sqlite", "--encrypted",
                    "-o", enc, "--password-file", self.pw)
        with open(enc, "rb") as f:
            data = f.read()
        self.assertFalse(data.startswith(b"SQLite format"))
        self.assertNotIn(b"eml one", data)
        with self.assertRaises(sqlite3.DatabaseError):
            sqlite3.connect(enc).execute("SELECT count(*) FROM messages").fetchone()
        self.assertEqual(os.stat(enc).st_mode & 0o077, 0)
        self.assertEqual(os.stat(plain).st_mode & 0o077, 0)

    def test_maildir_import_keeps_folders_and_flags(self):
        md = os.path.join(self.mx.dir, "Maildir")
        for sub in ("", ".Sent", ".Projects.2026"):
            for d in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub, d), exist_ok=True)
        with open(os.path.join(md, "cur", "1700000000.1.host:2,FS"), "wb") as f:
            f.write(b"From: a@b.test\nSubject: seen and flagged\n\nbody\n")
        with open(os.path.join(md, "new", "1700000001.2.host"), "wb") as f:
            f.write(b"From: a@b.test\nSubject: new one\n\nbody\n")
        with open(os.path.join(md, ".Sent", "cur", "1700000002.3.host:2,S"), "wb") as f:
            f.write(b"From: alice@example.com\nSubject: sent one\n\nbody\n")
        with open(os.path.join(md, ".Projects.2026", "cur", "1700000003.4.host:2,"), "wb") as f:
            f.write(b"From: a@b.test\nSubject: project\n\nbody\n")
        out = self.mx.cli("mailbox", "import", "alice@example.com", md, "--password-file",
                          self.pw).stdout
        self.assertIn("imported 4 messages", out)
        plain = os.path.join(self.out, "m.db")
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "sqlite", "-o", plain,
                    "--password-file", self.pw)
        db = sqlite3.connect(plain)
        rows = db.execute("SELECT f.name, m.flags FROM messages m JOIN folders f ON f.id = "
                          "m.folder ORDER BY f.name, m.uid").fetchall()
        db.close()
        self.assertEqual(rows, [("INBOX", 1 | 4), ("INBOX", 0), ("Projects/2026", 0),
                                ("Sent", 1)])
        box = self.export_mbox(folder="Sent", name="sent.mbox")
        self.assertEqual(mbox_messages(box)[0],
                         b"From: alice@example.com\nSubject: sent one\n\nbody\n")

    def test_kill_mid_spool_import_loses_and_duplicates_nothing(self):
        self.mx.start()
        count = 1500
        body = "line of text for the spool import test\r\n" * 20
        self.send([message(f"spooled {i}", body + str(i)) for i in range(count)])
        self.mx.stop()
        kills = 0
        path = os.path.join(self.out, "killed.mbox")
        for delay in (0.4, 0.8, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0):
            if os.path.exists(path):
                os.remove(path)
            p = subprocess.Popen([SEALPOST_BIN, "mailbox", "export", "alice@example.com",
                                  "--format", "mbox", "--folder", "INBOX", "-o", path,
                                  "--password-file", self.pw, "--config", self.mx.config],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        self.assertGreater(kills, 0, "at least one export was killed while it ran")
        got = mbox_messages(self.export_mbox())
        subjects = sorted(int(m.split(b"Subject: spooled ")[1].split(b"\n")[0]) for m in got)
        self.assertEqual(subjects, list(range(count)), f"after {kills} kills")

    def test_kill_mid_mbox_import_resumes_without_duplicates(self):
        source = os.path.join(self.mx.dir, "big.mbox")
        count = 3000
        with open(source, "wb") as f:
            for i in range(count):
                f.write(b"From x@y.test Mon Jan  1 10:00:00 2024\n")
                f.write(f"Subject: imported {i}\nMessage-ID: <{i}@y.test>\n\n".encode())
                f.write(b"some text\n" * 30 + b"\n")
        kills = 0
        for delay in (0.5, 1.0, 1.5, 2.5):
            p = subprocess.Popen([SEALPOST_BIN, "mailbox", "import", "alice@example.com", source,
                                  "--password-file", self.pw, "--config", self.mx.config],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        self.assertGreater(kills, 0)
        self.mx.cli("mailbox", "import", "alice@example.com", source, "--password-file", self.pw)
        got = mbox_messages(self.export_mbox())
        subjects = sorted(int(m.split(b"Subject: imported ")[1].split(b"\n")[0]) for m in got)
        self.assertEqual(subjects, list(range(count)), f"after {kills} kills")


class SpoolLimitTest(unittest.TestCase):
    """A locked mailbox without a quota still has a bounded spool ([limits] spool_size)."""

    def setUp(self):
        self.mx = Sealpost(extra='[limits]\nmessage_size = "8K"\nspool_size = "16K"\n')
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.pw = self.mx.add_mailbox("alice@example.com", PASSWORD)
        self.mx.start()

    def export_count(self):
        path = os.path.join(self.mx.dir, "INBOX.mbox")
        if os.path.exists(path):
            os.remove(path)
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "mbox", "--folder",
                    "INBOX", "-o", path, "--password-file", self.pw)
        return len(mbox_messages(path))

    def test_the_spool_defers_with_452_past_its_limit_until_the_owner_drains_it(self):
        accepted, refusal = 0, None
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            for i in range(20):
                try:
                    s.sendmail("someone@sender.test", ["alice@example.com"],
                               message(f"stranger {i}", "z" * 3000))
                    accepted += 1
                except smtplib.SMTPDataError as e:
                    refusal = e
                    break
        self.assertIsNotNone(refusal, "the spool stopped growing")
        self.assertEqual(refusal.smtp_code, 452)
        self.assertIn(b"4.2.2", refusal.smtp_error)
        self.assertIn(accepted, range(3, 6), "about 16K of 3K messages, then 452")
        spools = glob.glob(os.path.join(self.mx.data_dir, "mailboxes", "*.spool"))
        self.assertEqual(len(spools), 1)
        self.assertLessEqual(os.path.getsize(spools[0]), 16 * 1024)
        # The owner's unlock moves the spool into the database; mail is accepted again.
        self.assertEqual(self.export_count(), accepted)
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            s.sendmail("someone@sender.test", ["alice@example.com"], message("later", "z" * 3000))
        self.assertEqual(self.export_count(), accepted + 1)


if __name__ == "__main__":
    unittest.main()
