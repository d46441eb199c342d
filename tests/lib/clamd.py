"""A private clamd (Debian's clamav-daemon) for the virus-scan tests, with signatures the test
writes itself: no freshclam, no network, and the machine's own clamd (if it runs) is never used.

Everything lives in one temporary directory: clamd.conf, the unix socket, the signature
database, clamd's temporary files and its log. clamd runs in the foreground as a child of this
process, as the user running the tests (no `User` line: it changes to no one), and listens on
the unix socket and on a free port of 127.0.0.1. start() returns once clamd answers PING with
PONG on both.

The official databases are not there, so EICAR is found by a body signature of ours; a hash
signature covers a payload of the test's own:

    with Clamd() as clamd:
        clamd.socket       # the unix socket's path
        clamd.tcp          # "127.0.0.1:PORT"
"""

import hashlib
import os
import signal
import socket
import subprocess
import tempfile
import time

import harness
from daemon import TestDaemon

CLAMD_BIN = os.environ.get("CLAMD_BIN", "/usr/sbin/clamd")

# The EICAR test file (https://www.eicar.org/download-anti-malware-testfile/), which every
# scanner reports; ClamAV's own signature for it is in the official database, not here.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A payload found by its MD5 (an .hdb signature), as ClamAV's hash signatures find known files.
PAYLOAD = b"%PDF-1.4\n% Sealpost test payload: not a virus, found by its hash\n%%EOF\n"

# clamd names signatures that are not from the official databases "<name>.UNOFFICIAL".
EICAR_SIGNATURE = "Sealpost.Test.Eicar.UNOFFICIAL"
PAYLOAD_SIGNATURE = "Sealpost.Test.Payload.UNOFFICIAL"


def available():
    """True when clamd is installed (Debian's clamav-daemon)."""
    return os.access(CLAMD_BIN, os.X_OK)


class Clamd(TestDaemon):
    """stream_max_length: clamd's StreamMaxLength (a larger INSTREAM is refused with
    "INSTREAM size limit exceeded")."""

    LOG_FILES = ("clamd.stderr", "clamd.log")

    def __init__(self, stream_max_length="10M"):
        self.dir = tempfile.mkdtemp(prefix="clamd-test-")
        # The MX runs as the server's user when the tests run as root: it must reach the socket.
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "clamd.sock")
        self.port = harness.free_port()
        self.tcp = f"127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "clamd.log")
        self.proc = None
        db = os.path.join(self.dir, "db")
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(db)
        os.makedirs(tmp)
        # A body signature: name:target type (0, any file):offset (*, anywhere):hex.
        with open(os.path.join(db, "sealpost.ndb"), "w") as f:
            f.write(f"Sealpost.Test.Eicar:0:*:{EICAR.hex()}\n")
        # A hash signature: md5:size:name.
        with open(os.path.join(db, "sealpost.hdb"), "w") as f:
            f.write(f"{hashlib.md5(PAYLOAD).hexdigest()}:{len(PAYLOAD)}:Sealpost.Test.Payload\n")
        self.conf = os.path.join(self.dir, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "Foreground yes",
                f"LocalSocket {self.socket}",
                "LocalSocketMode 666",
                f"TCPSocket {self.port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {db}",
                f"TemporaryDirectory {tmp}",
                f"LogFile {self.log_path}",
                f"StreamMaxLength {stream_max_length}",
                # Mail is scanned as mail: MIME parts decoded, archives opened.
                "ScanMail yes",
                "ScanArchive yes",
                "MaxThreads 4",
                # No periodic reload of the database, no bytecode signatures to look for.
                "SelfCheck 0",
                "Bytecode no",
            ]) + "\n")

    def start(self, timeout=60.0):
        self._out = open(os.path.join(self.dir, "clamd.stderr"), "wb")
        self.proc = subprocess.Popen([CLAMD_BIN, "--foreground", f"--config-file={self.conf}"],
                                     stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (self.ping(self.socket) and self.ping(self.tcp)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self.log_text()
                self.stop()
                raise RuntimeError(f"clamd did not start:\n{text[-3000:]}")
            time.sleep(0.05)
        return self

    @staticmethod
    def ping(where):
        """True when clamd at `where` (a socket path or "127.0.0.1:PORT") answers PONG."""
        try:
            if where.startswith("/"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                host, port = where.rsplit(":", 1)
            with s:
                s.settimeout(5)
                s.connect(where if where.startswith("/") else (host, int(port)))
                s.sendall(b"zPING\0")
                answer = b""
                while not answer.endswith(b"\0") and len(answer) < 64:
                    data = s.recv(64)
                    if not data:
                        break
                    answer += data
                return answer == b"PONG\0"
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self._out.close()
            self.proc = None

