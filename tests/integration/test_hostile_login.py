"""Password hashing cannot be used to stall the server (issue 16): Argon2id runs on a small pool
of its own with a bounded queue. A login storm gets "try again shortly" at once on every protocol
once the pool is full, while logged-in users keep being served from the worker pool."""

import os
import select
import socket
import sqlite3
import time
import unittest

from harness import Sealpost

PASSWORD = "correct horse battery staple"
ALICE = "alice@example.com"
SLOW = "slow@example.com"


class Imap:
    """An IMAP client on a raw socket: tagged commands, answers read as they come."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.line()  # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, tag, command):
        self.sock.sendall(f"{tag} {command}\r\n".encode())

    def tagged(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line

    def answered(self):
        """Whether the server has sent anything (without waiting)."""
        return bool(self.buf) or bool(select.select([self.sock], [], [], 0)[0])

    def close(self):
        self.sock.close()


class KdfPoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mx = Sealpost(listen=("imap", "pop3"), extra=(
            "[access]\nallow_plaintext_on_loopback = true\nkdf_workers = 1\nkdf_queue = 0\n"))
        cls.mx.cli("domain", "add", "example.com")
        cls.mx.add_mailbox(ALICE, PASSWORD)
        cls.mx.add_mailbox(SLOW, PASSWORD)
        # The slow mailbox's wrapping asks for Argon2id with 1 GiB and 4 passes (the largest cost
        # the server accepts is 4 GiB and 32): a login to it holds the only worker for seconds.
        db = sqlite3.connect(os.path.join(cls.mx.data_dir, "metadata.db"))
        (wrapped,) = db.execute("SELECT wrapped FROM credentials WHERE address = ?",
                                (SLOW,)).fetchone()
        version, _, _, salt, sealed = wrapped.split("$")
        db.execute("UPDATE credentials SET wrapped = ? WHERE address = ?",
                   (f"{version}$4${1 << 30}${salt}${sealed}", SLOW))
        db.commit()
        db.close()
        cls.mx.start()

    @classmethod
    def tearDownClass(cls):
        cls.mx.cleanup()

    def test_a_full_pool_refuses_logins_at_once_and_mailbox_reads_go_on(self):
        port = self.mx.ports["imap"]
        reader = Imap(port)
        self.addCleanup(reader.close)
        reader.send("r1", f'LOGIN {ALICE} "{PASSWORD}"')
        self.assertIn("OK", reader.tagged("r1"))
        reader.send("r2", "SELECT INBOX")
        self.assertIn("OK", reader.tagged("r2"))

        slow = Imap(port)
        self.addCleanup(slow.close)
        slow_tag = "s1"
        slow.send(slow_tag, f'LOGIN {SLOW} "{PASSWORD}"')

        # Until the slow login has the worker, another login may still get it; once it has it,
        # the next login is refused at once. The slow one answers only after seconds of work.
        # (Connections race: an other login that reaches the worker first has the slow one
        # refused at once, which is the pool doing its job; the slow login is then sent again.)
        refused = None
        deadline = time.monotonic() + 60
        while refused is None and time.monotonic() < deadline:
            if slow.answered():
                answer = slow.tagged(slow_tag)
                self.assertTrue(answer.startswith(f"{slow_tag} NO [UNAVAILABLE]"),
                                f"the slow login answered before any refusal: {answer!r}")
                slow_tag = f"s{int(slow_tag[1:]) + 1}"
                slow.send(slow_tag, f'LOGIN {SLOW} "{PASSWORD}"')
                continue
            other = Imap(port)
            other.send("o1", f'LOGIN {ALICE} "{PASSWORD}"')
            answer = other.tagged("o1")
            other.close()
            if "[UNAVAILABLE]" in answer:
                refused = answer
        self.assertIsNotNone(refused, "no login was refused while the pool was full")
        self.assertTrue(refused.startswith("o1 NO [UNAVAILABLE]"), refused)

        # The logged-in user is served meanwhile: the worker pool is not the hashing pool.
        reader.send("r3", "NOOP")
        self.assertIn("OK", reader.tagged("r3"))
        reader.send("r4", "STATUS INBOX (MESSAGES)")
        self.assertIn("OK", reader.tagged("r4"))
        self.assertFalse(slow.answered(), "the reads were answered while the hashing went on")

        # The same storm over POP3 and submission gets those protocols' "try again".
        pop = socket.create_connection(("127.0.0.1", self.mx.ports["pop3"]), timeout=60)
        self.addCleanup(pop.close)
        pop_file = pop.makefile("rb")
        pop_file.readline()
        pop.sendall(f"USER {ALICE}\r\nPASS {PASSWORD}\r\n".encode())
        pop_file.readline()
        self.assertTrue(pop_file.readline().startswith(b"-ERR [SYS/TEMP]"))
        self.assertFalse(slow.answered())

        self.assertIn("NO [AUTHENTICATIONFAILED]", slow.tagged(slow_tag))
        # With the worker free again, logins go through.
        again = Imap(port)
        self.addCleanup(again.close)
        again.send("a1", f'LOGIN {ALICE} "{PASSWORD}"')
        self.assertIn("OK", again.tagged("a1"))


if __name__ == "__main__":
    unittest.main()
