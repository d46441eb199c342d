"""IMAP under hostile input, over a connection spoken by hand on loopback: a FETCH that repeats
a body section hundreds of times over large messages must not make the server build its answer
in memory (the server's VmRSS is read from /proc before and after), a client that keeps a
connection busy with NOOPs before login is cut off at login_timeout, and the password a client
sent is not left in the server's memory once the login is done."""

import base64
import os
import re
import socket
import time
import unittest

from harness import wait_for_log
from test_imap import ADDRESS, PASSWORD, ServerTest, Wire

MIB = 1 << 20
# What the server may grow by under one hostile command. ASan keeps freed memory in its
# quarantine, so what one FETCH reads (a few MiB of messages) shows as growth; the answer
# itself (1,000 MiB before the merge and the streaming) must not.
RSS_SLACK_KIB = 48 * 1024


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def big_message(n, size=MIB):
    """A message of about `size` octets whose body lines are all different, so an answer with a
    piece missing, repeated or out of place does not match it."""
    head = (f"From: Sender <sender@sender.test>\r\nTo: {ADDRESS}\r\nSubject: big {n}\r\n"
            f"Message-ID: <big{n}@sender.test>\r\n\r\n").encode()
    lines = []
    total = len(head)
    i = 0
    while total < size:
        line = f"message {n} line {i:07d} ".ljust(70, "x").encode() + b"\r\n"
        lines.append(line)
        total += len(line)
        i += 1
    return head + b"".join(lines)


class ImapHostileFetchTest(ServerTest):
    """Answers that a short command could make huge: each is bounded in the server's memory."""

    access = "allow_plaintext_on_loopback = true\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.messages = [big_message(n) for n in range(1, 6)]
        w = Wire(cls.port)
        try:
            w.login()
            w.ok("CREATE Big")
            for raw in cls.messages:
                _, tagged = w.append("Big", raw)
                assert " OK " in tagged, tagged
        finally:
            w.close()

    def rss(self):
        return status_kib(self.mx.proc.pid, "VmRSS")

    def fetch_bodies(self, w, items):
        """FETCH 1:5 with `items`: {sequence number: [whether each BODY[] literal equals the
        message]}. Read as it comes, a literal at a time, so that the test holds little even
        when the server answers with a thousand of them."""
        tag = w.tag()
        w.send(f"{tag} FETCH 1:5 ({items})\r\n")
        bodies = {}
        while True:
            line = w._line()
            if line.startswith(tag.encode() + b" "):
                self.assertIn(b" OK ", line)
                return bodies
            m = re.match(rb"\* (\d+) FETCH \(", line)
            self.assertIsNotNone(m, line[:200])
            seq = int(m.group(1))
            found = bodies.setdefault(seq, [])
            while True:
                lit = re.search(rb"BODY\[\] \{(\d+)\}$", line)
                if not lit:
                    break
                n = int(lit.group(1))
                while len(w.buf) < n:
                    w._fill()
                found.append(w.buf[:n] == self.messages[seq - 1])
                w.buf = w.buf[n:]
                line = w._line()

    def test_repeated_body_sections_are_sent_once_and_streamed(self):
        w = self.wire()
        w.login()
        w.ok("EXAMINE Big")
        # Warm-up: the same messages read once, so the baseline has what any read of them costs.
        warm = self.fetch_bodies(w, "BODY.PEEK[]")
        self.assertEqual(warm, {n: [True] for n in range(1, 6)})
        before = self.rss()
        hwm_before = status_kib(self.mx.proc.pid, "VmHWM")

        answer = self.fetch_bodies(w, " ".join(["BODY.PEEK[]"] * 200))

        after = self.rss()
        hwm_after = status_kib(self.mx.proc.pid, "VmHWM")
        print(f"\nFETCH 1:5 (BODY.PEEK[] x200) of 5 x 1 MiB: VmRSS {before} -> {after} KiB, "
              f"VmHWM {hwm_before} -> {hwm_after} KiB")
        # Each body once per message, whole and in order.
        self.assertEqual(answer, {n: [True] for n in range(1, 6)})
        self.assertLess(after - before, RSS_SLACK_KIB)
        # The peak too: an answer built whole and sent afterwards shows here, not in VmRSS.
        self.assertLess(hwm_after - hwm_before, RSS_SLACK_KIB)

    def test_distinct_body_sections_per_fetch_are_bounded(self):
        w = self.wire()
        w.login()
        w.ok("EXAMINE Big")
        partials = " ".join(f"BODY.PEEK[]<{i}.{MIB}>" for i in range(65))
        _, tagged = w.cmd(f"FETCH 1 ({partials})")
        self.assertRegex(tagged, r"^t\d+ BAD ")
        # 64 distinct sections are answered: each of them, once per message.
        partials = " ".join(f"BODY.PEEK[]<{i}.{MIB}>" for i in range(64))
        untagged, tagged = w.cmd(f"FETCH 1 ({partials} BODY.PEEK[]<0.{MIB}>)")
        self.assertIn(" OK ", tagged)
        self.assertEqual(len(untagged), 1)
        raw = untagged[0].encode("utf-8", "surrogateescape")
        offsets = [int(o) for o in re.findall(rb"BODY\[\]<(\d+)> \{", raw)]
        self.assertEqual(offsets, list(range(64)))


# What a session's output buffer may hold at a write (the server's kOutputHigh + kOutputPiece):
# answers that grow with the mailbox are written as they pass 256 KiB, a 64 KiB piece at a time.
OUTPUT_BOUND = 320 * 1024


class ImapHugeAnswersTest(ServerTest):
    """SEARCH, SORT, THREAD, FETCH and LIST on a mailbox large enough that each answer is bigger
    than the output bound: the session's peak output buffer (peak_out, logged when it ends) stays
    under the bound, so no answer was built whole before its first byte went out. The messages
    are one chain of replies, so even THREAD's single thread is written in pieces."""

    access = "allow_plaintext_on_loopback = true\n"
    MESSAGES = 70_000
    FOLDERS = 800

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mbox = os.path.join(cls.mx.dir, "huge.mbox")
        with open(mbox, "wb") as f:
            for n in range(1, cls.MESSAGES + 1):
                refs = f"References: <m{n - 1}@sender.test>\n" if n > 1 else ""
                f.write(f"From s@sender.test Mon Jan  1 10:00:00 2024\nFrom: s@sender.test\n"
                        f"Subject: Re: chain\nMessage-ID: <m{n}@sender.test>\n{refs}\n"
                        f"body {n}\n\n".encode())
        pw = os.path.join(cls.mx.dir, "pw")
        cls.mx.cli("mailbox", "import", ADDRESS, mbox, "--password-file", pw)
        os.remove(mbox)

    def answer_size(self, w, command):
        """Sends `command` and reads its answer to the tagged OK: the octets of the untagged part."""
        tag = w.tag()
        w.send(f"{tag} {command}\r\n")
        size = 0
        while True:
            line = w._line()
            if line.startswith(tag.encode() + b" "):
                self.assertIn(b" OK ", line, command)
                return size
            size += len(line) + 2

    def test_answers_bigger_than_the_bound_are_written_in_pieces(self):
        w = self.wire()
        w.login()
        # The folders first, each named long enough that LIST's answer passes the bound.
        for i in range(self.FOLDERS):
            w.send(f"c{i} CREATE folder-{i:04d}-{'x' * 400}\r\n")
        for i in range(self.FOLDERS):
            self.assertRegex(w.response(), f"^c{i} OK ")
        sizes = {"LIST": self.answer_size(w, 'LIST "" "*"')}
        self.assertIn(f"{self.MESSAGES} EXISTS", "".join(w.cmd("SELECT INBOX")[0]))
        for command in ("SEARCH ALL", "UID SEARCH ALL", "SORT (REVERSE ARRIVAL) UTF-8 ALL",
                        "THREAD REFERENCES UTF-8 ALL", "FETCH 1:* (UID FLAGS)"):
            sizes[command] = self.answer_size(w, command)
        w.send("z LOGOUT\r\n")
        w.until("z")
        line = wait_for_log(self.mx, r"imap session id=\S+ .*login=yes .*peak_out=\d+")[-1]
        peak = int(re.search(r"peak_out=(\d+)", line).group(1))
        print(f"\nanswers (octets): {sizes}; the session's peak output buffer: {peak}")
        for command, size in sizes.items():
            self.assertGreater(size, OUTPUT_BOUND, f"{command} answers more than the bound")
        self.assertLessEqual(peak, OUTPUT_BOUND)


class ImapLoginDeadlineTest(ServerTest):
    """login_timeout counts from the connection's start: commands before login do not push it
    back (a client could otherwise hold a connection slot for ever with NOOPs)."""

    access = "allow_plaintext_on_loopback = true\nlogin_timeout = 2\n"

    def test_noops_before_login_do_not_extend_the_login_deadline(self):
        w = self.wire()
        started = time.monotonic()
        noops = 0
        # A NOOP every half second, each answered, until the server says goodbye: past the
        # deadline it must be the BYE, not another OK. The loop is bounded at 30 NOOPs (15 s)
        # so that a server that never closes fails the test rather than hanging it.
        bye = None
        while noops < 30:
            try:
                w.send(f"n{noops} NOOP\r\n")
                r = w.response()
            except (ConnectionError, OSError):
                break
            if r.startswith("* BYE"):
                bye = r
                break
            self.assertEqual(r, f"n{noops} OK NOOP completed")
            noops += 1
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        self.assertIsNotNone(bye, f"no BYE after {noops} NOOPs over {elapsed:.1f} s")
        self.assertTrue(w.closed())
        self.assertLess(noops, 10)
        self.assertGreaterEqual(elapsed, 1.5)

    def test_a_login_before_the_deadline_keeps_the_session(self):
        w = self.wire()
        w.login()
        # Logged in: the idle timeout (30 min by default) applies, not login_timeout.
        self.assertEqual(w.cmd("NOOP"), ([], "t2 OK NOOP completed"))


def memory_holds(pid, needles):
    """The needles found anywhere in the readable memory of process `pid` (its heap, stacks,
    the allocator's free lists and ASan's quarantine of freed blocks), read from /proc/PID/mem.
    Mappings larger than 64 GiB are ASan's shadow and reserved ranges, not data."""
    found = set()
    longest = max(len(n) for n in needles)
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if "r" not in fields[1] or hi - lo > (64 << 30) or name in ("[vvar]", "[vsyscall]"):
                continue
            tail = b""
            for at in range(lo, hi, 16 * MIB):
                try:
                    mem.seek(at)
                    chunk = mem.read(min(16 * MIB, hi - at))
                except OSError:
                    break
                data = tail + chunk
                for n in needles:
                    if n in data:
                        found.add(n)
                tail = data[-longest:]
    return found


class ImapCredentialWipeTest(ServerTest):
    """A password a client sends is wiped from the session's input buffers and parsed commands
    once the login is done (LOGIN, AUTHENTICATE PLAIN with SASL-IR and on a continuation line),
    so freed memory (or a later memory disclosure) does not give it away."""

    access = "allow_plaintext_on_loopback = true\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One mailbox per login method, each with a password found nowhere else.
        cls.accounts = {}
        for method in ("login", "ir", "continuation"):
            password = "pw-" + method + "-" + os.urandom(12).hex()
            address = f"{method}@example.com"
            cls.mx.add_mailbox(address, password)
            cls.accounts[method] = (address, password)

    def setUp(self):
        try:
            with open(f"/proc/{self.mx.proc.pid}/mem", "rb", 0):
                pass
        except OSError as e:
            self.skipTest(f"cannot read the server's memory: {e}")

    def assert_wiped(self, *needles):
        found = memory_holds(self.mx.proc.pid, [n.encode() for n in needles])
        self.assertEqual(found, set())

    def test_login_password_is_wiped(self):
        address, password = self.accounts["login"]
        w = self.wire()
        _, tagged = w.cmd(f'LOGIN "{address}" "{password}x"')
        self.assertIn("NO [AUTHENTICATIONFAILED]", tagged)
        w.login(address, password)
        self.assertEqual(w.cmd("LOGOUT")[1], "t3 OK LOGOUT completed")
        self.assertTrue(w.closed())
        self.assert_wiped(password, password + "x")

    def test_authenticate_plain_initial_response_is_wiped(self):
        address, password = self.accounts["ir"]
        response = base64.b64encode(f"\0{address}\0{password}".encode()).decode()
        w = self.wire()
        _, tagged = w.cmd(f"AUTHENTICATE PLAIN {response}")
        self.assertIn(" OK ", tagged)
        self.assertEqual(w.cmd("LOGOUT")[1], "t2 OK LOGOUT completed")
        self.assertTrue(w.closed())
        self.assert_wiped(password, response)

    def test_authenticate_plain_continuation_is_wiped(self):
        address, password = self.accounts["continuation"]
        response = base64.b64encode(f"\0{address}\0{password}".encode()).decode()
        w = self.wire()
        w.send("a1 AUTHENTICATE PLAIN\r\n")
        self.assertEqual(w.response(), "+ ")
        w.send(response + "\r\n")
        _, tagged = w.until("a1")
        self.assertIn(" OK ", tagged)
        self.assertEqual(w.cmd("LOGOUT")[1], "t1 OK LOGOUT completed")
        self.assertTrue(w.closed())
        # The line's tail too: what a later read into the same input buffer did not overwrite.
        self.assert_wiped(password, response, response[len(response) // 2:])


if __name__ == "__main__":
    unittest.main()
