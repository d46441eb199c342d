"""The process's own defences (DESIGN.md principle 5): no core file, not dumpable, keys in memory
that a core dump leaves out, enough file descriptors for the connection limits."""

import base64
import ctypes
import ctypes.util
import imaplib
import os
import poplib
import pwd
import resource
import secrets
import shutil
import smtplib
import sqlite3
import ssl
import subprocess
import tempfile
import unittest

from harness import SEALPOST_BIN, Sealpost

NOBODY = pwd.getpwnam("nobody")


def sodium():
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    if lib.sodium_init() < 0:
        raise RuntimeError("libsodium does not initialise")
    return lib


def argon2id(lib, password, salt, ops, memory):
    """The KEK a login derives (crypto/mailbox_keys.cpp)."""
    out = ctypes.create_string_buffer(32)
    pw = password.encode()
    if lib.crypto_pwhash(out, ctypes.c_ulonglong(32), pw, ctypes.c_ulonglong(len(pw)), salt,
                         ctypes.c_ulonglong(ops), ctypes.c_size_t(memory), 2) != 0:
        raise RuntimeError("Argon2id failed")
    return out.raw


def xchacha_open(lib, key, sealed, context):
    """crypto::open: nonce (24) || ciphertext+tag, the context as associated data."""
    nonce, box = sealed[:24], sealed[24:]
    out = ctypes.create_string_buffer(len(box))
    out_len = ctypes.c_ulonglong(0)
    ad = context.encode()
    if lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, ctypes.byref(out_len), None, box, ctypes.c_ulonglong(len(box)), ad,
            ctypes.c_ulonglong(len(ad)), nonce, key) != 0:
        raise RuntimeError("does not open")
    return out.raw[:out_len.value]


def queue_key(lib, server_key):
    """The outbound queue's key, derived from the server key (queue/queue.cpp)."""
    out = ctypes.create_string_buffer(32)
    if lib.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32), ctypes.c_uint64(1), b"spqueue1",
                                      server_key) != 0:
        raise RuntimeError("kdf failed")
    return out.raw


def mailbox_secrets(lib, data_dir, address, password):
    """What a login of `address` unwraps, computed from the metadata store as the server does:
    {name: bytes} with the KEK, the master key (the database key) and the spool's secret key."""
    db = sqlite3.connect(os.path.join(data_dir, "metadata.db"))
    try:
        (wrapped,) = db.execute("SELECT wrapped FROM credentials WHERE address = ?",
                                (address,)).fetchone()
        file_id, spool_sealed = db.execute(
            "SELECT file_id, spool_secret_sealed FROM mailboxes WHERE address = ?",
            (address,)).fetchone()
    finally:
        db.close()
    version, ops, memory, salt, sealed = wrapped.split("$")
    assert version == "v1", wrapped
    kek = argon2id(lib, password, base64.b64decode(salt), int(ops), int(memory))
    master = xchacha_open(lib, kek, base64.b64decode(sealed), "sealpost mailbox master key v1")
    spool = xchacha_open(lib, master, bytes(spool_sealed), "sealpost spool key\n" + file_id)
    assert len(master) == 32 and len(spool) == 32
    return {f"{address} KEK": kek, f"{address} master key": master,
            f"{address} spool secret key": spool}


def limits_of(pid):
    """/proc/PID/limits as {name: (soft, hard)}."""
    out = {}
    with open(f"/proc/{pid}/limits") as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            fields = line[26:].split()
            out[name] = (fields[0], fields[1])
    return out


def as_nobody_with(rlimits):
    """A preexec_fn: the given rlimits, then uid/gid nobody (a server that needs no root)."""
    def preexec():
        for which, value in rlimits.items():
            resource.setrlimit(which, value)
        os.setgroups([])
        os.setgid(NOBODY.pw_gid)
        os.setuid(NOBODY.pw_uid)
    return preexec


def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


class ProcessLimitsTest(unittest.TestCase):
    """Started by an ordinary user under `ulimit -c unlimited`: still no core, not dumpable, and
    the open files limit raised to what the connection limits need (at most the hard limit)."""

    def setUp(self):
        self.mx = Sealpost()
        chown_tree(self.mx.dir, NOBODY.pw_uid, NOBODY.pw_gid)

    def tearDown(self):
        self.mx.cleanup()

    def test_no_core_file_not_dumpable_and_open_files_raised(self):
        self.mx.start(preexec_fn=as_nobody_with({
            resource.RLIMIT_CORE: (resource.RLIM_INFINITY, resource.RLIM_INFINITY),
            resource.RLIMIT_NOFILE: (1024, 4096)}))
        pid = self.mx.proc.pid
        with open(f"/proc/{pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        self.assertEqual(uids, [str(NOBODY.pw_uid)] * 4, "runs as nobody")
        limits = limits_of(pid)
        self.assertEqual(limits["Max core file size"], ("0", "0"))
        # The defaults' connection limits need far more than 4096: the soft limit goes up to
        # the hard one.
        self.assertEqual(limits["Max open files"], ("4096", "4096"))
        # A process that is not dumpable has its /proc files owned by root, so nobody's other
        # processes can neither read its memory nor attach to it.
        self.assertEqual(os.stat(f"/proc/{pid}/status").st_uid, 0)
        self.assertEqual(os.stat(f"/proc/{pid}/mem").st_uid, 0)
        self.assertIn("open files: the hard limit (4096) is below", self.mx.log_text())


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        # Needs 10 * 2 + 10 * 7 + 100 + 256 = 446 descriptors (cli/hardening.cpp).
        self.mx = Sealpost(extra="[limits]\nconnections = 10\n[access]\nconnections = 10\n")

    def tearDown(self):
        self.mx.cleanup()

    def check(self, nofile):
        return subprocess.run(
            [SEALPOST_BIN, "config", "check", "--config", self.mx.config], capture_output=True,
            text=True, timeout=60,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, nofile))

    def test_warns_when_the_hard_open_files_limit_is_below_what_connections_need(self):
        low = self.check((64, 64))
        self.assertEqual(low.returncode, 0, low.stderr)
        self.assertIn("warning: the open files hard limit (64) is below the 446", low.stderr)
        enough = self.check((64, 446))
        self.assertEqual(enough.returncode, 0, enough.stderr)
        self.assertNotIn("open files", enough.stderr)


def dumped_memory(pid):
    """What a core dump of `pid` holds, and more: every readable mapping not marked "dd"
    (MADV_DONTDUMP) in /proc/PID/smaps, read as root through /proc/PID/mem (root may read a
    process that is not dumpable). gdb's gcore honours "dd" too (checked on Debian 12's gdb 13),
    but on an AddressSanitizer build it writes the sanitizer's terabytes of reserved, unreadable
    address space as zeros; the readable mappings are a few hundred MiB."""
    regions, current = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                current = [start, end, fields[1], []]
                regions.append(current)
            elif fields[0] == "VmFlags:":
                current[3] = fields[1:]
    chunks = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for start, end, perms, flags in regions:
            if "r" not in perms or "dd" in flags:
                continue
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:
                continue  # [vvar] and the like
    return chunks


class CoreDumpTest(unittest.TestCase):
    """Against a server with open sessions and fresh deliveries: what a core dump would hold has
    none of the keys those sessions unwrapped, nor the server's own keys, nor the passwords a POP3
    login, an IMAP login and an SMTP AUTH over TLS sent."""

    def setUp(self):
        self.mx = Sealpost(listen=("pop3", "imap", "submission"),
                           extra="[access]\nallow_plaintext_on_loopback = true\n")
        self.mx.cli("domain", "add", "example.com")
        self.passwords = {a: "pw-" + secrets.token_hex(12)
                          for a in ("alice@example.com", "bob@example.com", "carol@example.com")}
        for address, password in self.passwords.items():
            self.mx.add_mailbox(address, password)

    def tearDown(self):
        self.mx.cleanup()

    def deliver(self, to, subject):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            s.sendmail("someone@sender.test", [to],
                       f"From: someone@sender.test\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n"
                       f"Body of {subject}.\r\n".encode())

    def test_core_of_a_running_server_holds_no_key_and_no_login_password(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to read a process that is not dumpable")
        self.mx.start()
        for address in self.passwords:
            self.deliver(address, "while locked")  # sealed to each mailbox's spool
        # alice over POP3 (plaintext on loopback: no TLS library buffer holds the line), bob
        # over IMAP; both sessions stay open, so their keys are in use when memory is read.
        pop = poplib.POP3("127.0.0.1", self.mx.ports["pop3"], timeout=30)
        pop.user("alice@example.com")
        pop.pass_(self.passwords["alice@example.com"])
        self.assertEqual(pop.stat()[0], 1)
        imap = imaplib.IMAP4("127.0.0.1", self.mx.ports["imap"], timeout=30)
        imap.login("bob@example.com", self.passwords["bob@example.com"])
        self.assertEqual(imap.select("INBOX")[0], "OK")
        self.deliver("bob@example.com", "while open")  # committed straight into the database
        imap.noop()
        # carol over submission: AUTH needs TLS, so her password went through OpenSSL's record
        # buffer as well as the session's.
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        smtp = smtplib.SMTP("127.0.0.1", self.mx.ports["submission"], timeout=30)
        smtp.starttls(context=tls)
        smtp.login("carol@example.com", self.passwords["carol@example.com"])
        smtp.noop()

        memory = dumped_memory(self.mx.proc.pid)
        imap.logout()
        pop.quit()
        smtp.quit()

        # The grep works: what the process holds in the clear is found.
        self.assertTrue(any(self.mx.hostname.encode() in m for m in memory))
        lib = sodium()
        wanted = {"alice's password (POP3)": self.passwords["alice@example.com"].encode(),
                  "bob's password (IMAP LOGIN)": self.passwords["bob@example.com"].encode(),
                  "carol's password (SMTP AUTH over TLS)":
                      self.passwords["carol@example.com"].encode(),
                  "carol's AUTH PLAIN response": base64.b64encode(
                      b"\0carol@example.com\0" + self.passwords["carol@example.com"].encode())}
        for address, password in self.passwords.items():
            wanted.update(mailbox_secrets(lib, self.mx.data_dir, address, password))
        for name in ("server.key", "srs.key", "log.key"):
            with open(os.path.join(self.mx.data_dir, name), "rb") as f:
                wanted[name] = f.read()
        wanted["queue key"] = queue_key(lib, wanted["server.key"])
        found = sorted(name for name, value in wanted.items() if any(value in m for m in memory))
        self.assertEqual(found, [], f"in {sum(map(len, memory))} bytes of dumpable memory")


def owner(path):
    return os.lstat(path).st_uid


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PrivilegesTest(unittest.TestCase):
    """Started as root, the server never serves as root; what it hands over is only its own."""

    def setUp(self):
        self.mx = Sealpost()
        self.server_uid = pwd.getpwnam(self.mx.user).pw_uid
        self.outside = tempfile.mkdtemp(prefix="outside-")
        self.addCleanup(shutil.rmtree, self.outside, True)

    def tearDown(self):
        self.mx.cleanup()

    def set_user(self, line):
        with open(self.mx.config) as f:
            text = f.read().replace(f'user = "{self.mx.user}"\n', line, 1)
        with open(self.mx.config, "w") as f:
            f.write(text)

    def serve(self):
        """`sealpost serve` expected to refuse: its exit code and output."""
        r = subprocess.run([SEALPOST_BIN, "serve", "--config", self.mx.config],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_refuses_to_serve_as_root_without_a_user(self):
        self.set_user("")
        code, out = self.serve()
        self.assertNotEqual(code, 0)
        self.assertIn("refusing to serve as root: set [server] user", out)
        self.assertFalse(os.path.exists(self.mx.data_dir), "nothing was made as root")

    def test_refuses_a_user_that_is_root(self):
        self.set_user('user = "root"\n')
        code, out = self.serve()
        self.assertNotEqual(code, 0)
        self.assertIn("server.user: root is root (uid or group 0)", out)
        r = self.mx.cli("domain", "add", "example.com", check=False)
        self.assertNotEqual(r.returncode, 0, "the CLI refuses it too")
        self.assertIn("server.user: root is root", r.stderr)

    def test_cli_run_as_root_writes_the_data_directory_as_the_server_user(self):
        self.mx.cli("domain", "add", "example.com")
        self.mx.add_mailbox("alice@example.com", "secret-" + secrets.token_hex(4))
        files = [os.path.join(root, name) for root, _, names in os.walk(self.mx.data_dir)
                 for name in names]
        self.assertIn(os.path.join(self.mx.data_dir, "metadata.db"), files)
        self.assertIn(os.path.join(self.mx.data_dir, "server.key"), files)
        self.assertEqual({p: owner(p) for p in files + [self.mx.data_dir]},
                         {p: self.server_uid for p in files + [self.mx.data_dir]})

    def test_handing_over_the_data_directory_follows_no_link(self):
        os.makedirs(self.mx.data_dir)
        victim = os.path.join(self.outside, "victim")
        linked = os.path.join(self.outside, "hard-linked")
        victim_dir = os.path.join(self.outside, "dir")
        os.mkdir(victim_dir)
        inside_victim_dir = os.path.join(victim_dir, "file")
        for path in (victim, linked, inside_victim_dir):
            with open(path, "w") as f:
                f.write("root's\n")
        os.symlink(victim, os.path.join(self.mx.data_dir, "link"))
        os.symlink(victim_dir, os.path.join(self.mx.data_dir, "dirlink"))
        os.link(linked, os.path.join(self.mx.data_dir, "hardlink"))
        os.mkdir(os.path.join(self.mx.data_dir, "sub"))
        with open(os.path.join(self.mx.data_dir, "sub", "mine"), "w") as f:
            f.write("x")
        self.mx.start()  # hands the data directory over, then serves as the user
        self.mx.stop()
        self.assertEqual(self.mx.exit_code, 0, self.mx.log_text())
        for path in (victim, linked, victim_dir, inside_victim_dir, self.outside):
            self.assertEqual(owner(path), 0, path)
        self.assertEqual(owner(os.path.join(self.mx.data_dir, "link")), 0, "the link itself too")
        for path in ("", "sub", "sub/mine", "metadata.db"):
            self.assertEqual(owner(os.path.join(self.mx.data_dir, path)), self.server_uid, path)


class ExportTest(unittest.TestCase):
    """Exports create their files new, never through a link, one file per folder."""

    def setUp(self):
        self.mx = Sealpost()
        self.mx.cli("domain", "add", "example.com")
        self.password = "pw-" + secrets.token_hex(8)
        self.mx.add_mailbox("alice@example.com", self.password)
        self.pw = os.path.join(self.mx.dir, "pw-alice@example.com")
        self.out = os.path.join(self.mx.dir, "out")
        self.outside = tempfile.mkdtemp(prefix="outside-")
        self.addCleanup(shutil.rmtree, self.outside, True)
        mbox = os.path.join(self.mx.dir, "in.mbox")
        with open(mbox, "w") as f:
            f.write("From a@b.test Thu Jan  1 00:00:00 2026\nSubject: one\n\nBody.\n")
        self.mbox = mbox

    def tearDown(self):
        self.mx.cleanup()

    def export(self, *args, check=True):
        return self.mx.cli("mailbox", "export", "alice@example.com", "--password-file", self.pw,
                           *args, check=check)

    def test_refuses_an_existing_file_unless_forced_and_never_writes_through_a_link(self):
        self.mx.cli("mailbox", "import", "alice@example.com", self.mbox, "--password-file",
                    self.pw)
        os.makedirs(self.out)
        if self.mx.user:  # the CLI writes as the server's user
            account = pwd.getpwnam(self.mx.user)
            os.chown(self.out, account.pw_uid, account.pw_gid)
        target = os.path.join(self.out, "inbox.mbox")
        with open(target, "w") as f:
            f.write("keep me\n")
        r = self.export("--folder", "INBOX", "-o", target, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists (--force replaces it)", r.stderr)
        with open(target) as f:
            self.assertEqual(f.read(), "keep me\n")
        self.export("--folder", "INBOX", "-o", target, "--force")
        with open(target) as f:
            self.assertIn("Subject: one", f.read())

        # A link where the file goes: refused; with --force the link is replaced, not followed.
        victim = os.path.join(self.outside, "victim")
        with open(victim, "w") as f:
            f.write("victim\n")
        link = os.path.join(self.out, "linked.mbox")
        os.symlink(victim, link)
        for fmt in (["--format", "mbox", "--folder", "INBOX"], ["--format", "sqlite"]):
            r = self.export(*fmt, "-o", link, check=False)
            self.assertNotEqual(r.returncode, 0, fmt)
        self.export("--folder", "INBOX", "-o", link, "--force")
        self.assertFalse(os.path.islink(link))
        with open(victim) as f:
            self.assertEqual(f.read(), "victim\n")

        # A dangling link (where the sqlite export once created the file it points to).
        dangling = os.path.join(self.out, "copy.db")
        created = os.path.join(self.outside, "created.db")
        os.symlink(created, dangling)
        r = self.export("--format", "sqlite", "-o", dangling, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(created))

        # A linked directory inside an export directory is not entered.
        eml = os.path.join(self.out, "eml")
        os.makedirs(eml)
        if self.mx.user:
            os.chown(eml, account.pw_uid, account.pw_gid)
        victim_dir = os.path.join(self.outside, "dir")
        os.mkdir(victim_dir)
        os.symlink(victim_dir, os.path.join(eml, "INBOX"))
        r = self.export("--format", "eml", "-o", eml, "--force", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(os.listdir(victim_dir), [])

    def test_distinct_folders_are_exported_to_distinct_files_and_import_back(self):
        folders = ["a/b", "a_b", "A_B", "a.b", ".hidden", "_.hidden", "..", "x.mbox/y", "x"]
        for folder in folders:
            self.mx.cli("mailbox", "import", "alice@example.com", self.mbox, "--folder", folder,
                        "--password-file", self.pw)
        self.export("--format", "mbox", "-o", self.out)
        files = [os.path.relpath(os.path.join(root, name), self.out)
                 for root, _, names in os.walk(self.out) for name in names]
        counts = {}
        for path in files:
            with open(os.path.join(self.out, path)) as f:
                counts[path] = f.read().count("Subject: one")
        # Each folder's one message in a file of its own (the others are the empty defaults).
        self.assertEqual(sorted(counts.values())[-len(folders) - 1:], [0] + [1] * len(folders),
                         counts)
        # Importing the export directory into another mailbox gives the same folders.
        self.mx.add_mailbox("bob@example.com", self.password)
        bob_pw = os.path.join(self.mx.dir, "pw-bob@example.com")
        self.mx.cli("mailbox", "import", "bob@example.com", self.out, "--password-file", bob_pw)
        again = os.path.join(self.mx.dir, "again")
        self.mx.cli("mailbox", "export", "bob@example.com", "--password-file", bob_pw,
                    "--format", "mbox", "-o", again)
        self.assertEqual(sorted(os.path.relpath(os.path.join(root, name), again)
                                for root, _, names in os.walk(again) for name in names),
                         sorted(files))


if __name__ == "__main__":
    unittest.main()
