#!/usr/bin/python3
"""Inbound MX load with a realistic message mix (bench/filter.sh runs it against each system).

S sessions at once; each connection carries one message, as most of an MX's clients send (connect,
EHLO, MAIL FROM, RCPT TO, DATA, QUIT), until N messages have been sent to RCPT (an alias the
system under test forwards to an `smtp-sink -c`). Every 100 messages hold the same mix, in an
order shuffled once (the `KINDS` table):

  plain text with a few links ...................... 36   (1-6 KB)
  HTML newsletter, 10-25 links over several domains  24   (8-25 KB)
  a PDF attachment ................................. 12   (30-80 KB)
  a zip attachment (a text file and a CSV) ......... 8
  HTML with an inline PNG image .................... 8
  a link in the URI blocklist ...................... 2    (delivered, junk at most)
  the envelope sender and From: in the RHSBL ....... 2    (delivered, junk at most)
  from a client address in the DNSBL ............... 2    (delivered, junk at most)
  a link to a domain the family filter blocks ...... 2    (delivered, junk at most)
  EICAR, attached as notes.txt (octet-stream) ...... 2    hostile: refused where ClamAV runs
  invoice.pdf.exe (a PE header) .................... 2    hostile: refused by every filter

Each message is a pooled body (--pool distinct ones per kind, built before the clock starts) under
headers of its own (Received:, From:, To:, Subject: with its number, Date:, Message-ID:), with
its sender's and its links' domains drawn from the 3,000 of bench/filter_peers.py and its client
from the 500 there (the listed one for the DNSBL kind), so no two messages are alike and neither
system answers most DNS lookups from a cache of its own. Sealpost sees the client's loopback
address (the connection's source, in 127.1.0.0/16); Postfix is told its public-looking address
and name with XCLIENT at the start of each session (rspamd skips most checks for loopback
clients), then the load sends EHLO again.

Prints, per kind, how many messages were accepted (250), refused (5xx) or deferred (4xx); the
messages/s (every message answered, over the time from the first connection until the sink has
counted every accepted message); the CPU of the given process trees per message; and whether
the outcome is what --expect-refused says: those kinds refused, all the others accepted, and the
sink holding exactly the accepted ones. Exit status 1 otherwise. With --json, the figures go to a
file as well; --summarize FILE... prints the table of bench/filter.sh from such files.

--write-samples DIR writes one message of each kind, to try them by hand (`sealpost filter
explain < DIR/exe.eml`, `rspamc < DIR/exe.eml`).
"""

import argparse
import asyncio
import base64
import email.utils
import io
import json
import os
import random
import struct
import sys
import time
import zipfile
import zlib

from submission_load import (SmtpError, command, load_runs, read_reply, sink_count,
                             tree_cpu_seconds)

from filter_peers import ADULT, LISTED, LISTED_CLIENT, N_CLIENTS, N_DOMAINS, client, domain

# The EICAR test file (https://www.eicar.org/download-anti-malware-testfile/), as
# tests/lib/clamd.py has it; the private clamd's signature finds it.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# (kind, messages per 100, hostile)
KINDS = [
    ("text", 36, False),
    ("newsletter", 24, False),
    ("pdf", 12, False),
    ("zip", 8, False),
    ("image", 8, False),
    ("uribl", 2, False),
    ("rhsbl", 2, False),
    ("dnsbl", 2, False),
    ("adult", 2, False),
    ("eicar", 2, True),
    ("exe", 2, True),
]
assert sum(k[1] for k in KINDS) == 100

WORDS = ("meeting", "report", "quarter", "figures", "schedule", "project", "review", "budget",
         "customer", "delivery", "invoice", "thanks", "regards", "update", "team", "draft",
         "agenda", "minutes", "release", "support", "request", "order", "shipment", "account",
         "please", "attached", "find", "below", "tomorrow", "monday", "office", "call")
# The pooled bodies name their sender's domain and their links' domains by these placeholders;
# each message puts domains of the universe (filter_peers.domain) in their place.
SITES = tuple(f"@SITE{k}@" for k in range(8))
PEOPLE = ("Alice Martin", "Bruno Costa", "Chen Wei", "Dana Kowalski", "Emil Berg",
          "Fatima Haddad", "Giulia Rossi", "Hiro Tanaka")


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def paragraphs(rng, size):
    """Plain text of about `size` octets in lines of ~70 characters."""
    out, total = [], 0
    while total < size:
        line = words(rng, rng.randint(8, 12)).capitalize() + "."
        out.append(line)
        total += len(line) + 2
        if rng.random() < 0.15:
            out.append("")
    return out


def b64_lines(data):
    s = base64.b64encode(data).decode()
    return [s[i:i + 76] for i in range(0, len(s), 76)]


def link(rng, site=None):
    site = site or rng.choice(SITES[1:])
    host = rng.choice(("www.", "", "news.", "shop."))
    path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    return f"https://{host}{site}/{path}?id={rng.randint(1000, 99999)}"


def make_pdf(rng, size):
    """A small well-formed PDF whose one stream holds `size` octets of compressed-looking data."""
    stream = rng.randbytes(size)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
            + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def make_png(rng, w, h):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rows = b"".join(b"\x00" + rng.randbytes(w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def make_zip(rng):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.txt", "\r\n".join(paragraphs(rng, rng.randint(3000, 12000))))
        rows = ["date,item,amount"] + [f"2026-11-{rng.randint(1, 30):02d},{rng.choice(WORDS)},"
                                       f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
                                       for _ in range(rng.randint(100, 400))]
        z.writestr("data.csv", "\r\n".join(rows))
    return buf.getvalue()


def text_part(lines):
    return ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit", ""] + lines


def multipart(kind, rng, parts):
    boundary = f"=_bench_{rng.getrandbits(64):016x}"
    out = [f"Content-Type: multipart/{kind}; boundary=\"{boundary}\"", "",
           "This is a multi-part message in MIME format."]
    for p in parts:
        out += ["", f"--{boundary}"] + p
    out += ["", f"--{boundary}--", ""]
    return out


def attachment(name, ctype, data):
    return [f"Content-Type: {ctype}; name=\"{name}\"",
            f"Content-Disposition: attachment; filename=\"{name}\"",
            "Content-Transfer-Encoding: base64", ""] + b64_lines(data)


def html_doc(rng, n_links, extra=""):
    sites = [SITES[0]] + rng.sample(SITES[1:], rng.randint(2, 7))
    items = []
    for _ in range(n_links):
        title = words(rng, rng.randint(3, 6)).capitalize()
        items.append(f"<tr><td style=\"padding:8px;font-family:Arial\"><a href=\"{link(rng, rng.choice(sites))}\">"
                     f"{title}</a><br>{words(rng, rng.randint(15, 40))}.</td></tr>")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Newsletter</title></head>"
            "<body><table width=\"600\" cellpadding=\"0\" cellspacing=\"0\">"
            f"<tr><td><h1>{words(rng, 4).capitalize()}</h1>{extra}</td></tr>"
            + "\n".join(items) + "</table><p style=\"font-size:11px\">You receive this newsletter "
            f"because you subscribed. <a href=\"https://www.{sites[0]}/unsubscribe\">Unsubscribe</a>"
            "</p></body></html>")


def html_part(html):
    # Quoted-printable would be usual; lines are kept short enough for 7bit instead.
    lines, line = [], ""
    for token in html.replace("\n", " ").split(" "):
        if len(line) + len(token) + 1 > 76:
            lines.append(line)
            line = token
        else:
            line = f"{line} {token}" if line else token
    lines.append(line)
    return ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 7bit", ""] + lines


def letter(rng, size, links=0, site=None):
    lines = [f"Hello {rng.choice(PEOPLE).split()[0]},", ""] + paragraphs(rng, size)
    for _ in range(links):
        lines += ["", f"See {link(rng, site)}"]
    return lines + ["", "Regards,", rng.choice(PEOPLE)]


def body_for(kind, rng):
    """(MIME header lines and body as a list of lines, envelope sender, From: value)."""
    person = rng.choice(PEOPLE)
    local = person.lower().replace(" ", ".")
    site = SITES[0]
    sender = f"{local}@{site}"
    from_ = f"\"{person}\" <{sender}>"
    if kind == "text":
        lines = text_part(letter(rng, rng.randint(1000, 6000), links=rng.randint(0, 3)))
    elif kind == "newsletter":
        sender = f"newsletter@{site}"
        from_ = f"\"{rng.choice(WORDS).title()} News\" <{sender}>"
        n = rng.randint(10, 25)
        lines = multipart("alternative", rng, [
            text_part(letter(rng, rng.randint(1500, 4000), links=n // 3, site=site)),
            html_part(html_doc(rng, n))])
    elif kind == "pdf":
        lines = multipart("mixed", rng, [
            text_part(letter(rng, rng.randint(500, 2000))),
            attachment(f"{rng.choice(WORDS)}-2026.pdf", "application/pdf",
                       make_pdf(rng, rng.randint(20000, 60000)))])
    elif kind == "zip":
        lines = multipart("mixed", rng, [
            text_part(letter(rng, rng.randint(500, 2000))),
            attachment(f"{rng.choice(WORDS)}.zip", "application/zip", make_zip(rng))])
    elif kind == "image":
        cid = f"img{rng.getrandbits(32):08x}@bench.test"
        img = ["Content-Type: image/png; name=\"photo.png\"", f"Content-ID: <{cid}>",
               "Content-Disposition: inline; filename=\"photo.png\"",
               "Content-Transfer-Encoding: base64", ""] + b64_lines(
                   make_png(rng, rng.randint(40, 80), rng.randint(40, 80)))
        lines = multipart("related", rng, [
            html_part(html_doc(rng, rng.randint(2, 6), extra=f"<img src=\"cid:{cid}\" alt=\"\">")),
            img])
    elif kind == "uribl":
        lines = text_part(letter(rng, rng.randint(800, 2000), links=1,
                                 site=LISTED["uribl"][0]))
    elif kind == "rhsbl":
        sender = f"offers@{LISTED['rhsbl'][0]}"
        from_ = f"\"Best Offers\" <{sender}>"
        lines = text_part(letter(rng, rng.randint(800, 2000), links=1))
    elif kind == "dnsbl":
        lines = text_part(letter(rng, rng.randint(800, 2000)))
    elif kind == "adult":
        lines = text_part(letter(rng, rng.randint(500, 1500), links=1, site=ADULT))
    elif kind == "eicar":
        lines = multipart("mixed", rng, [
            text_part(letter(rng, rng.randint(300, 1000))),
            attachment("notes.txt", "application/octet-stream", EICAR)])
    elif kind == "exe":
        lines = multipart("mixed", rng, [
            text_part(letter(rng, rng.randint(300, 1000))),
            attachment("invoice.pdf.exe", "application/octet-stream",
                       b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
                       + rng.randbytes(rng.randint(2000, 8000)))])
    else:
        raise ValueError(kind)
    head = ["MIME-Version: 1.0"]
    body = "\r\n".join(head + lines) + "\r\n"
    # Dot-stuffing: no generated line starts with a dot, but keep the guarantee.
    body = body.replace("\r\n.", "\r\n..")
    return body.encode(), sender, from_


class Mix:
    """The message of each index: its kind and its bytes (headers of its own, a pooled body)."""

    def __init__(self, seed, pool, rcpt):
        rng = random.Random(seed)
        self.order = [k for k, n, _ in KINDS for _ in range(n)]
        rng.shuffle(self.order)
        self.hostile = {k for k, _, h in KINDS if h}
        self.rcpt = rcpt
        self.pool = {k: [body_for(k, random.Random(rng.getrandbits(64))) for _ in range(pool)]
                     for k, _, _ in KINDS}
        self.stamp = rng.getrandbits(32)

    def kind(self, i):
        return self.order[i % len(self.order)]

    def message(self, i):
        """(kind, envelope sender, message, client) of the i-th message; client is (public
        address, loopback address, name)."""
        kind = self.kind(i)
        bodies = self.pool[kind]
        body, sender, from_ = bodies[(i // len(self.order)) % len(bodies)]
        rng = random.Random(self.stamp * 1000003 + i)
        for k, d in enumerate(rng.sample(range(N_DOMAINS), len(SITES))):
            ph, name = SITES[k], domain(d)
            body = body.replace(ph.encode(), name.encode())
            sender = sender.replace(ph, name)
            from_ = from_.replace(ph, name)
        peer = LISTED_CLIENT if kind == "dnsbl" else client(rng.randrange(N_CLIENTS))
        date = email.utils.formatdate(localtime=False)
        head = (f"Received: from [10.20.{i % 250}.{i % 199 + 2}] by {peer[2]} with ESMTPSA id "
                f"{i:08X};\r\n\t{date}\r\n"
                f"From: {from_}\r\n"
                f"To: <{self.rcpt}>\r\n"
                f"Subject: {words(random.Random(i), 4).capitalize()} (#{i})\r\n"
                f"Date: {date}\r\n"
                f"Message-ID: <{i}.{self.stamp:08x}@{sender.split('@')[1]}>\r\n")
        return kind, sender, head.encode() + body, peer


def tree_pss_kib(root):
    """The memory of `root` and of every living process below it: their PSS summed (each shared
    page counted once over the processes that share it; /proc/PID/smaps_rollup)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            parents[int(entry)] = int(raw[raw.rfind(b")") + 2:].split()[1])
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree.add(pid)
            todo.extend(p for p, pp in parents.items() if pp == pid)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


async def session(mix, i, args, outcomes):
    kind, sender, data, peer = mix.message(i)
    t0 = time.perf_counter()
    w = None
    try:
        if args.xclient:
            r, w = await asyncio.open_connection("127.0.0.1", args.port, limit=1 << 20)
        else:
            r, w = await asyncio.open_connection(
                "127.0.0.1", args.port, limit=1 << 20,
                local_addr=(peer[1], 0))
        code, text = await read_reply(r)
        if code != 220:
            raise SmtpError(f"greeting: {code} {text}")
        helo = peer[2]
        ehlo = await command(r, w, f"EHLO {helo}", 250)
        if args.xclient:
            if not any(t.upper().startswith("XCLIENT") for t in ehlo):
                raise SmtpError(f"no XCLIENT offered: {ehlo}")
            await command(r, w, f"XCLIENT ADDR={peer[0]} NAME={peer[2]} HELO={helo}", 220)
            await command(r, w, f"EHLO {helo}", 250)
        await command(r, w, f"MAIL FROM:<{sender}>", 250)
        await command(r, w, f"RCPT TO:<{args.rcpt}>", 250)
        await command(r, w, "DATA", 354)
        w.write(data + b".\r\n")
        code, text = await read_reply(r)
        outcomes.append((i, kind, code, " ".join(text)[:200], time.perf_counter() - t0))
        w.write(b"QUIT\r\n")
        try:
            await asyncio.wait_for(read_reply(r), 10)
        except (SmtpError, OSError, asyncio.TimeoutError):
            pass
    except (SmtpError, OSError) as e:
        outcomes.append((i, kind, 0, str(e)[:200], time.perf_counter() - t0))
    finally:
        if w is not None:
            w.close()


async def run(args):
    mix = Mix(args.seed, args.pool, args.rcpt)
    # name=pid,...: each process tree's CPU is counted, and shown apart.
    cpu_pids = {}
    for item in filter(None, (args.cpu_pid or "").split(",")):
        name, _, pid = item.rpartition("=")
        cpu_pids[name or pid] = int(pid)
    dns_pids = [int(p) for p in args.dns_pid.split(",") if p] if args.dns_pid else []
    outcomes = []
    next_index = iter(range(args.messages))

    async def worker():
        for i in next_index:
            await session(mix, i, args, outcomes)

    sink_before = sink_count(args.sink_log) if args.sink_log else 0
    cpu_before = {n: tree_cpu_seconds([p]) for n, p in cpu_pids.items()}
    dns_before = tree_cpu_seconds(dns_pids) if dns_pids else 0.0
    own_before = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.sessions)))
    t_answered = time.perf_counter()
    own_cpu = time.process_time() - own_before

    accepted = sum(1 for o in outcomes if o[2] == 250)
    delivered = None
    t_end = t_answered
    if args.sink_log:
        deadline = time.monotonic() + args.sink_timeout
        while True:
            delivered = sink_count(args.sink_log) - sink_before
            if delivered >= accepted or time.monotonic() > deadline:
                t_end = time.perf_counter()
                break
            await asyncio.sleep(0.005)
    cpu_each = {n: tree_cpu_seconds([p]) - cpu_before[n] for n, p in cpu_pids.items()}
    cpu = sum(cpu_each.values()) if cpu_pids else None
    dns_cpu = (tree_cpu_seconds(dns_pids) - dns_before) if dns_pids else None
    pss = {n: tree_pss_kib(p) for n, p in cpu_pids.items()}
    if args.sink_log:
        # A message delivered twice, or one refused yet delivered, shows up shortly after.
        await asyncio.sleep(0.5)
        delivered = sink_count(args.sink_log) - sink_before

    per_kind = {}
    for _, kind, code, _, _ in outcomes:
        c = per_kind.setdefault(kind, {"sent": 0, "accepted": 0, "refused": 0, "deferred": 0,
                                       "failed": 0})
        c["sent"] += 1
        c["accepted" if code == 250 else "refused" if 500 <= code < 600
          else "deferred" if 400 <= code < 500 else "failed"] += 1
    expect_refused = set(filter(None, (args.expect_refused or "").split(",")))
    problems = []
    for kind, c in per_kind.items():
        if kind in expect_refused:
            if c["refused"] != c["sent"]:
                problems.append(f"{kind}: {c['refused']} of {c['sent']} refused, expected all")
        elif c["accepted"] != c["sent"]:
            problems.append(f"{kind}: {c['accepted']} of {c['sent']} accepted, expected all")
    if delivered is not None and delivered != accepted:
        problems.append(f"the sink counted {delivered} messages, {accepted} were accepted")
    samples = {}
    for _, kind, code, text, _ in outcomes:
        if code != 250 and (kind, code) not in samples:
            samples[(kind, code)] = text
    latencies = sorted(o[4] for o in outcomes)
    seconds = t_end - t0
    answered = sum(1 for o in outcomes if o[2])
    return {
        "label": args.label,
        "messages": args.messages,
        "sessions": args.sessions,
        "answered": answered,
        "accepted": accepted,
        "delivered": delivered,
        "seconds": seconds,
        "answered_seconds": t_answered - t0,
        "per_second": answered / seconds if seconds > 0 else float("nan"),
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        if latencies else float("nan"),
        "cpu_seconds": cpu,
        "cpu_ms_per_message": cpu * 1000 / answered if cpu is not None and answered else None,
        "cpu_ms_per_message_each": {n: c * 1000 / answered for n, c in cpu_each.items()}
        if answered else {},
        "pss_kib_each": pss,
        "pss_kib": sum(pss.values()),
        "dns_cpu_ms_per_message": dns_cpu * 1000 / answered
        if dns_cpu is not None and answered else None,
        "driver_cpu_ms_per_message": own_cpu * 1000 / max(1, answered),
        "octets": sum(len(mix.message(i)[2]) for i in range(min(args.messages, 100))),
        "per_kind": per_kind,
        "refusal_samples": [f"{k} {c}: {t}" for (k, c), t in samples.items()],
        "expect_refused": sorted(expect_refused),
        "problems": problems,
    }


def print_run(r):
    cpu = ""
    if r["cpu_ms_per_message"]:
        each = ", ".join(f"{n} {c:.2f}" for n, c in r["cpu_ms_per_message_each"].items())
        cpu = f", CPU {r['cpu_ms_per_message']:.2f} ms/message ({each})"
    print(f"   {r['answered']} of {r['messages']} answered, {r['accepted']} accepted, sink "
          f"{r['delivered']}; {r['seconds']:.2f} s: {r['per_second']:.0f} messages/s{cpu} "
          f"(p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms per session)", flush=True)
    kinds = ", ".join(f"{k} {c['accepted']}/{c['refused']}/{c['deferred'] + c['failed']}"
                      for k, c in r["per_kind"].items() if k in ("eicar", "exe")
                      or c["accepted"] != c["sent"])
    print(f"   accepted/refused/other: {kinds}; memory (PSS) after the run "
          + ", ".join(f"{n} {k // 1024} MiB" for n, k in r["pss_kib_each"].items())
          + f"; the load generator's CPU {r['driver_cpu_ms_per_message']:.2f} ms/message",
          flush=True)
    for s in r["refusal_samples"][:6]:
        print(f"   reply: {s}", flush=True)
    for p in r["problems"]:
        print(f"   PROBLEM: {p}", flush=True)


def summarize(paths):
    runs = load_runs(paths)
    by = {r["label"]: r for r in runs}
    print()
    print(f"{'':<36}{'messages/s':>11}{'CPU ms/msg':>11}{'DNS ms/msg':>11}{'PSS MiB':>9}"
          f"{'eicar refused':>14}{'exe refused':>12}{'others accepted':>16}")
    for r in runs:
        k = r["per_kind"]
        clean = [c for kind, c in k.items() if kind not in ("eicar", "exe")]
        others = f"{sum(c['accepted'] for c in clean)}/{sum(c['sent'] for c in clean)}"
        cpu = r["cpu_ms_per_message"]
        dns = r["dns_cpu_ms_per_message"]
        print(f"{r['label']:<36}{r['per_second']:>11.0f}"
              f"{(f'{cpu:.3f}' if cpu is not None else '-'):>11}"
              f"{(f'{dns:.3f}' if dns is not None else '-'):>11}"
              f"{r['pss_kib'] // 1024:>9}"
              f"{k.get('eicar', {}).get('refused', 0):>8}/{k.get('eicar', {}).get('sent', 0):<5}"
              f"{k.get('exe', {}).get('refused', 0):>6}/{k.get('exe', {}).get('sent', 0):<5}"
              f"{others:>16}")
    labels = [r["label"] for r in runs]

    def ratio(a, b, what):
        ra = next((by[l] for l in labels if l.startswith(a)), None)
        rb = next((by[l] for l in labels if l.startswith(b)), None)
        if ra and rb:
            print(f"{what}: {ra['per_second'] / rb['per_second']:.2f} (messages/s), CPU per "
                  f"message {ra['cpu_ms_per_message'] / rb['cpu_ms_per_message']:.2f}x")
    print()
    ratio("(b)", "(a)", "(b)/(a) pipeline without ClamAV / filtering off [goal >= 0.80]")
    ratio("(c)", "(a)", "(c)/(a) pipeline with ClamAV / filtering off")
    ratio("(c)", "(d)", "(c)/(d) Sealpost with ClamAV / Postfix + rspamd + ClamAV [goal >= 5]")
    ratio("(e)", "(d)", "(e)/(d) Postfix alone / Postfix + rspamd + ClamAV")
    bad = [r for r in runs if r["problems"]]
    for r in bad:
        for p in r["problems"]:
            print(f"PROBLEM in {r['label']}: {p}", file=sys.stderr)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, help="the MX's port on 127.0.0.1")
    ap.add_argument("-m", "--messages", type=int, default=2000)
    ap.add_argument("-s", "--sessions", type=int, default=20)
    ap.add_argument("--rcpt", default="user@bench.test")
    ap.add_argument("--xclient", action="store_true",
                    help="announce the client's address with XCLIENT (Postfix)")
    ap.add_argument("--expect-refused", default="", help="comma-separated kinds to be refused")
    ap.add_argument("--pool", type=int, default=40, help="distinct bodies per kind")
    ap.add_argument("--sink-log", help="an `smtp-sink -c` log: wait until it counted them all")
    ap.add_argument("--sink-timeout", type=float, default=300)
    ap.add_argument("--cpu-pid", help="NAME=PID,...: the process trees whose CPU to count")
    ap.add_argument("--dns-pid", help="the DNS server's PID, whose CPU is shown apart")
    ap.add_argument("--label", default="server")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--summarize", nargs="+", metavar="JSON",
                    help="print the table and ratios of earlier --json files, and nothing else")
    ap.add_argument("--write-samples", metavar="DIR", help="write one message of each kind")
    args = ap.parse_args()
    if args.summarize:
        sys.exit(summarize(args.summarize))
    if args.write_samples:
        mix = Mix(args.seed, 1, args.rcpt)
        os.makedirs(args.write_samples, exist_ok=True)
        for i in range(len(mix.order)):
            kind, sender, data, _ = mix.message(i)
            path = os.path.join(args.write_samples, f"{kind}.eml")
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(data)
                with open(path + ".sender", "w") as f:
                    f.write(sender + "\n")
        return
    if not args.port:
        ap.error("--port is required")
    r = asyncio.run(run(args))
    print_run(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    sys.exit(1 if r["problems"] else 0)


if __name__ == "__main__":
    main()
