#!/usr/bin/python3
"""Submission load driver (bench/submission.sh runs it): N clients submit M messages each.

One run against one submission port:
  1. N clients connect at once, EHLO, STARTTLS (no certificate verification), EHLO, and
     AUTH PLAIN once each (client k logs in as the k-th user of --users; Sealpost runs Argon2id
     on each login, so the logins are timed apart, before the clock starts).
  2. When every client is logged in, all start together and each sends M messages on its
     connection, one transaction after the other (MAIL FROM, RCPT TO, DATA, the message, each
     answer awaited): a ~SIZE octet message From: the user to rcpt<k>@DOMAIN with To:, Subject:,
     Date: and Message-ID:. The submit latency of a message is MAIL FROM until the 250 after
     its final dot.
  3. With --sink-log (an `smtp-sink -c` log), it waits until the sink has counted every
     accepted message (its counter is cumulative: counted from its value at the start) and
     takes that moment as the end of the end-to-end time.

Prints the accepted count, submit messages/s (accepted / first MAIL FROM until the last 250),
p50/p99 submit latency, end-to-end messages/s (accepted / first MAIL FROM until the sink has
them all) and, with --cpu-pid, the CPU time the server's process trees used per message. With
--json it also writes those figures to a file; --summarize FILE... prints the medians of such
files per server and the ratios of the first server to the second (bench/submission.sh).

Clients are asyncio streams in this one process (stdlib only: Debian's /usr/bin/python3); the
driver shares the machine's cores with the server it measures.
"""

import argparse
import asyncio
import base64
import email.utils
import json
import os
import random
import ssl
import statistics
import sys
import time

from bench_stats import percentile

CLK_TCK = os.sysconf("SC_CLK_TCK")


class SmtpError(Exception):
    pass


# --- one client ------------------------------------------------------------------------------

def make_message(user, rcpt, k, i, size, rng):
    """A message of about `size` octets (CRLF, no line starts with a dot)."""
    head = (f"From: Bench User {k} <{user}>\r\n"
            f"To: <{rcpt}>\r\n"
            f"Subject: submission bench {k}.{i}\r\n"
            f"Date: {email.utils.formatdate(localtime=False)}\r\n"
            f"Message-ID: <bench.{k}.{i}.{rng.getrandbits(48):012x}@load.bench.test>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    words = ("lorem", "ipsum", "dolor", "sit", "amet", "queue", "sealed", "mail", "relay",
             "submission", "benchmark", "octet", "transport", "postfix", "sink")
    lines, total = [], len(head)
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(11))
        lines.append(line)
        total += len(line) + 2
    return (head + "\r\n".join(lines) + "\r\n").encode()


async def read_reply(reader):
    """(code, [text lines]) of one possibly multi-line reply."""
    lines = []
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise SmtpError(f"connection closed (after {lines!r}, got {line[:200]!r})")
        text = line.decode("latin-1").rstrip("\r\n")
        if len(text) < 3 or not text[:3].isdigit():
            raise SmtpError(f"malformed reply {text[:200]!r}")
        lines.append(text[4:])
        if len(text) == 3 or text[3] == " ":
            return int(text[:3]), lines


async def command(reader, writer, line, want):
    writer.write(line.encode() + b"\r\n")
    code, text = await read_reply(reader)
    if code != want:
        shown = "AUTH PLAIN ..." if line.startswith("AUTH ") else line
        raise SmtpError(f"{shown}: {code} {' / '.join(text)[:300]}")
    return text


class Client:
    def __init__(self, k, args, user, rng):
        self.k, self.args, self.user, self.rng = k, args, user, rng
        self.latencies = []   # seconds, one per accepted message
        self.errors = []      # (phase, text)
        self.accepted = 0
        self.login_seconds = None
        self.last_250 = None
        self.first_mail = None

    async def login(self):
        a = self.args
        t0 = time.perf_counter()
        self.r, self.w = await asyncio.open_connection("127.0.0.1", a.port, limit=1 << 20)
        code, text = await read_reply(self.r)
        if code != 220:
            raise SmtpError(f"greeting: {code} {text}")
        ehlo = await command(self.r, self.w, "EHLO load.bench.test", 250)
        if not a.plain:
            if not any(t.upper().startswith("STARTTLS") for t in ehlo):
                raise SmtpError(f"no STARTTLS offered: {ehlo}")
            await command(self.r, self.w, "STARTTLS", 220)
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            await self.w.start_tls(ctx)
            ehlo = await command(self.r, self.w, "EHLO load.bench.test", 250)
            if not any(t.upper().startswith("AUTH") for t in ehlo):
                raise SmtpError(f"no AUTH offered after STARTTLS: {ehlo}")
            token = base64.b64encode(f"\0{self.user}\0{a.password}".encode()).decode()
            await command(self.r, self.w, f"AUTH PLAIN {token}", 235)
        self.login_seconds = time.perf_counter() - t0

    async def send_all(self):
        a = self.args
        rcpt = f"rcpt{self.k}@{a.rcpt_domain}"
        r, w = self.r, self.w
        for i in range(a.messages):
            body = make_message(self.user, rcpt, self.k, i, a.size, self.rng)
            t0 = time.perf_counter()
            if self.first_mail is None:
                self.first_mail = t0
            try:
                await command(r, w, f"MAIL FROM:<{self.user}>", 250)
                await command(r, w, f"RCPT TO:<{rcpt}>", 250)
                await command(r, w, "DATA", 354)
                w.write(body + b".\r\n")
                code, text = await read_reply(r)
                if code != 250:
                    raise SmtpError(f"end of data: {code} {' / '.join(text)[:300]}")
            except SmtpError as e:
                self.errors.append(("send", str(e)))
                if "connection closed" in str(e) or len(self.errors) > 20:
                    return
                try:
                    await command(r, w, "RSET", 250)
                except (SmtpError, OSError) as e2:
                    self.errors.append(("send", f"RSET: {e2}"))
                    return
                continue
            now = time.perf_counter()
            self.latencies.append(now - t0)
            self.last_250 = now
            self.accepted += 1

    async def quit(self):
        try:
            self.w.write(b"QUIT\r\n")
            await asyncio.wait_for(read_reply(self.r), 10)
        except (SmtpError, OSError, asyncio.TimeoutError):
            pass
        try:
            self.w.close()
        except Exception:
            pass


# --- measurements ----------------------------------------------------------------------------

def sink_count(path):
    """The last `mesg=N` counter of an `smtp-sink -c` log (0 before its first message)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 512))
            tail = f.read()
    except OSError:
        return 0
    for chunk in reversed(tail.replace(b"\n", b"\r").split(b"\r")):
        for field in chunk.split():
            if field.startswith(b"mesg="):
                try:
                    return int(field[5:])
                except ValueError:
                    break
    return 0


def device_flushes(dev):
    """Cache flushes the block device `dev` (e.g. "vda") has completed: field 16 of its stat
    file (Linux 5.5+), or None. Concurrent fsyncs that one journal commit covers share a flush."""
    try:
        with open(f"/sys/class/block/{dev}/stat") as f:
            fields = f.read().split()
        return int(fields[15]) if len(fields) >= 17 else None
    except (OSError, ValueError):
        return None


def tree_cpu_seconds(root_pids):
    """CPU seconds used by each root and every process below it, living or reaped: utime +
    stime + the children's cutime + cstime over the living tree (a reaped process's time is in
    its parent's cutime/cstime)."""
    parents = {}
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()
        pid = int(entry)
        parents[pid] = int(fields[1])
        # fields[0] is state (stat field 3): utime is field 14, stime 15, cutime 16, cstime 17.
        stats[pid] = sum(int(x) for x in fields[11:15])
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total = 0
    todo = [p for p in root_pids if p in stats]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += stats.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / CLK_TCK


async def run(args):
    users = args.users.split(",")
    rng = random.Random(args.seed)
    clients = [Client(k, args, users[k % len(users)], random.Random(rng.getrandbits(64)))
               for k in range(args.clients)]
    cpu_pids = [int(p) for p in args.cpu_pid.split(",") if p] if args.cpu_pid else []

    # 1. Logins, all at once.
    t_login = time.perf_counter()
    results = await asyncio.gather(*(c.login() for c in clients), return_exceptions=True)
    login_wall = time.perf_counter() - t_login
    failed = [(c.k, r) for c, r in zip(clients, results) if isinstance(r, BaseException)]
    if failed:
        for c in clients:
            if not isinstance(results[c.k], BaseException):
                await c.quit()
        raise SystemExit(f"{len(failed)} of {len(clients)} logins failed, e.g. client "
                         f"{failed[0][0]}: {failed[0][1]!r}")

    # 2. Sending: everyone starts together.
    sink_before = sink_count(args.sink_log) if args.sink_log else 0
    cpu_before = tree_cpu_seconds(cpu_pids) if cpu_pids else 0.0
    flushes_before = device_flushes(args.block_dev) if args.block_dev else None
    own_cpu_before = time.process_time()
    t_start = time.perf_counter()
    await asyncio.gather(*(c.send_all() for c in clients))
    t_submitted = max((c.last_250 for c in clients if c.last_250), default=t_start)
    own_cpu = time.process_time() - own_cpu_before
    await asyncio.gather(*(c.quit() for c in clients))

    accepted = sum(c.accepted for c in clients)
    latencies = [x for c in clients for x in c.latencies]
    errors = [e for c in clients for e in c.errors]
    first = min((c.first_mail for c in clients if c.first_mail), default=t_start)
    submit_seconds = t_submitted - first

    # 3. Until the sink has every accepted message.
    delivered = None
    e2e_seconds = None
    if args.sink_log:
        deadline = time.monotonic() + args.sink_timeout
        while True:
            delivered = sink_count(args.sink_log) - sink_before
            if delivered >= accepted:
                e2e_seconds = time.perf_counter() - first
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.005)
    cpu = (tree_cpu_seconds(cpu_pids) - cpu_before) if cpu_pids else None
    flushes = None
    if flushes_before is not None:
        after = device_flushes(args.block_dev)
        flushes = after - flushes_before if after is not None else None
    if args.sink_log and e2e_seconds is not None:
        # Anything more than expected (a repeated delivery) shows up shortly after.
        await asyncio.sleep(0.5)
        delivered = sink_count(args.sink_log) - sink_before

    out = {
        "label": args.label,
        "clients": args.clients,
        "messages_per_client": args.messages,
        "size": args.size,
        "attempted": args.clients * args.messages,
        "accepted": accepted,
        "errors": len(errors),
        "error_sample": [e[1] for e in errors[:5]],
        "login_seconds": login_wall,
        "login_p50_ms": percentile([c.login_seconds for c in clients], 50) * 1000,
        "submit_seconds": submit_seconds,
        "submit_per_second": accepted / submit_seconds if submit_seconds > 0 else float("nan"),
        "submit_p50_ms": percentile(latencies, 50) * 1000,
        "submit_p99_ms": percentile(latencies, 99) * 1000,
        "submit_max_ms": max(latencies, default=float("nan")) * 1000,
        "delivered": delivered,
        "e2e_seconds": e2e_seconds,
        "e2e_per_second": (accepted / e2e_seconds) if e2e_seconds else None,
        "server_cpu_seconds": cpu,
        "server_cpu_ms_per_message": (cpu * 1000 / accepted) if cpu is not None and accepted
        else None,
        "driver_cpu_seconds": own_cpu,
        "device_flushes": flushes,
        "flushes_per_message": (flushes / accepted) if flushes is not None and accepted else None,
    }
    return out


def print_run(r):
    print(f"   {r['accepted']} of {r['attempted']} accepted ({r['errors']} errors) in "
          f"{r['submit_seconds']:.2f} s: {r['submit_per_second']:.0f} submitted/s, submit p50 "
          f"{r['submit_p50_ms']:.1f} ms, p99 {r['submit_p99_ms']:.1f} ms, max "
          f"{r['submit_max_ms']:.0f} ms; {r['clients']} logins took {r['login_seconds']:.2f} s",
          flush=True)
    if r["delivered"] is not None:
        if r["e2e_seconds"] is not None:
            cpu = ""
            if r["server_cpu_ms_per_message"] is not None:
                cpu = (f"; server CPU {r['server_cpu_ms_per_message']:.2f} ms/message, driver "
                       f"{r['driver_cpu_seconds'] * 1000 / max(1, r['accepted']):.2f}")
            if r.get("flushes_per_message") is not None:
                cpu += f"; disk flushes {r['flushes_per_message']:.2f}/message"
            print(f"   sink has all {r['delivered']} after {r['e2e_seconds']:.2f} s: "
                  f"{r['e2e_per_second']:.0f} end-to-end/s{cpu}", flush=True)
        else:
            print(f"   LOST MESSAGES: the sink has {r['delivered']} of {r['accepted']}",
                  flush=True)
    for e in r["error_sample"]:
        print(f"   error: {e}", flush=True)


# --- summary over runs -----------------------------------------------------------------------

def load_runs(paths):
    """The runs --json wrote, one file each (bench/filter_load.py reads them too)."""
    runs = []
    for p in paths:
        with open(p) as f:
            runs.append(json.load(f))
    return runs


def summarize(paths):
    runs = load_runs(paths)
    servers = []
    for r in runs:
        if r["label"] not in servers:
            servers.append(r["label"])
    keys = [("submit_per_second", "submitted/s", "{:.0f}"),
            ("e2e_per_second", "end-to-end/s", "{:.0f}"),
            ("submit_p50_ms", "submit p50 ms", "{:.1f}"),
            ("submit_p99_ms", "submit p99 ms", "{:.1f}"),
            ("server_cpu_ms_per_message", "CPU ms/message", "{:.2f}"),
            ("flushes_per_message", "flushes/message", "{:.2f}"),
            ("login_p50_ms", "login p50 ms", "{:.0f}")]
    med = {}
    for s in servers:
        rs = [r for r in runs if r["label"] == s]
        med[s] = {}
        for key, _, _ in keys:
            vals = [r[key] for r in rs if r.get(key) is not None]
            med[s][key] = statistics.median(vals) if vals else float("nan")
        med[s]["runs"] = len(rs)
        med[s]["range"] = {key: (min((r[key] for r in rs if r.get(key) is not None),
                                     default=float("nan")),
                                 max((r[key] for r in rs if r.get(key) is not None),
                                     default=float("nan"))) for key, _, _ in keys}
    print()
    counts = ", ".join(f"{med[s]['runs']} runs of {s}" for s in servers)
    print(f"medians over {counts} (min-max in brackets)")
    header = f"{'':<16}" + "".join(f"{s:>26}" for s in servers)
    if len(servers) == 2:
        header += f"{'ratio':>10}"
    print(header)
    for key, name, fmt in keys:
        row = f"{name:<16}"
        for s in servers:
            lo, hi = med[s]["range"][key]
            cell = f"{fmt.format(med[s][key])} [{fmt.format(lo)}-{fmt.format(hi)}]"
            row += f"{cell:>26}"
        if len(servers) == 2:
            a, b = med[servers[0]][key], med[servers[1]][key]
            row += f"{(a / b if b else float('nan')):>9.2f}x"
        print(row)
    if len(servers) == 2:
        a, b = servers
        print(f"ratio {a}/{b}: submitted/s "
              f"{med[a]['submit_per_second'] / med[b]['submit_per_second']:.2f}, end-to-end/s "
              f"{med[a]['e2e_per_second'] / med[b]['e2e_per_second']:.2f}, p99 submit latency "
              f"{med[a]['submit_p99_ms'] / med[b]['submit_p99_ms']:.2f}")
    bad = [r for r in runs if r["errors"] or r.get("e2e_seconds") is None
           or (r.get("delivered") is not None and r["delivered"] != r["accepted"])]
    for r in bad:
        print(f"PROBLEM in a {r['label']} run: {r['errors']} errors, accepted {r['accepted']} of "
              f"{r['attempted']}, sink counted {r['delivered']}", file=sys.stderr)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, help="submission port on 127.0.0.1")
    ap.add_argument("-c", "--clients", type=int, default=20)
    ap.add_argument("-m", "--messages", type=int, default=100, help="messages per client")
    ap.add_argument("-l", "--size", type=int, default=4096, help="octets per message, about")
    ap.add_argument("--users", default="bench0@example.com",
                    help="comma-separated logins; client k uses the (k mod count)-th")
    ap.add_argument("--password", default="submission bench password")
    ap.add_argument("--rcpt-domain", default="dest.test")
    ap.add_argument("--plain", action="store_true",
                    help="no STARTTLS and no AUTH (to measure the driver against a bare sink)")
    ap.add_argument("--sink-log", help="an `smtp-sink -c` log: wait until it counted them all")
    ap.add_argument("--sink-timeout", type=float, default=300)
    ap.add_argument("--cpu-pid", help="comma-separated PIDs whose process trees' CPU to count")
    ap.add_argument("--block-dev", help="count this block device's cache flushes (e.g. vda)")
    ap.add_argument("--label", default="server")
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--summarize", nargs="+", metavar="JSON",
                    help="print medians and ratios of earlier --json files, and nothing else")
    args = ap.parse_args()
    if args.summarize:
        sys.exit(summarize(args.summarize))
    if not args.port:
        ap.error("--port is required")
    r = asyncio.run(run(args))
    print_run(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    lost = r["delivered"] is not None and r["e2e_seconds"] is None
    sys.exit(1 if r["errors"] or lost else 0)


if __name__ == "__main__":
    main()
