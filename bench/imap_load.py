#!/usr/bin/python3
"""IMAP load driver: Sealpost versus Dovecot on the same generated mailbox (bench/imap.sh runs it).

For each server in turn (never both at once):
  0. A mailbox of N generated messages (2-50 KB, every fifth with a base64 attachment), the same
     octets for both: Dovecot gets them in its Maildir, Sealpost through `sealpost mailbox
     import` of that Maildir. A first session SELECTs it (Dovecot builds its index there).
  1. Logins: L connections LOGIN + LOGOUT, a few at a time. Sealpost runs Argon2id (64 MiB) on
     each login, Dovecot compares a passwd-file entry, so this is reported on its own.
  2. Load: C clients, logged in once, each looping for D seconds over a mix a mail client
     sends: SELECT INBOX; FETCH 1:* (FLAGS); headers of 50 messages; one whole message;
     STORE +FLAGS \\Seen and -FLAGS \\Seen; SEARCH UNSEEN; SEARCH TEXT word (every tenth
     loop: without a full-text index it reads the whole mailbox); APPEND of a ~5 KB message,
     UID STORE +FLAGS (\\Deleted) and UID EXPUNGE of it; IDLE for a moment, DONE. Every
     command must answer OK. Prints operations/s and p50/p99 per operation.
  3. Idle: I sessions logged in, SELECTed and in IDLE. The server's memory (the sum over its
     process tree of RSS, and of PSS which counts shared pages once) before and after, per
     session.
Then the ratios Sealpost/Dovecot.

Clients are asyncio streams on raw sockets in this one process (thousands of idle sessions cost
little here); the driver shares the machine's cores with the server it measures.
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bench_stats import percentile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import dovecot as dovecot_lib  # noqa: E402

USER = "alice@example.com"
PASSWORD = "imap bench password 1"
SEARCH_WORD = "zebrafish"  # in every 40th generated message


# --- the mailbox ---------------------------------------------------------------------------

def _vocabulary(rng, count=3000):
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "de", "va", "gor", "lin",
                 "bar", "tem", "sal", "quo", "fer", "dan", "wix", "mol"]
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
    words.discard(SEARCH_WORD)
    return sorted(words)


def _text(rng, words, size):
    lines, line, total = [], [], 0
    while total < size:
        w = rng.choice(words)
        line.append(w)
        total += len(w) + 1
        if sum(len(x) + 1 for x in line) > 70:
            lines.append(" ".join(line))
            line = []
    if line:
        lines.append(" ".join(line))
    return "\r\n".join(lines) + "\r\n"


def _base64_lines(data):
    import base64
    enc = base64.b64encode(data).decode()
    return "\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\r\n"


def generate(count, seed=20240501):
    """`count` messages (bytes, CRLF), 2-50 KB, every fifth with an attachment."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    people = [f"{rng.choice(words)}.{rng.choice(words)}@{rng.choice(words)}.example"
              for _ in range(200)]
    start = 1_700_000_000
    out = []
    for i in range(count):
        size = rng.randint(2_000, 50_000)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(start + i * 613))
        subject = " ".join(rng.choice(words) for _ in range(rng.randint(2, 8)))
        head = (f"From: {rng.choice(people)}\r\nTo: {USER}\r\nSubject: {subject}\r\n"
                f"Date: {date}\r\nMessage-ID: <bench.{i}.{seed}@sealpost.test>\r\n"
                "MIME-Version: 1.0\r\n")
        text_size = size if i % 5 else max(1_000, size // 3)
        text = _text(rng, words, text_size)
        if i % 40 == 7:
            text = f"The {SEARCH_WORD} is here.\r\n" + text
        if i % 5:
            msg = head + 'Content-Type: text/plain; charset="us-ascii"\r\n\r\n' + text
        else:
            blob = rng.randbytes(max(500, (size - text_size) * 3 // 4))
            b = f"bench-boundary-{i}"
            msg = (head + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
                   f"--{b}\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\n{text}"
                   f"--{b}\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Disposition: attachment; filename=\"data-{i}.bin\"\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\n{_base64_lines(blob)}"
                   f"--{b}--\r\n")
        out.append(msg.encode())
    return out


def append_message(rng, n):
    body = "".join(f"line {k} of an appended message {n}, some words to fill it.\r\n"
                   for k in range(80))
    return (f"From: bench@sealpost.test\r\nTo: {USER}\r\nSubject: appended {n}\r\n"
            f"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <app.{n}.{rng.random()}@b>"
            f"\r\n\r\n{body}").encode()


def write_maildir(path, messages):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i, body in enumerate(messages):
        with open(os.path.join(path, "cur", f"{1700000000 + i}.M{i}P1.bench,S={len(body)}:2,"),
                  "wb") as f:
            f.write(body)


# --- process memory ------------------------------------------------------------------------

def tree_memory(pids):
    """(RSS KiB, PSS KiB, processes) summed over `pids`."""
    rss = pss = n = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                        break
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
            n += 1
        except (OSError, ValueError):
            pass
    return rss, pss, n


def tree_cpu_seconds(pids):
    """CPU seconds (user + system) of `pids` and of their exited, reaped children: Dovecot's
    imap processes end with their sessions, and their time then counts in the master's."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            pass
    return total / tick


# --- the servers ---------------------------------------------------------------------------

class DovecotServer:
    name = "dovecot"

    def __init__(self, work, messages_dir, max_connections, hibernate=False):
        extra = ""
        if hibernate:
            # Dovecot's way to keep many IDLE sessions cheap: the imap process hands an idle
            # session to imap-hibernate after 5 s and exits.
            extra = "\n".join([
                "imap_hibernate_timeout = 5s",
                "service imap {", "  unix_listener imap-master {",
                "    user = $default_internal_user", "  }",
                "  extra_groups = $default_internal_group", "}",
                "service imap-hibernate {", "  unix_listener imap-hibernate {",
                "    mode = 0660", "    group = $default_internal_group", "  }", "}"])
            self.name = "dovecot-hibernate"
        self.dv = dovecot_lib.Dovecot(user=USER, password=PASSWORD,
                                      max_connections=max_connections, extra=extra)
        for name in os.listdir(os.path.join(messages_dir, "cur")):
            dst = os.path.join(self.dv.maildir, "cur", name)
            shutil.copyfile(os.path.join(messages_dir, "cur", name), dst)
            if os.geteuid() == 0:
                os.chown(dst, self.dv.uid, self.dv.gid)
        self.port = self.dv.imap_port

    def start(self):
        self.dv.start()

    def pids(self):
        return self.dv.pids()

    def stop(self):
        self.dv.cleanup()

    def describe(self):
        out = subprocess.run([dovecot_lib.DOVECOT_BIN, "--version"], capture_output=True,
                             text=True).stdout.split()
        return f"Dovecot {out[0] if out else '?'} (Maildir, one imap process per session)"


class SealpostServer:
    name = "sealpost"

    def __init__(self, binary, work, messages_dir, max_connections):
        self.bin = binary
        self.dir = os.path.join(work, "sealpost")
        os.makedirs(self.dir)
        self.port = dovecot_lib.harness.free_port()
        self.config = os.path.join(self.dir, "sealpost.toml")
        self.proc = None
        limit = max(20000, max_connections)
        with open(self.config, "w") as f:
            f.write("\n".join([
                "[server]", 'hostname = "bench.sealpost.test"',
                f'data_dir = "{self.dir}/data"',
                # Started as root, it serves as the system user the install step creates.
                *(['user = "sealpost"'] if os.geteuid() == 0 else []), "",
                "[listen]", f'imap = "127.0.0.1:{self.port}"',
                f'smtp = "127.0.0.1:{dovecot_lib.harness.free_port()}"', "",
                "[dns]", f'servers = ["127.0.0.1:{dovecot_lib.harness.free_port()}"]',
                'trust_anchor = ""', "",
                "[auth]", "enabled = false", "",
                "[access]", "allow_plaintext_on_loopback = true",
                f"connections_per_client = {limit}", f"sessions_per_user = {limit}",
                f"connections = {limit}", ""]) + "\n")
        pw = os.path.join(self.dir, "password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.cli("domain", "add", "example.com")
        self.cli("mailbox", "add", USER, "--password-file", pw)
        t0 = time.monotonic()
        self.cli("mailbox", "import", USER, messages_dir, "--password-file", pw)
        self.import_seconds = time.monotonic() - t0

    def cli(self, *args):
        r = subprocess.run([self.bin, *args, "--config", self.config], capture_output=True,
                           text=True, timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"sealpost {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def start(self):
        self.log = open(os.path.join(self.dir, "sealpost.log"), "wb")
        self.proc = subprocess.Popen([self.bin, "serve", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        dovecot_lib.harness.wait_for_port(self.port, proc=self.proc)

    def pids(self):
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *dovecot_lib.descendants(self.proc.pid)]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.proc = None

    def describe(self):
        v = subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout
        return f"Sealpost {v.strip()} (encrypted mailbox, one process)"


# --- an IMAP client on an asyncio stream ---------------------------------------------------

class ImapError(Exception):
    pass


_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


class Client:
    def __init__(self, reader, writer):
        self.r, self.w = reader, writer
        self.n = 0
        self.literal_plus = False
        self.uidplus = False

    @classmethod
    async def open(cls, port):
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        c = cls(r, w)
        greeting = await r.readline()
        if not greeting.startswith(b"* OK"):
            w.close()
            raise ImapError(f"greeting: {greeting[:200]!r}")
        return c

    async def line(self):
        """One response line with its literals inlined (their octets kept)."""
        line = await self.r.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError(f"connection closed: {line[:200]!r}")
        while True:
            m = _LITERAL.search(line)
            if not m:
                return line
            line += await self.r.readexactly(int(m.group(1)))
            rest = await self.r.readline()
            if not rest.endswith(b"\n"):
                raise ConnectionError("connection closed in a literal's line")
            line += rest

    async def command(self, text, literal=None, keep=True):
        """Sends a command; returns the untagged lines (if keep) and the tagged line. A status
        other than OK raises."""
        self.n += 1
        tag = b"a%d" % self.n
        untagged = []
        if literal is None:
            self.w.write(tag + b" " + text.encode() + b"\r\n")
        elif self.literal_plus:
            self.w.write(tag + b" " + text.encode() + b" {%d+}\r\n" % len(literal) + literal +
                         b"\r\n")
        else:
            self.w.write(tag + b" " + text.encode() + b" {%d}\r\n" % len(literal))
            while True:
                ln = await self.line()
                if ln.startswith(b"+"):
                    break
                if ln.startswith(tag + b" "):
                    raise ImapError(f"{text}: {ln.strip()[:300]!r}")
                if keep:
                    untagged.append(ln)
            self.w.write(literal + b"\r\n")
        prefix = tag + b" "
        while True:
            ln = await self.line()
            if ln.startswith(prefix):
                if ln[len(prefix):len(prefix) + 2] != b"OK":
                    raise ImapError(f"{text}: {ln.strip()[:300]!r}")
                return untagged, ln
            if keep:
                untagged.append(ln)

    async def login(self, user, password):
        def quote(s):
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        untagged, tagged = await self.command(f"LOGIN {quote(user)} {quote(password)}")
        caps = b" ".join(untagged) + tagged
        if b"CAPABILITY" not in caps:
            untagged, _ = await self.command("CAPABILITY")
            caps = b" ".join(untagged)
        caps = caps.upper()
        self.literal_plus = b"LITERAL+" in caps
        self.uidplus = b"UIDPLUS" in caps or b"IMAP4REV2" in caps

    async def select(self):
        untagged, _ = await self.command("SELECT INBOX")
        for ln in untagged:
            m = re.match(rb"\* (\d+) EXISTS", ln)
            if m:
                return int(m.group(1))
        raise ImapError("SELECT INBOX gave no EXISTS")

    async def idle_start(self):
        self.n += 1
        self.idle_tag = b"a%d" % self.n
        self.w.write(self.idle_tag + b" IDLE\r\n")
        while True:
            ln = await self.line()
            if ln.startswith(b"+"):
                return
            if ln.startswith(self.idle_tag + b" "):
                raise ImapError(f"IDLE: {ln.strip()!r}")

    async def idle_done(self):
        self.w.write(b"DONE\r\n")
        prefix = self.idle_tag + b" "
        while True:
            ln = await self.line()
            if ln.startswith(prefix):
                if ln[len(prefix):len(prefix) + 2] != b"OK":
                    raise ImapError(f"IDLE DONE: {ln.strip()!r}")
                return

    async def logout(self):
        try:
            await self.command("LOGOUT")
        except (ImapError, ConnectionError, OSError):
            pass
        self.close()

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


# --- measurements --------------------------------------------------------------------------

async def timed(stats, name, coro):
    t0 = time.perf_counter()
    result = await coro
    stats.setdefault(name, []).append(time.perf_counter() - t0)
    return result


async def phase_logins(port, count, concurrency):
    lat = []
    sem = asyncio.Semaphore(concurrency)

    async def one():
        async with sem:
            c = await Client.open(port)
            t0 = time.perf_counter()
            await c.login(USER, PASSWORD)
            lat.append(time.perf_counter() - t0)
            await c.logout()

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    wall = time.perf_counter() - t0
    return {"logins": count, "seconds": wall, "per_second": count / wall,
            "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000}


async def worker(port, duration, stats, seed, errors, search_hits, idle_pause, text_every,
                 start, window):
    rng = random.Random(seed)
    loops = 0
    c = await Client.open(port)
    await timed(stats, "login", c.login(USER, PASSWORD))
    # Every client logged in before the clock starts: logins are measured apart (Sealpost's run
    # Argon2id), and a staggered start would count them in the load's time.
    await start.wait()
    window.setdefault("t0", time.perf_counter())
    deadline = time.monotonic() + duration
    appended = 0
    try:
        while time.monotonic() < deadline:
            loops += 1
            try:
                n = await timed(stats, "select", c.select())
                await timed(stats, "fetch_flags", c.command("FETCH 1:* (FLAGS)", keep=False))
                a = rng.randint(1, max(1, n - 49))
                await timed(stats, "fetch_headers", c.command(
                    f"FETCH {a}:{min(n, a + 49)} (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
                    keep=False))
                await timed(stats, "fetch_body",
                            c.command(f"FETCH {rng.randint(1, n)} (BODY.PEEK[])", keep=False))
                await timed(stats, "store", c.command(
                    f"STORE {rng.randint(1, n)} +FLAGS (\\Seen)", keep=False))
                await timed(stats, "store", c.command(
                    f"STORE {rng.randint(1, n)} -FLAGS (\\Seen)", keep=False))
                await timed(stats, "search_unseen", c.command("SEARCH UNSEEN", keep=False))
                # Without a full-text index (Dovecot's default) a TEXT search reads every
                # message: one client in `text_every` loops asks, staggered.
                if (loops + seed) % text_every == 0:
                    untagged, _ = await timed(stats, "search_text",
                                              c.command(f"SEARCH TEXT {SEARCH_WORD}"))
                    for ln in untagged:
                        if ln.startswith(b"* SEARCH"):
                            search_hits.append(len(ln.split()) - 2)
                appended += 1
                _, tagged = await timed(stats, "append", c.command(
                    "APPEND INBOX (\\Seen)", literal=append_message(rng, appended)))
                m = re.search(rb"\[APPENDUID \d+ (\d+)\]", tagged)
                if not m or not c.uidplus:
                    raise ImapError(f"APPEND: no APPENDUID (UIDPLUS): {tagged.strip()!r}")
                uid = m.group(1).decode()
                await timed(stats, "store", c.command(
                    f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)", keep=False))
                await timed(stats, "expunge", c.command(f"UID EXPUNGE {uid}", keep=False))
                t0 = time.perf_counter()
                await c.idle_start()
                t1 = time.perf_counter()
                await asyncio.sleep(idle_pause)
                t2 = time.perf_counter()
                await c.idle_done()
                stats.setdefault("idle", []).append((t1 - t0) + (time.perf_counter() - t2))
            except ImapError as e:
                errors.append(str(e))
                if len(errors) > 50:
                    raise
    finally:
        # The load's time ends with the last operation, not with LOGOUT (which is no operation
        # here, and closes the mailbox on Sealpost when the last session goes).
        window["t1"] = max(window.get("t1", 0), time.perf_counter())
        await c.logout()


async def phase_load(port, clients, duration, idle_pause, text_every):
    stats, errors, hits = {}, [], []
    start, window = asyncio.Barrier(clients), {}
    await asyncio.gather(*(worker(port, duration, stats, 1000 + k, errors, hits, idle_pause,
                                  text_every, start, window) for k in range(clients)))
    wall = window["t1"] - window["t0"]
    logins = stats.pop("login", [])
    total = sum(len(v) for v in stats.values())
    ops = {name: {"count": len(v), "per_second": len(v) / wall,
                  "p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000}
           for name, v in sorted(stats.items())}
    return {"seconds": wall, "operations": total, "per_second": total / wall, "ops": ops,
            "errors": errors[:10], "error_count": len(errors),
            "search_hits": sorted(set(hits)), "login_p50_ms": percentile(logins, 50) * 1000}


async def phase_idle(server, count, concurrency):
    before = tree_memory(server.pids())
    sem = asyncio.Semaphore(concurrency)
    clients, failures = [], []

    async def one():
        async with sem:
            try:
                c = await Client.open(server.port)
                await c.login(USER, PASSWORD)
                await c.select()
                await c.idle_start()
                clients.append(c)
            except (ImapError, ConnectionError, OSError) as e:
                failures.append(str(e))

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    wall = time.perf_counter() - t0
    await asyncio.sleep(8)  # past Dovecot's imap_hibernate_timeout when that is on
    after = tree_memory(server.pids())
    for c in clients:
        c.close()
    # Until the server has let go of them (Dovecot: its imap processes have exited).
    deadline = time.monotonic() + 120
    while True:
        await asyncio.sleep(1)
        closed = tree_memory(server.pids())
        if closed[2] <= before[2] + 2 or time.monotonic() > deadline:
            break
    n = len(clients)
    return {"sessions": n, "failures": len(failures), "failure_sample": failures[:3],
            "setup_seconds": wall, "logins_per_second": n / wall if wall else 0,
            "rss_before_kib": before[0], "rss_after_kib": after[0],
            "pss_before_kib": before[1], "pss_after_kib": after[1],
            "processes_before": before[2], "processes_after": after[2],
            "rss_kib_per_session": (after[0] - before[0]) / n if n else float("nan"),
            "pss_kib_per_session": (after[1] - before[1]) / n if n else float("nan"),
            "rss_after_close_kib": closed[0]}


async def warm_up(port, expected):
    c = await Client.open(port)
    await c.login(USER, PASSWORD)
    n = await c.select()
    await c.command("FETCH 1:* (FLAGS)", keep=False)
    await c.command(f"SEARCH TEXT {SEARCH_WORD}")
    await c.logout()
    if n != expected:
        raise RuntimeError(f"the mailbox holds {n} messages, not {expected}")


def run_server(server, args):
    print(f"== {server.describe()}", flush=True)
    server.start()
    try:
        t0 = time.perf_counter()
        asyncio.run(warm_up(server.port, args.messages))
        print(f"first SELECT + FETCH 1:* + SEARCH TEXT: {time.perf_counter() - t0:.1f} s",
              flush=True)
        res = {"server": server.name}
        res["login"] = asyncio.run(phase_logins(server.port, args.logins, args.login_concurrency))
        lg = res["login"]
        print(f"logins: {lg['per_second']:.1f}/s ({lg['logins']} LOGIN+LOGOUT, "
              f"{args.login_concurrency} at a time; LOGIN p50 {lg['p50_ms']:.1f} ms, "
              f"p99 {lg['p99_ms']:.1f} ms)", flush=True)
        cpu0 = tree_cpu_seconds(server.pids())
        res["load"] = asyncio.run(phase_load(server.port, args.clients, args.duration,
                                             args.idle_pause, args.text_search_every))
        time.sleep(0.5)  # the sessions' processes (Dovecot) exit and are reaped
        load = res["load"]
        load["cpu_seconds"] = tree_cpu_seconds(server.pids()) - cpu0
        load["cpu_ms_per_op"] = load["cpu_seconds"] * 1000 / max(1, load["operations"])
        print_load(res["load"], args)
        if args.idle:
            res["idle"] = asyncio.run(phase_idle(server, args.idle, args.login_concurrency))
            print_idle(res["idle"])
        return res
    finally:
        server.stop()


def print_load(load, args):
    print(f"load: {args.clients} clients for {load['seconds']:.1f} s: "
          f"{load['per_second']:.1f} operations/s ({load['operations']} operations, "
          f"{load['error_count']} errors); SEARCH TEXT {SEARCH_WORD} hits: "
          f"{load['search_hits']}", flush=True)
    print(f"  server CPU {load['cpu_seconds']:.2f} s: {load['cpu_ms_per_op']:.3f} ms/operation "
          f"(the work behind the rate, which the IDLE pause bounds)", flush=True)
    print(f"  {'operation':<14} {'count':>7} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, o in load["ops"].items():
        print(f"  {name:<14} {o['count']:>7} {o['per_second']:>8.1f} {o['p50_ms']:>8.2f} "
              f"{o['p99_ms']:>8.2f}")
    for e in load["errors"]:
        print(f"  error: {e}")


def print_idle(idle):
    print(f"idle: {idle['sessions']} sessions in IDLE ({idle['failures']} failed) set up in "
          f"{idle['setup_seconds']:.1f} s ({idle['logins_per_second']:.1f} logins/s)")
    print(f"  RSS {idle['rss_before_kib'] / 1024:.1f} -> {idle['rss_after_kib'] / 1024:.1f} MiB "
          f"({idle['rss_kib_per_session']:.1f} KiB/session), PSS "
          f"{idle['pss_before_kib'] / 1024:.1f} -> {idle['pss_after_kib'] / 1024:.1f} MiB "
          f"({idle['pss_kib_per_session']:.1f} KiB/session), processes "
          f"{idle['processes_before']} -> {idle['processes_after']}; RSS after closing them "
          f"{idle['rss_after_close_kib'] / 1024:.1f} MiB", flush=True)
    for f in idle["failure_sample"]:
        print(f"  failure: {f}")


def ratio(a, b):
    return a / b if b else float("nan")


def print_ratios(sp, dv):
    print(f"== Sealpost / {dv['server']}")
    print(f"logins/s:              {ratio(sp['login']['per_second'], dv['login']['per_second']):.2f}x")
    print(f"load operations/s:     {ratio(sp['load']['per_second'], dv['load']['per_second']):.2f}x")
    print(f"CPU ms/operation:      {sp['load']['cpu_ms_per_op']:.3f} vs "
          f"{dv['load']['cpu_ms_per_op']:.3f} "
          f"({ratio(sp['load']['cpu_ms_per_op'], dv['load']['cpu_ms_per_op']):.2f}x)")
    for name, o in sp["load"]["ops"].items():
        d = dv["load"]["ops"].get(name)
        if d:
            print(f"  {name:<14} ops/s {ratio(o['per_second'], d['per_second']):.2f}x, "
                  f"p50 latency {ratio(o['p50_ms'], d['p50_ms']):.2f}x")
    if "idle" in sp and "idle" in dv:
        print(f"idle KiB/session RSS:  {sp['idle']['rss_kib_per_session']:.1f} vs "
              f"{dv['idle']['rss_kib_per_session']:.1f} "
              f"({ratio(sp['idle']['rss_kib_per_session'], dv['idle']['rss_kib_per_session']):.2f}x)")
        print(f"idle KiB/session PSS:  {sp['idle']['pss_kib_per_session']:.1f} vs "
              f"{dv['idle']['pss_kib_per_session']:.1f} "
              f"({ratio(sp['idle']['pss_kib_per_session'], dv['idle']['pss_kib_per_session']):.2f}x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--clients", type=int, default=20)
    ap.add_argument("-d", "--duration", type=float, default=30)
    ap.add_argument("-i", "--idle", type=int, default=1000)
    ap.add_argument("-n", "--messages", type=int, default=2000)
    ap.add_argument("-l", "--logins", type=int, default=100)
    ap.add_argument("--login-concurrency", type=int, default=8)
    ap.add_argument("--idle-pause", type=float, default=0.2,
                    help="seconds each load client stays in IDLE per loop")
    ap.add_argument("--text-search-every", type=int, default=10,
                    help="each load client sends SEARCH TEXT once per this many loops")
    ap.add_argument("--servers", default="dovecot,sealpost",
                    help="comma-separated: dovecot, dovecot-hibernate, sealpost")
    ap.add_argument("--sealpost-bin", default=os.environ.get("SEALPOST_BIN") or
                    os.path.join(ROOT, "build", "sealpost"))
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sealpost-imap-bench-")
    os.chmod(work, 0o755)  # the servers' unprivileged users must reach their files
    os.chmod(work, 0o755)
    results = {}
    try:
        t0 = time.perf_counter()
        messages = generate(args.messages)
        maildir = os.path.join(work, "Maildir")
        write_maildir(maildir, messages)
        total = sum(len(m) for m in messages)
        print(f"mailbox: {len(messages)} messages, {total / 1e6:.1f} MB "
              f"(generated in {time.perf_counter() - t0:.1f} s)", flush=True)
        connections = args.idle + args.clients + args.login_concurrency + 50
        for name in args.servers.split(","):
            if name in ("dovecot", "dovecot-hibernate"):
                server = DovecotServer(work, maildir, connections,
                                       hibernate=name == "dovecot-hibernate")
            elif name == "sealpost":
                server = SealpostServer(args.sealpost_bin, work, maildir, connections)
                print(f"sealpost mailbox import: {server.import_seconds:.1f} s", flush=True)
            else:
                raise SystemExit(f"unknown server {name}")
            try:
                results[name] = run_server(server, args)
            except BaseException:
                server.stop()
                raise
        if "sealpost" in results:
            for name in ("dovecot", "dovecot-hibernate"):
                if name in results:
                    print_ratios(results["sealpost"], results[name])
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        bad = [n for n, r in results.items() if r["load"]["error_count"]]
        if bad:
            print(f"commands failed on: {', '.join(bad)}", file=sys.stderr)
            sys.exit(1)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
