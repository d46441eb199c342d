#!/usr/bin/python3
"""The network peers of bench/filter.sh: a DNS server and clamd on loopback, for as long as it runs.

    bench/filter_peers.py --env FILE [--clamd [--clamd-tmpfs]]

Starts, with the test suite's own helpers (tests/lib/dns_server.py, tests/lib/clamd.py):

- an unbound on 127.0.0.1 that answers every name itself, nothing recursive: the blocklist
  zones below with a few listings, the reverse and forward names of the load's client
  addresses, and NXDOMAIN for every other name (a `local-zone "." static` under them), so
  no check of either system waits for the internet;
- with --clamd, Debian's clamd with a private config and the tests' signatures (EICAR and a
  hash), listening on a unix socket and on a loopback port; with --clamd-tmpfs, its
  TemporaryDirectory (where it writes what it scans) on a tmpfs instead of /tmp's file system.

Then writes FILE (KEY=VALUE lines, sourced by the shell) and waits for SIGTERM or SIGINT, on which
it stops both. The zones and listings are also importable (ZONES, LISTED) for the load generator.
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

# The legitimate senders' and their links' domains: each has an address and an MX, as a real
# one does (rspamd scores a sender domain without them, HFILTER_FROMHOST_NORES_A_OR_MX).
SITES = ("news-daily.test", "shop-outlet.test", "travel-deals.test", "city-library.test",
         "bike-club.test", "garden-supply.test", "open-source.test", "weather-now.test",
         "recipes-home.test", "music-hall.test", "tech-review.test", "museum-guide.test")

# Client addresses as the systems see them: Sealpost sees the load's source address (127.0.0.1,
# or 127.0.0.2 for the listed client); Postfix gets a public-looking address by XCLIENT, since
# rspamd skips most of its checks for loopback and private clients.
CLEAN_CLIENT = ("203.0.113.7", "mail.sender.test")
LISTED_CLIENT = ("203.0.113.66", "dsl-66.dialup.test")
# 127.0.0.2, the listed client's address as Sealpost sees it, has the same name.
LISTED_LOOPBACK = "127.0.0.2"

LISTED = {
    "dnsbl": [LISTED_LOOPBACK, LISTED_CLIENT[0]],
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
    out += [f"{ADULT}. 300 IN A 0.0.0.0", f"www.{ADULT}. 300 IN A 0.0.0.0"]
    for d in SITES + tuple(LISTED["rhsbl"]) + tuple(LISTED["uribl"]) + (ADULT,):
        out += [f"{d}. 300 IN MX 10 mx.{d}.", f"mx.{d}. 300 IN A 192.0.2.25"]
        if d != ADULT:
            out += [f"{d}. 300 IN A 192.0.2.80", f"www.{d}. 300 IN A 192.0.2.80"]
    # Forward-confirmed reverse DNS for the clients (127.0.0.1 is unbound's own localhost): the
    # listed one has a generic name, as a compromised host on a consumer line has.
    ip, name = CLEAN_CLIENT
    out += [f"{reverse(ip)}. 300 IN PTR {name}.", f"{name}. 300 IN A {ip}"]
    ip, name = LISTED_CLIENT
    out += [f"{reverse(ip)}. 300 IN PTR {name}.", f"{name}. 300 IN A {ip}",
            f"{reverse(LISTED_LOOPBACK)}. 300 IN PTR {name}.", f"{name}. 300 IN A {LISTED_LOOPBACK}"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", required=True, help="file to write KEY=VALUE lines to")
    ap.add_argument("--clamd", action="store_true", help="start clamd as well")
    ap.add_argument("--clamd-tmpfs", action="store_true",
                    help="mount a tmpfs on clamd's TemporaryDirectory (root only)")
    args = ap.parse_args()

    # "" makes DnsServer write `local-zone: "." static`: NXDOMAIN for whatever no record names.
    zones = ["", DNSBL, RHSBL, URIBL, ADULT, "113.0.203.in-addr.arpa"]
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
