#!/usr/bin/python3
"""The network peers of bench/filter.sh: a DNS server and clamd on loopback, for as long as it runs.

    bench/filter_peers.py --env FILE [--clamd [--clamd-tmpfs]]

Starts, with the test suite's own helpers (tests/lib/dns_server.py, tests/lib/clamd.py):

- an unbound on 127.0.0.1 that answers every name itself, nothing recursive: the blocklist
  zones below with a few listings, N_DOMAINS sender and link domains (A and MX), N_CLIENTS
  clients' forward-confirmed names, and NXDOMAIN for every other name (a `local-zone "."
  static` under them), so no check of either system waits for the internet;
- with --clamd, Debian's clamd with a private config and the tests' signatures (EICAR and a
  hash), listening on a unix socket and on a loopback port; with --clamd-tmpfs, its
  TemporaryDirectory (where it writes what it scans) on a tmpfs instead of /tmp's file system.

Then writes FILE (KEY=VALUE lines, sourced by the shell) and waits for SIGTERM or SIGINT, on which
it stops both. The zones, domains, clients and listings are importable: the load generator
(bench/filter_load.py) uses the same.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))

import clamd as clamd_lib  # noqa: E402  (tests/lib)
from dns_server import DnsServer  # noqa: E402

# The lists both systems ask, and their scores (the same in Sealpost's [filter] and rspamd's
# rbl module).
DNSBL = "dnsbl.bench.test"
RHSBL = "rhsbl.bench.test"
URIBL = "uribl.bench.test"
# The domains the family-filter resolver blocks (answered 0.0.0.0).
ADULT = "adult-pics.test"

# The legitimate senders' and their links' domains, many of them, so that neither system answers
# most lookups from a cache of its own (a real MX sees a long tail of domains): each has an
# address and an MX, as a real one does (rspamd scores a sender domain without them).
N_DOMAINS = 3000
_ADJ = ("green", "city", "open", "bright", "north", "river", "silver", "quick", "blue", "old",
        "royal", "urban", "happy", "smart", "little", "grand", "wild", "first", "clear", "golden")
_NOUN = ("garden", "library", "travel", "bikes", "books", "music", "kitchen", "studio", "market",
         "school", "clinic", "tools", "energy", "design", "coffee")


def domain(k):
    """The k-th domain of the universe (0 <= k < N_DOMAINS)."""
    return f"{_ADJ[k % 20]}-{_NOUN[(k // 20) % 15]}{k // 300}.test"


# The clients, each with a forward-confirmed name and two addresses: the one Sealpost sees (the
# load's source address, in 127.1.0.0/16: Linux routes all of 127.0.0.0/8 to loopback) and the
# public-looking one Postfix is told with XCLIENT (rspamd skips most of its checks for loopback
# and private clients).
N_CLIENTS = 500


def client(k):
    """(public address, loopback address, name) of the k-th client."""
    public = f"198.51.100.{k + 1}" if k < 254 else f"203.0.113.{k - 253}"
    return public, f"127.1.{k // 250}.{k % 250 + 1}", f"mail{k}.relay{k % 40}.test"


# The client the DNSBL lists: a generic name, as a compromised host on a consumer line has.
LISTED_CLIENT = ("192.0.2.66", "127.0.0.2", "dsl-66.dialup.test")

LISTED = {
    "dnsbl": LISTED_CLIENT[:2],
    "rhsbl": ["bulk-mailer.test"],
    "uribl": ["cheap-pills.test"],
}


def reverse(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def records():
    out = []
    for ip in LISTED["dnsbl"]:
        q = ".".join(reversed(ip.split(".")))
        out += [f"{q}.{DNSBL}. 300 IN A 127.0.0.2",
                f'{q}.{DNSBL}. 300 IN TXT "listed for the benchmark"']
    for d in LISTED["rhsbl"]:
        out.append(f"{d}.{RHSBL}. 300 IN A 127.0.1.2")
    for d in LISTED["uribl"]:
        out.append(f"{d}.{URIBL}. 300 IN A 127.0.0.4")
    out += [f"{ADULT}. 300 IN A 0.0.0.0", f"www.{ADULT}. 300 IN A 0.0.0.0",
            f"{ADULT}. 300 IN MX 10 mx.{ADULT}.", f"mx.{ADULT}. 300 IN A 192.0.2.25"]
    for d in [domain(k) for k in range(N_DOMAINS)] + LISTED["rhsbl"] + LISTED["uribl"]:
        out += [f"{d}. 300 IN MX 10 mx.{d}.", f"mx.{d}. 300 IN A 192.0.2.25",
                f"{d}. 300 IN A 192.0.2.80", f"www.{d}. 300 IN A 192.0.2.80"]
    # Forward-confirmed reverse DNS for every client, under both its addresses.
    for public, loopback, name in [client(k) for k in range(N_CLIENTS)] + [LISTED_CLIENT]:
        out += [f"{reverse(public)}. 300 IN PTR {name}.", f"{reverse(loopback)}. 300 IN PTR {name}.",
                f"{name}. 300 IN A {public}", f"{name}. 300 IN A {loopback}"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", required=True, help="file to write KEY=VALUE lines to")
    ap.add_argument("--clamd", action="store_true", help="start clamd as well")
    ap.add_argument("--clamd-tmpfs", action="store_true",
                    help="mount a tmpfs on clamd's TemporaryDirectory (root only)")
    args = ap.parse_args()

    # "" makes DnsServer write `local-zone: "." static`: NXDOMAIN for whatever no record names.
    # The TEST-NET reverse zones are among unbound's defaults (NXDOMAIN): ours replace them.
    zones = ["", DNSBL, RHSBL, URIBL, ADULT, "2.0.192.in-addr.arpa", "100.51.198.in-addr.arpa",
             "113.0.203.in-addr.arpa"]
    dns = DnsServer(zones=zones, records=records())
    clamd = clamd_lib.Clamd() if args.clamd else None
    # clamd writes what it scans to files there, each part of a message to one of its own; on a
    # disk file system their creation and removal are most of its CPU time.
    tmpfs = os.path.join(clamd.dir, "tmp") if clamd and args.clamd_tmpfs else None
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    try:
        dns.start()
        if tmpfs:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", tmpfs], check=True)
        if clamd:
            clamd.start()
        lines = [f"DNS_PORT={dns.port}", f"DNS_PID={dns.proc.pid}"]
        if clamd:
            lines += [f"CLAMD_SOCKET={clamd.socket}", f"CLAMD_TCP={clamd.tcp}",
                      f"CLAMD_PID={clamd.proc.pid}", f"CLAMD_CONF={clamd.conf}"]
        with open(args.env + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(args.env + ".tmp", args.env)
        while not stopping:
            time.sleep(0.2)
    finally:
        if clamd:
            clamd.stop()
        if tmpfs:
            subprocess.run(["umount", tmpfs], check=False)
        if clamd:
            clamd.cleanup()
        dns.stop()


if __name__ == "__main__":
    main()
