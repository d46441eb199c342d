"""A real DNS server for tests: Debian's unbound, serving local data on 127.0.0.1."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import free_port

UNBOUND = "/usr/sbin/unbound"


class DnsServer:
    """unbound answering for `zones` from `records` ("name. TTL IN TYPE data" lines).

    Names under a zone that have no record get NXDOMAIN (local-zone static). With log_queries,
    queries(name) counts the queries the server received for a name."""

    def __init__(self, zones, records, port=None, auth_zones=(), log_queries=False):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="dns-test-")
        conf = [
            "server:",
            f"  interface: 127.0.0.1@{self.port}",
            "  port: 53",
            "  do-ip6: no",
            "  do-daemonize: no",
            "  use-syslog: no",
            '  username: ""',
            '  chroot: ""',
            f'  directory: "{self.dir}"',
            '  pidfile: ""',
            "  do-not-query-localhost: no",
            "  verbosity: 0",
            "  access-control: 127.0.0.0/8 allow",
        ]
        self.logfile = os.path.join(self.dir, "queries.log")
        if log_queries:
            conf += ["  log-queries: yes", f'  logfile: "{self.logfile}"']
        conf += [f'  local-zone: "{z}." static' for z in zones]
        if auth_zones:
            # unbound answers "test." itself (RFC 6761) unless told not to.
            conf.append('  local-zone: "test." nodefault')
        # TXT data carries double quotes: quote those lines with single quotes.
        conf += [f"  local-data: '{r}'" if '"' in r else f'  local-data: "{r}"' for r in records]
        conf += ["remote-control:", "  control-enable: no"]
        # Authoritative zones from zone files (signed ones answer with their RRSIGs).
        for name, zonefile in auth_zones:
            conf += ["auth-zone:", f'  name: "{name}."', f'  zonefile: "{zonefile}"',
                     "  for-downstream: yes", "  for-upstream: no"]
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = None

    def start(self):
        check = subprocess.run(["/usr/sbin/unbound-checkconf", self.conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(check.stdout + check.stderr)
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited: " + self.proc.stderr.read().decode())
            if self._answers():
                return self
            time.sleep(0.1)
        raise TimeoutError("unbound did not answer")

    def _answers(self):
        """True when the server answers a DNS query (any answer) on its UDP port."""
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05probe\x07invalid\x00\x00\x10\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(query, ("127.0.0.1", self.port))
                data, _ = s.recvfrom(512)
                return data[:2] == b"\x12\x34"
            except OSError:
                return False

    def queries(self, name, rrtype="A"):
        """How many queries for `name` (with its final dot) of `rrtype` the server received
        (log_queries only)."""
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return sum(1 for line in f if f" {name} {rrtype} IN" in line)
        except FileNotFoundError:
            return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
