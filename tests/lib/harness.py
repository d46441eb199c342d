"""Test harness: start `sealpost serve` and real SMTP sinks on 127.0.0.1, and stop them.

Every port is one the test picked free on 127.0.0.1; every process started here is stopped by
its PID when the test ends, pass or fail (use the objects as context managers, or register
their stop() with unittest's addCleanup).
"""

import fcntl
import os
import pwd
import random
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as AioSMTP

SEALPOST_BIN = os.environ.get("SEALPOST_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-asan", "sealpost")


# free_port() hands out ports below the kernel's ephemeral range (32768-60999 on Debian), so no
# outgoing connection of any process can take one between the pick and the server's bind, and
# it records each port in a file shared by every test process on the machine (ctest runs them
# in parallel), so two tests are not handed the same port while neither has bound it yet.
_PORT_RANGE = (20000, 32768)
_PORT_LEASE_S = 300
# The unprivileged user scripts/install-deps.sh creates (`[server] user` when run as root).
SERVER_USER = "sealpost"
_PORT_FILE = os.path.join(tempfile.gettempdir(), "sealpost-test-ports")


def _bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):  # a DNS server takes both
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port():
    """A TCP and UDP port on 127.0.0.1 that nothing is bound to right now and that no other
    test was handed in the last few minutes."""
    with open(_PORT_FILE + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = time.time()
        leased = {}
        try:
            with open(_PORT_FILE) as f:
                for line in f:
                    port, _, at = line.partition(" ")
                    if port.isdigit() and now - float(at or 0) < _PORT_LEASE_S:
                        leased[int(port)] = float(at)
        except (OSError, ValueError):
            leased = {}
        for _ in range(1000):
            port = random.randrange(*_PORT_RANGE)
            if port not in leased and _bindable(port):
                break
        else:
            raise RuntimeError("no free port on 127.0.0.1")
        leased[port] = now
        with open(_PORT_FILE + ".tmp", "w") as f:
            f.writelines(f"{p} {at}\n" for p, at in leased.items())
        os.replace(_PORT_FILE + ".tmp", _PORT_FILE)
        return port


def wait_for_port(port, timeout=20.0, proc=None, log=None):
    """log: a function that returns the process's output, shown if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening"
                               + (f": {log()[-2000:]}" if log else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def make_ca(directory):
    """A test certificate authority: (ca_cert, ca_key) made with the openssl command."""
    cert = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "ca-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=Sealpost Test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign"],
        check=True, capture_output=True)
    return cert, key


def make_signed_cert(directory, ca, names, stem):
    """A certificate for `names` (the first is the CN) signed by `ca`: (cert, key)."""
    cert = os.path.join(directory, f"{stem}.pem")
    key = os.path.join(directory, f"{stem}-key.pem")
    csr = os.path.join(directory, f"{stem}.csr")
    ext = os.path.join(directory, f"{stem}.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", f"/CN={names[0]}"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
                   check=True, capture_output=True)
    return cert, key


def make_cert(directory, hostname="localhost"):
    """A self-signed certificate and key, made with the openssl command."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={hostname}",
         "-addext", f"subjectAltName=DNS:{hostname}"],
        check=True, capture_output=True)
    return cert, key


def zone_records(dns_output):
    """The zone-file lines of `sealpost domain dns`, without comments."""
    return [l for l in dns_output.splitlines() if l and not l.startswith(";")]


def txt_value(line):
    """The TXT value of a zone-file line: its quoted strings joined."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', line)).replace('\\"', '"')


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    content: bytes
    tls: bool
    mail_options: list = field(default_factory=list)


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.sink.lock:
            self.sink.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.data_replies:
                reply = self.sink.data_replies.pop(0)
            else:
                reply = "250 2.0.0 Stored"
            self.sink.attempts += 1
            if reply.startswith("2"):
                self.sink.messages.append(Received(
                    envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                    session.ssl is not None, list(envelope.mail_options)))
        return reply


class Sink:
    """A real SMTP server (python3-aiosmtpd) standing for a destination's mail server.

    rcpt_replies: {address: reply} to refuse particular recipients.
    data_replies: replies given to successive DATA commands before the default 250.
    tls: offer STARTTLS with a self-signed certificate.
    """

    def __init__(self, tls=False, workdir=None, port=None, cert=None):
        """cert: (certfile, keyfile) to offer instead of a self-signed "sink.test" one; port: a
        port to listen on (e.g. the one a stopped sink used)."""
        self.port = port or free_port()
        self.messages = []
        self.rcpt_replies = {}
        self.data_replies = []
        self.attempts = 0
        self.greetings = 0  # EHLOs seen: one per connection (two with STARTTLS)
        self.lock = threading.Lock()
        kwargs = {"enable_SMTPUTF8": True, "decode_data": False}
        self._tmp = None
        if tls:
            if cert:
                cert, key = cert
            else:
                self._tmp = tempfile.mkdtemp(prefix="sink-tls-")
                cert, key = make_cert(self._tmp, "sink.test")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            kwargs["tls_context"] = ctx
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **kwargs)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        try:
            self.controller.stop()
        except Exception:  # already stopped
            pass
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        return self.messages

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# The [filter] lines that turn off every check that asks another server; a test adds its own.
NO_NETWORK_CHECKS = ('dnsbl = {}\nrhsbl = {}\nuribl = {}\nfamily_resolver = ""\n'
                     'reverse_dns = false\nclamd = ""\n')


class Sealpost:
    """A `sealpost serve` process with its own data directory and config."""

    def __init__(self, transport=None, tls=True, extra="", hostname="mx.sealpost.test",
                 srs_domain=None, dns_port=None, auth=False, listen=(), filter=None):
        """listen: more [listen] keys, each given a free port: ("imap", "imaps") makes
        self.ports = {"imap": port, "imaps": port}. filter: the [filter] section's lines; by
        default (NO_NETWORK_CHECKS) the content filter asks no blocklist, no family resolver, no
        reverse DNS and no clamd (tests have no internet, most no DNS server, and the machine's
        clamd, if any, is not theirs)."""
        self.dir = tempfile.mkdtemp(prefix="sealpost-test-")
        self.data_dir = os.path.join(self.dir, "data")
        self.port = free_port()
        self.config = os.path.join(self.dir, "sealpost.toml")
        self.log_path = os.path.join(self.dir, "sealpost.log")
        self.proc = None
        self.hostname = hostname
        self.ports = {name: free_port() for name in listen}
        # Started as root (as CI runs), the server serves as the system user the install step
        # creates, and the CLI acts as that user: it owns the test's directory, so it can reach
        # the data directory and write exports beside it.
        self.user = SERVER_USER if os.geteuid() == 0 else None
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        lines = [
            "[server]", f'hostname = "{hostname}"', f'data_dir = "{self.data_dir}"',
            *([f'user = "{self.user}"'] if self.user else []), "",
            "[listen]", f'smtp = "127.0.0.1:{self.port}"',
            *[f'{name} = "127.0.0.1:{port}"' for name, port in self.ports.items()], "",
            # Without dns_port no DNS server answers there: tests route by the transport map.
            # The test zones are unsigned and not delegated from the root: no DNSSEC.
            "[dns]", f'servers = ["127.0.0.1:{dns_port or free_port()}"]', 'trust_anchor = ""', "",
        ]
        if tls:
            cert, key = make_cert(self.dir, hostname)
            lines += ["[tls]", f'cert = "{cert}"', f'key = "{key}"', ""]
        if not auth:
            # Inbound authentication queries DNS for every message; tests of other things
            # have no DNS server to answer.
            lines += ["[auth]", "enabled = false", ""]
        if srs_domain:
            lines += ["[srs]", f'domain = "{srs_domain}"', ""]
        if filter is None:
            filter = NO_NETWORK_CHECKS
        lines += ["[filter]", filter, ""]
        if transport:
            lines.append("[transport]")
            for domain, port in transport.items():
                lines.append(f'"{domain}" = "127.0.0.1:{port}"')
            lines.append("")
        lines.append(extra)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def workdir(self, prefix):
        """A new directory beside the data directory that the CLI (acting as the server's user
        when run as root) may write to: where tests ask for exports."""
        path = tempfile.mkdtemp(prefix=prefix, dir=self.dir)
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(path, account.pw_uid, account.pw_gid)
        return path

    def cli(self, *args, check=True):
        """Runs a sealpost subcommand against this instance's config."""
        result = subprocess.run([SEALPOST_BIN, *args, "--config", self.config],
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"sealpost {' '.join(args)} failed: {result.stderr}")
        return result

    def add_mailbox(self, address, password):
        """Creates a sealed mailbox (its domain must be hosted) with that password; returns the
        password file, for the commands that ask for it."""
        pw = os.path.join(self.dir, "pw-" + address)
        with open(pw, "w") as f:
            f.write(password + "\n")
        self.cli("mailbox", "add", address, "--password-file", pw)
        return pw

    def submit(self, user, password, recipients, port_name="submission"):
        """Logs in on the submission port (STARTTLS, AUTH) and sends one short message from
        `user` to each recipient."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False  # the test certificate is self-signed
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", self.ports[port_name], timeout=60) as s:
            s.starttls(context=ctx)
            s.login(user, password)
            for rcpt in recipients:
                s.sendmail(user, [rcpt], (f"From: {user}\r\nTo: {rcpt}\r\n"
                                          f"Subject: to {rcpt}\r\n\r\nHello.\r\n").encode())

    def cli_bytes(self, *args, input=b"", check=True):
        """Runs a subcommand with `input` on stdin; stdout and stderr as bytes."""
        result = subprocess.run([SEALPOST_BIN, *args, "--config", self.config], input=input,
                                capture_output=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"sealpost {' '.join(args)} failed: {result.stderr!r}")
        return result

    def start(self, preexec_fn=None):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([SEALPOST_BIN, "serve", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn)
        # Every listener is bound and listening before the server accepts on any: the SMTP
        # port answering means the others queue connections too (no probe that would log).
        wait_for_port(self.port, proc=self.proc, log=self.log_text)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.exit_code = self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def forwarding_server(aliases=("a",), extra="", **options):
    """A started sink for dest.test and a started server hosting example.com, each alias
    <name>@example.com forwarding to <name>@dest.test: the SMTP session tests' fixture. The caller
    cleans both up (mx.cleanup(), sink.stop())."""
    sink = Sink().start()
    mx = Sealpost(transport={"dest.test": sink.port}, extra=extra, **options)
    mx.cli("domain", "add", "example.com")
    for name in aliases:
        mx.cli("alias", "add", f"{name}@example.com", "--forward", f"{name}@dest.test")
    mx.start()
    return sink, mx


class RawClient:
    """A plain socket speaking SMTP by hand, for what smtplib will not send."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """Reads one (possibly multi-line) reply; returns (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed; got %r" % (self.buf,))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] == b" ":
                return int(lines[0][:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server closed the connection (EOF) within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def wait_until(predicate, timeout=30.0, interval=0.05, message=None):
    """Polls predicate() until it returns something true, and returns that value; fails the test
    (AssertionError) after `timeout` seconds. The timeout is generous on purpose: on a loaded
    machine a positive signal may take long, and waiting for one costs nothing when it comes
    quickly. `message` (a string, or a function returning one) says what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not within {timeout} s: {text or predicate}")
        time.sleep(interval)


def log_lines(server, pattern):
    """The lines of the server's log that match `pattern` (a regular expression)."""
    return [line for line in server.log_text().splitlines() if re.search(pattern, line)]


def wait_for_log(server, pattern, count=1, timeout=30.0):
    """Waits until the server's log has at least `count` lines matching `pattern`: the server
    logs when it has decided something (a queue attempt recorded, a session ended, the routing
    table reloaded), so what it decided is final once the line is there. Returns the lines."""
    def enough():
        lines = log_lines(server, pattern)
        return lines if len(lines) >= count else None

    return wait_until(enough, timeout, message=lambda: (
        f"{count} log lines matching {pattern!r}; the log ends:\n{server.log_text()[-3000:]}"))


def cli_then_reload(server, *args):
    """Runs a CLI command that changes the metadata store and waits until the running server has
    reloaded (its "routing reloaded" line), instead of sleeping for the reloader's poll interval.
    The server reloads once per change it sees: a change made before this call must have been
    waited for too, or its reload could be taken for this one's."""
    before = len(log_lines(server, r"routing reloaded"))
    result = server.cli(*args)
    wait_for_log(server, r"routing reloaded", count=before + 1)
    return result
