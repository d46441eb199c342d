"""Sealed mailboxes from the command line: `sealpost mailbox add|check|list|delete` with
--password-file, the encrypted files they create, and the same answer for a wrong password and
an unknown mailbox."""

import os
import shutil
import stat
import subprocess
import unittest

from harness import SEALPOST_BIN, Sealpost


class MailboxCliTest(unittest.TestCase):
    def setUp(self):
        self.mx = Sealpost()
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.pw = os.path.join(self.mx.dir, "pw")
        with open(self.pw, "w") as f:
            f.write("correct horse battery\n")
        self.wrong = os.path.join(self.mx.dir, "wrong")
        with open(self.wrong, "w") as f:
            f.write("correct horse\n")

    def files(self):
        d = os.path.join(self.mx.data_dir, "mailboxes")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_add_check_list_delete(self):
        out = self.mx.cli("mailbox", "add", "Alice@Example.com", "--password-file", self.pw).stdout
        self.assertIn("mailbox alice@example.com created", out)
        files = self.files()
        self.assertEqual(len(files), 1, files)
        self.assertTrue(files[0].endswith(".db"))
        self.assertNotIn("alice", files[0])
        path = os.path.join(self.mx.data_dir, "mailboxes", files[0])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0)
        with open(path, "rb") as f:
            self.assertFalse(f.read(16).startswith(b"SQLite format"), "the file is encrypted")

        ok = self.mx.cli("mailbox", "check", "alice@example.com", "--password-file", self.pw)
        self.assertIn("authentication ok", ok.stdout)
        wrong = self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                            self.wrong, check=False)
        unknown = self.mx.cli("mailbox", "check", "bob@example.com", "--password-file", self.pw,
                              check=False)
        self.assertEqual(wrong.returncode, 1)
        self.assertEqual((wrong.returncode, wrong.stdout, wrong.stderr),
                         (unknown.returncode, unknown.stdout, unknown.stderr),
                         "a wrong password and an unknown mailbox look the same")

        self.assertEqual(self.mx.cli("mailbox", "list", "example.com").stdout,
                         "alice@example.com\n")
        dup = self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw,
                          check=False)
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("already exists", dup.stderr)

        self.mx.cli("mailbox", "delete", "alice@example.com")
        self.assertEqual(self.files(), [])
        self.assertEqual(self.mx.cli("mailbox", "list", "example.com").stdout, "")

    def test_password_change_keeps_the_data(self):
        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        files = self.files()
        with open(os.path.join(self.mx.data_dir, "mailboxes", files[0]), "rb") as f:
            before = f.read()
        bad = self.mx.cli("mailbox", "passwd", "alice@example.com", "--password-file", self.wrong,
                          "--new-password-file", self.wrong, check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("authentication failed", bad.stderr)
        out = self.mx.cli("mailbox", "passwd", "alice@example.com", "--password-file", self.pw,
                          "--new-password-file", self.wrong).stdout
        self.assertIn("password of alice@example.com changed", out)
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     self.pw, check=False).returncode, 1)
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     self.wrong).returncode, 0)
        with open(os.path.join(self.mx.data_dir, "mailboxes", files[0]), "rb") as f:
            self.assertEqual(f.read(), before, "the database is not rekeyed")

    def test_refusals_are_clear(self):
        r = self.mx.cli("mailbox", "add", "a@unhosted.example", "--password-file", self.pw,
                        check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("sealpost domain add unhosted.example", r.stderr)
        # No terminal and no --password-file: no password is guessed or read from a pipe.
        r = subprocess.run([SEALPOST_BIN, "mailbox", "add", "a@example.com", "--config",
                            self.mx.config], input="pw\n", capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--password-file", r.stderr)
        empty = os.path.join(self.mx.dir, "empty")
        open(empty, "w").close()
        r = self.mx.cli("mailbox", "add", "a@example.com", "--password-file", empty, check=False)
        self.assertIn("must not be empty", r.stderr)
        self.assertEqual(self.files(), [])

    def test_removing_the_domain_removes_its_mailboxes(self):
        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        self.assertEqual(len(self.files()), 1)
        self.mx.cli("domain", "remove", "example.com")
        self.assertEqual(self.files(), [])

    def test_app_passwords_open_the_mailbox_until_revoked(self):
        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        out = self.mx.cli("mailbox", "app-password", "add", "alice@example.com", "--name",
                          "phone", "--password-file", self.pw).stdout
        app = out.split(": ", 1)[1].split("\n", 1)[0]
        self.assertRegex(app, r"^[a-z2-9]{4}(-[a-z2-9]{4}){4}$")
        app_file = os.path.join(self.mx.dir, "app")
        with open(app_file, "w") as f:
            f.write(app + "\n")
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     app_file).returncode, 0)
        self.assertEqual(self.mx.cli("mailbox", "app-password", "list",
                                     "alice@example.com").stdout.split("\t")[0], "phone")
        # Creating one needs the mailbox password; names are unique.
        bad = self.mx.cli("mailbox", "app-password", "add", "alice@example.com", "--name", "tab",
                          "--password-file", self.wrong, check=False)
        self.assertEqual(bad.returncode, 1)
        dup = self.mx.cli("mailbox", "app-password", "add", "alice@example.com", "--name",
                          "phone", "--password-file", self.pw, check=False)
        self.assertIn("exists", dup.stderr)
        # A password change keeps app passwords working (the key is rewrapped, not changed).
        self.mx.cli("mailbox", "passwd", "alice@example.com", "--password-file", self.pw,
                    "--new-password-file", self.wrong)
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     app_file).returncode, 0)
        self.mx.cli("mailbox", "app-password", "revoke", "alice@example.com", "phone")
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     app_file, check=False).returncode, 1)
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     self.wrong).returncode, 0)
        self.assertEqual(self.mx.cli("mailbox", "app-password", "list",
                                     "alice@example.com").stdout, "")

    def test_quota(self):
        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        self.assertIn("1048576 bytes",
                      self.mx.cli("mailbox", "quota", "alice@example.com", "1M").stdout)
        bad = self.mx.cli("mailbox", "quota", "alice@example.com", "lots", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not a size", bad.stderr)

    def write(self, name, text):
        path = os.path.join(self.mx.dir, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        return path

    def test_weak_passwords_are_refused_with_the_reason(self):
        weak = self.write("weak", "password1")
        r = self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", weak,
                        check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password too weak (score 0 of 4, at least 3 required): it is a common "
                      "password", r.stderr)
        self.assertEqual(self.files(), [], "no mailbox was made")
        # The address's own words count as known to an attacker.
        own = self.write("own", "alice.example.com")
        r = self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", own,
                        check=False)
        self.assertIn("the mailbox's own name or domain", r.stderr)

        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        r = self.mx.cli("mailbox", "passwd", "alice@example.com", "--password-file", self.pw,
                        "--new-password-file", weak, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password too weak", r.stderr)
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     self.pw).returncode, 0, "the password is unchanged")

    def test_the_minimum_score_is_a_setting(self):
        lax = Sealpost(extra="[access]\nmin_password_score = 0\n")
        self.addCleanup(lax.cleanup)
        lax.cli("domain", "add", "example.com")
        weak = self.write("weak", "password1")
        lax.cli("mailbox", "add", "alice@example.com", "--password-file", weak)
        self.assertEqual(lax.cli("mailbox", "check", "alice@example.com", "--password-file",
                                 weak).returncode, 0)

    def test_rekey_leaves_an_old_metadata_backup_and_the_old_password_useless(self):
        self.mx.cli("mailbox", "add", "alice@example.com", "--password-file", self.pw)
        self.mx.cli("mailbox", "app-password", "add", "alice@example.com", "--name", "phone",
                    "--password-file", self.pw)
        mbox = os.path.join(self.mx.dir, "in.mbox")
        with open(mbox, "wb") as f:
            for i in range(3):
                f.write(b"From a@b.test Mon Jan  1 10:00:00 2024\n")
                f.write(f"From: a@b.test\nSubject: kept {i}\n\nbody {i}\n\n".encode())
        self.mx.cli("mailbox", "import", "alice@example.com", mbox, "--password-file", self.pw)
        # A backup of the metadata store as it is now: the old wrapped key.
        old_view = os.path.join(self.mx.dir, "old-view")
        os.makedirs(old_view)
        for suffix in ("", "-wal"):
            src = os.path.join(self.mx.data_dir, "metadata.db" + suffix)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(old_view, "metadata.db" + suffix))

        new = self.write("new", "plum umbrella seventeen orbit")
        out = self.mx.cli("mailbox", "passwd", "alice@example.com", "--password-file", self.pw,
                          "--new-password-file", new, "--rekey").stdout
        self.assertIn("re-encrypted under a new key", out)
        self.assertIn("1 app password(s) revoked", out)

        # The backup and the old password give the old key, which opens none of today's files.
        # (Today's files copied beside the old metadata: the CLI, acting as the server's user,
        # follows no symlink inside a data directory.)
        shutil.copytree(os.path.join(self.mx.data_dir, "mailboxes"),
                        os.path.join(old_view, "mailboxes"))
        if self.mx.user:
            subprocess.run(["chown", "-R", self.mx.user, old_view], check=True)
        with open(self.mx.config) as f:
            config = f.read().replace(self.mx.data_dir, old_view)
        old_config = os.path.join(self.mx.dir, "old.toml")
        with open(old_config, "w") as f:
            f.write(config)
        run = lambda *args: subprocess.run([SEALPOST_BIN, *args, "--config", old_config],
                                           capture_output=True, text=True, timeout=60)
        self.assertEqual(run("mailbox", "check", "alice@example.com", "--password-file",
                             self.pw).returncode, 0, "the backup unwraps the old key")
        stolen = run("mailbox", "export", "alice@example.com", "--format", "eml", "-o",
                     os.path.join(self.mx.dir, "stolen"), "--password-file", self.pw)
        self.assertNotEqual(stolen.returncode, 0)
        self.assertIn("cannot be opened with this key", stolen.stderr)

        # Today's metadata: the old password fails, the new one opens every message.
        self.assertEqual(self.mx.cli("mailbox", "check", "alice@example.com", "--password-file",
                                     self.pw, check=False).returncode, 1)
        self.assertEqual(self.mx.cli("mailbox", "app-password", "list",
                                     "alice@example.com").stdout, "")
        eml = os.path.join(self.mx.dir, "eml")
        self.mx.cli("mailbox", "export", "alice@example.com", "--format", "eml", "-o", eml,
                    "--password-file", new)
        bodies = []
        for root, _, names in os.walk(eml):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    bodies.append(f.read())
        self.assertEqual(len(bodies), 3)
        for i in range(3):
            self.assertEqual(sum(f"Subject: kept {i}".encode() in b for b in bodies), 1)


if __name__ == "__main__":
    unittest.main()
