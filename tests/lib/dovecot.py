"""A private Dovecot (the reference IMAP server) on 127.0.0.1, for comparisons and benchmarks.

Everything lives in one temporary directory: dovecot.conf, the runtime sockets (base_dir), the
state, the log, the passwd-file and the Maildir. /etc/dovecot is never read. The server runs in
the foreground (`dovecot -F -c conf`) as a child of this process, in its own process group;
stop() ends the master and every process it started, by PID, and removes the directory.

Dovecot 2.3 refuses mail access as root ("Mail access not allowed for root"), so when this runs
as root the mailbox belongs to an unprivileged user (`nobody` unless told otherwise) and the
internal and login processes run as Debian's `dovecot` and `dovenull` users. As any other user,
everything runs as that user.

    with Dovecot() as dv:
        imap = imaplib.IMAP4("127.0.0.1", dv.imap_port)
        imap.login(dv.user, dv.password)
"""

import grp
import os
import pwd
import signal
import subprocess
import tempfile
import time

import harness
from daemon import TestDaemon

DOVECOT_BIN = os.environ.get("DOVECOT_BIN", "/usr/sbin/dovecot")


def available():
    """True when a Dovecot binary is installed (tests skip without it)."""
    return os.access(DOVECOT_BIN, os.X_OK) and os.path.exists("/usr/lib/dovecot/imap")


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def descendants(pid):
    """PIDs of every live process below `pid`, from /proc (children, grandchildren, ...)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class Dovecot(TestDaemon):
    """A Dovecot IMAP server with one passwd-file user and a Maildir.

    user, password: the login (the user owns `maildir`).
    tls: also listen for implicit TLS (imaps_port) with a self-signed certificate, and offer
        STARTTLS on imap_port; plaintext LOGIN stays allowed (loopback).
    max_connections: raise every limit that would refuse that many simultaneous sessions of
        this one user (process limits, client limits, mail_max_userip_connections).
    extra: more dovecot.conf text, appended last.
    """

    LOG_FILES = ("dovecot.stderr", "dovecot.log")

    def __init__(self, user="alice", password="dovecot-test-password", tls=False,
                 max_connections=None, extra="", mail_user=None):
        self.user = user
        self.password = password
        self.imap_port = harness.free_port()
        self.imaps_port = harness.free_port() if tls else None
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="dovecot-test-")
        # The mail and internal users must reach their files below the directory.
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.home = os.path.join(self.dir, "home")
        self.maildir = os.path.join(self.home, "Maildir")
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "state"))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))

        if os.geteuid() == 0:
            mail_user = mail_user or "nobody"
            internal = "dovecot" if _user_exists("dovecot") else "nobody"
            login = "dovenull" if _user_exists("dovenull") else "nobody"
        else:
            mail_user = pwd.getpwuid(os.geteuid()).pw_name
            internal = login = mail_user
        pw = pwd.getpwnam(mail_user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        if os.geteuid() == 0:
            for path in (self.home, self.maildir, *[os.path.join(self.maildir, s)
                                                    for s in ("cur", "new", "tmp")]):
                os.chown(path, self.uid, self.gid)

        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            f.write(f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{self.home}::\n")
        os.chmod(passwd, 0o644)  # read by the auth process (the internal user)

        lines = [
            f"base_dir = {self.dir}/run",
            f"state_dir = {self.dir}/state",
            f"instance_name = dovecot-test-{self.imap_port}",
            f"log_path = {self.log_path}",
            "protocols = imap",
            "listen = 127.0.0.1",
            "auth_mechanisms = plain login",
            # Plaintext passwords on a connection that is not TLS: only loopback listens.
            "disable_plaintext_auth = no",
            f"default_internal_user = {internal}",
            f"default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}",
            f"default_login_user = {login}",
            "first_valid_uid = 1" if self.uid != 0 else "first_valid_uid = 0",
            # The user's own Maildir; INBOX is the Maildir's root (Maildir++).
            f"mail_location = maildir:{self.maildir}",
            "mail_privileged_group =",
            # No syslog, no systemd, no shared /var/run.
            "import_environment = TZ",
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {passwd}",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = username_format=%u {passwd}",
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            f"    port = {self.imap_port}",
            "  }",
            "  inet_listener imaps {",
            "    address = 127.0.0.1",
            f"    port = {self.imaps_port or 0}",
            "  }",
            "}",
            # Unused services that would otherwise listen on the network or on shared paths.
            "service doveadm {",
            "  inet_listener {",
            "    port = 0",
            "  }",
            "}",
        ]
        if tls:
            cert, key = harness.make_cert(self.dir, "localhost")
            os.chmod(key, 0o644)
            lines += ["ssl = yes", f"ssl_cert = <{cert}", f"ssl_key = <{key}"]
        else:
            lines += ["ssl = no"]
        if max_connections:
            n = int(max_connections)
            lines += [
                f"default_client_limit = {n + 100}",
                f"default_process_limit = {n + 100}",
                f"default_vsz_limit = 512M",
                f"mail_max_userip_connections = {n + 100}",
                # imap-login in "high-performance" mode: a few processes that each proxy
                # many connections (Dovecot's documented setup for many clients).
                "service imap-login {",
                "  service_count = 0",
                f"  client_limit = {n + 100}",
                "  process_min_avail = 2",
                "  process_limit = 4",
                "}",
                "service imap {",
                f"  process_limit = {n + 100}",
                "}",
                "service anvil {",
                f"  client_limit = {2 * n + 400}",
                "}",
                "service auth {",
                f"  client_limit = {2 * n + 400}",
                "}",
                "service stats {",
                f"  client_limit = {2 * n + 400}",
                "}",
                "service log {",
                f"  client_limit = {2 * n + 400}",
                "}",
                "service config {",
                f"  client_limit = {2 * n + 400}",
                "}",
            ]
        if extra:
            lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout=20.0):
        self._log = open(os.path.join(self.dir, "dovecot.stderr"), "wb")
        # Its own session (and so process group): stop() can also reach processes whose parent
        # has died.
        self.proc = subprocess.Popen([DOVECOT_BIN, "-F", "-c", self.conf],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            harness.wait_for_port(self.imap_port, timeout=timeout, proc=self.proc)
        except Exception as e:
            text = self.log_text()
            self.stop()
            raise RuntimeError(f"dovecot did not start: {e}\n{text}") from None
        return self

    def pids(self):
        """The master and every process below it (imap, imap-login, auth, log, config, ...)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *descendants(self.proc.pid)]

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                children = descendants(self.proc.pid)
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
                # The master ends its children on SIGTERM; any left (a hung imap process) are
                # killed by PID, then whatever is still in the group.
                deadline = time.monotonic() + 5
                for pid in children:
                    while _alive(pid) and time.monotonic() < deadline:
                        time.sleep(0.02)
                    if _alive(pid):
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._log.close()
            self.proc = None


    # --- mail ---------------------------------------------------------------------------------

    def deliver_maildir(self, messages, seen=False):
        """Writes messages (bytes, CRLF or LF) straight into the Maildir, as an MDA would:
        faster than APPEND for a benchmark mailbox. Dovecot indexes them on the next SELECT."""
        sub = "cur" if seen else "new"
        host = "sealpost-test"
        base = int(time.time())
        for i, body in enumerate(messages):
            name = f"{base}.M{i}P{os.getpid()}.{host},S={len(body)}"
            if seen:
                name += ":2,S"
            path = os.path.join(self.maildir, sub, name)
            with open(path, "wb") as f:
                f.write(body)
            if os.geteuid() == 0:
                os.chown(path, self.uid, self.gid)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"
