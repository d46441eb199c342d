"""IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) with their extensions over a sealed mailbox,
driven by Python's imaplib and, where the exact bytes matter (untagged responses, literals,
pipelining, continuation requests), by a connection spoken by hand. Each class runs one server:
logins and TLS on ports 143 and 993; the bounds (command length, literals, errors, sessions per
mailbox, failed-login throttling); and every command and extension on one mailbox, each test in
folders of its own. The server's log must name no address, subject or folder used."""

import base64
import imaplib
import os
import re
import select
import smtplib
import socket
import ssl
import time
import unittest

from harness import Sealpost

PASSWORD = "correct horse battery staple"
ADDRESS = "alice@example.com"
PERMANENT = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)"
SYSTEM_FLAGS = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
AFTER_LOGIN = ("IMAP4rev1 IMAP4rev2 IDLE UIDPLUS MOVE CONDSTORE QRESYNC ENABLE SPECIAL-USE "
               "CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS LITERAL+ NAMESPACE ID UNSELECT "
               "ESEARCH SEARCHRES SASL-IR STATUS=SIZE QUOTA SORT THREAD=REFERENCES UTF8=ACCEPT "
               "CHILDREN BINARY").split()


def client_tls():
    """A client TLS context for the test's self-signed certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(subject, body="A short body.", sender="Someone <someone@sender.test>", to=ADDRESS,
            date="Mon, 01 Jan 2024 10:00:00 +0000", headers=(), message_id=None):
    mid = message_id or subject.replace(" ", ".").replace(":", "") + "@sender.test"
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}",
             f"Message-ID: <{mid}>", *headers, "", body]
    return ("\r\n".join(lines) + "\r\n").encode()


MULTIPART = (
    b"From: Carol <carol@sender.test>\r\n"
    b"To: alice@example.com\r\n"
    b"Subject: Multipart sample\r\n"
    b"Date: Tue, 05 Mar 2024 10:00:00 +0000\r\n"
    b"Message-ID: <mp1@sender.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    b"\r\n"
    b"This is the preamble.\r\n"
    b"--XYZ\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n"
    b"Hello world\r\n"
    b"second line\r\n"
    b"--XYZ\r\n"
    b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQFBgcICQ==\r\n"
    b"--XYZ--\r\n")


# The search fixture: (raw, flags, INTERNALDATE) in sequence order.
SEARCH_MESSAGES = [
    (message("Budget report", "The quarterly numbers.", "Ann <ann@one.test>",
             date="Wed, 10 Jan 2024 09:00:00 +0000", message_id="budget@one.test"),
     "\\Seen", "10-Jan-2024 09:00:00 +0000"),
    (message("Lunch plans", "Pizza or sushi?", "Bob <bob@two.test>",
             date="Thu, 15 Feb 2024 12:00:00 +0000", message_id="lunch@two.test"),
     "\\Flagged", "15-Feb-2024 12:00:00 +0000"),
    (message("Re: Budget report", "The numbers look fine.", "Ann <ann@one.test>",
             date="Wed, 20 Mar 2024 08:00:00 +0000", message_id="re-budget@one.test",
             headers=("X-Project: apollo", "In-Reply-To: <budget@one.test>",
                      "References: <budget@one.test>")),
     "\\Seen \\Flagged", "20-Mar-2024 08:00:00 +0000"),
    (message("Holiday", "lorem ipsum " * 420, "Cy <cy@three.test>",
             date="Mon, 01 Apr 2024 10:00:00 +0000", message_id="holiday@three.test"),
     None, "01-Apr-2024 10:00:00 +0000"),
    (message("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Gr\u00fc\u00dfe aus K\u00f6ln",
             "Bob <bob@two.test>", date="Thu, 28 Dec 2023 10:00:00 +0000",
             message_id="gruss@two.test",
             headers=("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                      "Content-Transfer-Encoding: 8bit")),
     None, "05-May-2024 10:00:00 +0000"),
    (message("Re: Lunch plans", "Count me in.", "Dee <dee@four.test>",
             date="Fri, 16 Feb 2024 09:00:00 +0000", message_id="dee@four.test"),
     "\\Answered", "06-May-2024 10:00:00 +0000"),
]


def mutf7(name):
    """Modified UTF-7 (RFC 3501 section 5.1.3), written here independently of the server."""
    out, pending = [], []

    def flush():
        if pending:
            b64 = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            pending.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def codes(lines):
    """Untagged responses with the human-readable text after a response code dropped:
    "* OK [UIDNEXT 4] Predicted next UID" becomes "* OK [UIDNEXT 4]"."""
    out = []
    for line in lines:
        m = re.match(r"^(\* (?:OK|NO|BAD|BYE) \[[^\]]*\])", line)
        out.append(m.group(1) if m else line)
    return out


def tagged_code(tagged):
    """"t3 OK [APPENDUID 5 1] APPEND completed" -> "OK [APPENDUID 5 1]"; no code: the status."""
    m = re.match(r"^\S+ (OK|NO|BAD) (\[[^\]]*\])?", tagged)
    return m.group(1) + (" " + m.group(2) if m.group(2) else "")


def fetch_value(response, item):
    """The value of `item` in one FETCH response (the string form Wire returns): bytes for a
    literal or quoted string, None for NIL, else the atom or parenthesised text as str."""
    raw = response.encode("utf-8", "surrogateescape")
    key = item.encode() + b" "
    i = raw.index(key) + len(key)
    m = re.match(rb"~?\{(\d+)\}\r\n", raw[i:])
    if m:
        start = i + m.end()
        return raw[start:start + int(m.group(1))]
    if raw[i:i + 1] == b'"':
        end = raw.index(b'"', i + 1)
        return raw[i + 1:end]
    if raw[i:i + 3] == b"NIL":
        return None
    if raw[i:i + 1] == b"(":
        depth, j = 0, i
        while True:
            c = raw[j:j + 1]
            if c == b'"':
                j = raw.index(b'"', j + 1)
            elif c == b"(":
                depth += 1
            elif c == b")":
                depth -= 1
                if depth == 0:
                    return raw[i:j + 1].decode("utf-8", "surrogateescape")
            j += 1
    return re.match(rb"[^ )]+", raw[i:]).group(0).decode()


class Wire:
    """An IMAP connection spoken by hand. Responses come back as str (UTF-8, undecodable octets
    kept by surrogateescape) with literals inline in their wire form "{n}\\r\\n<octets>"."""

    def __init__(self, port, tls=False, timeout=20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = client_tls().wrap_socket(self.sock)
        self.buf = b""
        self.count = 0
        self.greeting = self.response()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed; got {self.buf!r}")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        """One response, its literals read whole."""
        out = self._line()
        while True:
            m = re.search(rb"~?\{(\d+)\}$", out)
            if not m:
                return out.decode("utf-8", "surrogateescape")
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            out += self._line()

    def pending(self, timeout):
        """True when the server has sent something within `timeout` seconds."""
        if self.buf or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return True
        return bool(select.select([self.sock], [], [], timeout)[0])

    def tag(self):
        self.count += 1
        return f"t{self.count}"

    def until(self, tag):
        """The responses up to the tagged one: (untagged list, tagged line)."""
        untagged = []
        while True:
            r = self.response()
            if r.startswith(tag + " "):
                return untagged, r
            untagged.append(r)

    def cmd(self, text):
        tag = self.tag()
        self.send(f"{tag} {text}\r\n")
        return self.until(tag)

    def ok(self, text):
        """Runs a command that must succeed; its untagged responses."""
        untagged, tagged = self.cmd(text)
        if tagged.split(" ", 2)[1] != "OK":
            raise AssertionError(f"{text!r} -> {tagged!r}")
        return untagged

    def login(self, user=ADDRESS, password=PASSWORD):
        return self.ok(f'LOGIN "{user}" "{password}"')

    def append(self, mailbox, raw, flags=None, date=None, sync=True):
        """APPEND with a synchronising literal (waiting for "+") or a LITERAL+ one: (untagged,
        tagged)."""
        tag = self.tag()
        head = f"{tag} APPEND {quote(mailbox)}"
        if flags is not None:
            head += f" ({flags})"
        if date:
            head += f' "{date}"'
        head += f" {{{len(raw)}{'' if sync else '+'}}}\r\n"
        self.send(head)
        if sync:
            cont = self.response()
            if not cont.startswith("+"):
                return [], cont
        self.send(raw + b"\r\n")
        return self.until(tag)

    def closed(self, timeout=10.0):
        """True when the server closes the connection within `timeout` (what it still sent is
        kept in buf)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def status_of(untagged):
    """{item: int} of the STATUS response among `untagged`."""
    for line in untagged:
        m = re.match(r'^\* STATUS (?:"[^"]*"|\S+) \((.*)\)$', line)
        if m:
            words = m.group(1).split()
            return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}
    raise AssertionError(f"no STATUS in {untagged!r}")


class ServerTest(unittest.TestCase):
    """One server for the class: setUpClass starts it with `access` under [access] and `extra`
    appended; tearDownClass stops it and checks the sanitizers said nothing."""

    access = ""
    extra = ""
    listen = ("imap",)
    quota = None

    @classmethod
    def setUpClass(cls):
        extra = ("[access]\n" + cls.access if cls.access else "") + cls.extra
        cls.mx = Sealpost(listen=cls.listen, extra=extra)
        try:
            cls.mx.cli("domain", "add", "example.com")
            pw = os.path.join(cls.mx.dir, "pw")
            with open(pw, "w") as f:
                f.write(PASSWORD + "\n")
            cls.mx.cli("mailbox", "add", ADDRESS, "--password-file", pw)
            if cls.quota:
                cls.mx.cli("mailbox", "quota", ADDRESS, cls.quota)
            cls.mx.start()
        except Exception:
            cls.mx.cleanup()
            raise
        cls.port = cls.mx.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.mx.stop()
        log = cls.mx.log_text()
        code = cls.mx.exit_code
        cls.mx.cleanup()
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if marker in log:
                raise AssertionError(f"sanitizer report in the server log:\n{log[-6000:]}")
        if code != 0:
            raise AssertionError(f"sealpost exited with {code}:\n{log[-3000:]}")

    def wire(self, tls=False, port=None):
        w = Wire(port or self.port, tls=tls)
        self.addCleanup(w.close)
        return w

    def session(self):
        """A hand-spoken connection, logged in (plaintext on loopback is allowed here)."""
        w = self.wire()
        w.login()
        return w

    def imap(self):
        """imaplib, logged in."""
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        self.addCleanup(self._shutdown, m)
        m.login(ADDRESS, PASSWORD)
        return m

    @staticmethod
    def _shutdown(m):
        try:
            m.shutdown()
        except OSError:
            pass

    def deliver(self, messages, to=ADDRESS):
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as s:
            for m in messages:
                s.sendmail("someone@sender.test", [to], m)


# ---------------------------------------------------------------------------------------------
class ImapLoginTest(ServerTest):
    """Port 143 (STARTTLS) and 993 (TLS): passwords only once TLS is up (RFC 9051 sections 6.2,
    11.1), login failures that do not tell accounts apart."""

    listen = ("imap", "imaps")

    def test_capabilities_and_logindisabled_before_starttls(self):
        w = self.wire()
        m = re.fullmatch(r"\* OK \[CAPABILITY ([^\]]*)\] .*", w.greeting)
        self.assertIsNotNone(m, w.greeting)
        caps = m.group(1).split()
        for c in ("IMAP4rev1", "IMAP4rev2", "STARTTLS", "LOGINDISABLED"):
            self.assertIn(c, caps)
        self.assertEqual([c for c in caps if c.startswith("AUTH=")], [],
                         "no mechanism is offered before TLS")
        self.assertEqual(w.cmd("CAPABILITY"),
                         (["* CAPABILITY " + m.group(1)], "t1 OK CAPABILITY completed"))
        _, t = w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"')
        self.assertTrue(t.startswith("t2 NO [PRIVACYREQUIRED] "), t)
        token = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        _, t = w.cmd(f"AUTHENTICATE PLAIN {token}")
        self.assertTrue(t.startswith("t3 NO [PRIVACYREQUIRED] "), t)
        self.assertEqual(w.cmd("SELECT INBOX"), ([], "t4 BAD Log in first"))
        self.assertEqual(w.cmd("NOOP"), ([], "t5 OK NOOP completed"))

        self.assertEqual(w.cmd("STARTTLS"), ([], "t6 OK Begin TLS negotiation now"))
        w.sock = client_tls().wrap_socket(w.sock)
        self.assertIn(w.sock.version(), ("TLSv1.2", "TLSv1.3"))
        u, t = w.cmd("CAPABILITY")
        caps = u[0].split()[2:]
        for c in ("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN", "AUTH=LOGIN", "SASL-IR"):
            self.assertIn(c, caps)
        self.assertNotIn("STARTTLS", caps)
        self.assertNotIn("LOGINDISABLED", caps)
        _, t = w.cmd("STARTTLS")
        self.assertTrue(t.startswith("t8 BAD "), t)

        u, t = w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"')
        self.assertEqual(u, [])
        m = re.fullmatch(r"t9 OK \[CAPABILITY ([^\]]*)\] .*", t)
        self.assertIsNotNone(m, t)
        after = m.group(1).split()
        for c in AFTER_LOGIN:
            self.assertIn(c, after)
        self.assertIn("APPENDLIMIT=26214400", after)
        for c in ("STARTTLS", "LOGINDISABLED", "AUTH=PLAIN"):
            self.assertNotIn(c, after)
        self.assertEqual(w.cmd("CAPABILITY"),
                         (["* CAPABILITY " + m.group(1)], "t10 OK CAPABILITY completed"))
        _, t = w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"')
        self.assertEqual(t, "t11 BAD Already logged in")

    def test_plaintext_pipelined_after_starttls_is_discarded(self):
        w = self.wire()
        # The STARTTLS command injection (CVE-2011-0411): what follows STARTTLS in the same
        # plaintext packet must not be run as if it had come over TLS.
        w.send(f't1 STARTTLS\r\nt2 LOGIN "{ADDRESS}" "{PASSWORD}"\r\nt3 NOOP\r\n')
        self.assertEqual(w.response(), "t1 OK Begin TLS negotiation now")
        self.assertEqual(w.buf, b"")
        w.sock = client_tls().wrap_socket(w.sock)
        self.assertEqual(w.cmd("NOOP"), ([], "t1 OK NOOP completed"),
                         "nothing answers t2 or t3")
        self.assertEqual(w.cmd("SELECT INBOX"), ([], "t2 BAD Log in first"),
                         "the injected LOGIN was not run")

    def test_imaplib_over_starttls_and_imaps_and_logout(self):
        m = imaplib.IMAP4("127.0.0.1", self.mx.ports["imap"], timeout=30)
        self.addCleanup(self._shutdown, m)
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertEqual(m.starttls(client_tls())[0], "OK")
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertEqual(m.login(ADDRESS, PASSWORD)[0], "OK")
        self.assertEqual(m.select("INBOX"), ("OK", [b"0"]))
        self.assertEqual(m.logout(), ("BYE", [b"Logging out"]))

        s = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls(),
                              timeout=30)
        self.addCleanup(self._shutdown, s)
        self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
        for c in ("IMAP4REV1", "IMAP4REV2", "AUTH=PLAIN", "AUTH=LOGIN", "SASL-IR"):
            self.assertIn(c, s.capabilities)
        self.assertNotIn("STARTTLS", s.capabilities, "TLS is up already")
        self.assertNotIn("LOGINDISABLED", s.capabilities)
        self.assertEqual(s.login(ADDRESS, PASSWORD)[0], "OK")
        self.assertEqual(s.list('""', "INBOX"), ("OK", [b'(\\HasNoChildren) "/" INBOX']))

        # LOGOUT: the untagged BYE, then the tagged OK, then the server closes.
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        w.login()
        self.assertEqual(codes(w.ok("NOOP")), [])
        self.assertEqual(w.cmd("LOGOUT"), (["* BYE Logging out"], "t3 OK LOGOUT completed"))
        self.assertTrue(w.closed())
        self.assertEqual(w.buf, b"")

    def test_authenticate_plain_with_and_without_initial_response_and_login(self):
        token = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        # SASL-IR (RFC 4959): the response on the command line.
        u, t = w.cmd(f"AUTHENTICATE PLAIN {token}")
        self.assertEqual(u, [])
        self.assertRegex(t, r"^t1 OK \[CAPABILITY IMAP4rev1 [^\]]*\] ")

        # The continuation: "+ " (an empty challenge), the response, the result.
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        w.send("a AUTHENTICATE PLAIN\r\n")
        self.assertEqual(w.response(), "+ ")
        w.send("*\r\n")
        self.assertEqual(w.response(), "a BAD Authentication cancelled", "RFC 9051 6.2.2")
        w.send("b AUTHENTICATE PLAIN\r\n")
        self.assertEqual(w.response(), "+ ")
        w.send("not base64!\r\n")
        self.assertEqual(w.response(), "b BAD Invalid base64")
        w.send("c AUTHENTICATE PLAIN\r\n")
        self.assertEqual(w.response(), "+ ")
        w.send(token + "\r\n")
        self.assertRegex(w.response(), r"^c OK \[CAPABILITY ")
        self.assertEqual(w.cmd("SELECT INBOX")[1], "t1 OK [READ-WRITE] SELECT completed")

        # The LOGIN mechanism: "Username:", "Password:" in base64.
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        w.send("a AUTHENTICATE LOGIN\r\n")
        self.assertEqual(w.response(), "+ VXNlcm5hbWU6")
        w.send(base64.b64encode(ADDRESS.encode()).decode() + "\r\n")
        self.assertEqual(w.response(), "+ UGFzc3dvcmQ6")
        w.send(base64.b64encode(PASSWORD.encode()).decode() + "\r\n")
        self.assertRegex(w.response(), r"^a OK \[CAPABILITY ")
        _, t = w.cmd("AUTHENTICATE CRAM-MD5")
        self.assertEqual(t, "t1 BAD Already logged in")

        # imaplib's authenticate() answers the continuation.
        m = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls(),
                              timeout=30)
        self.addCleanup(self._shutdown, m)
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{ADDRESS}\0{PASSWORD}".encode())
        self.assertEqual(typ, "OK")
        self.assertEqual(m.state, "AUTH")
        m.logout()

    def test_wrong_password_fails_exactly_like_an_unknown_account(self):
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        failed = "NO [AUTHENTICATIONFAILED] Authentication failed"
        self.assertEqual(w.cmd(f'LOGIN "{ADDRESS}" "wrong password"'), ([], "t1 " + failed))
        self.assertEqual(w.cmd('LOGIN "nobody@example.com" "wrong password"'),
                         ([], "t2 " + failed))
        self.assertEqual(w.cmd('LOGIN "nobody@elsewhere.test" "x"'), ([], "t3 " + failed))
        bad = base64.b64encode(f"\0{ADDRESS}\0wrong".encode()).decode()
        self.assertEqual(w.cmd(f"AUTHENTICATE PLAIN {bad}"), ([], "t4 " + failed))
        proxy = base64.b64encode(f"bob@example.com\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        self.assertEqual(w.cmd(f"AUTHENTICATE PLAIN {proxy}"), ([], "t5 " + failed),
                         "no logging in as someone else")
        self.assertEqual(w.cmd("AUTHENTICATE CRAM-MD5")[1],
                         "t6 NO Unsupported authentication mechanism")
        # imaplib sees the same failure; the right password still works (and forgets them).
        m = imaplib.IMAP4_SSL("127.0.0.1", self.mx.ports["imaps"], ssl_context=client_tls(),
                              timeout=30)
        self.addCleanup(self._shutdown, m)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(ADDRESS, "wrong again")
        self.assertEqual(str(e.exception), "b'[AUTHENTICATIONFAILED] Authentication failed'")
        self.assertEqual(w.cmd(f'LOGIN "{ADDRESS.upper()}" "{PASSWORD}"')[1][:6], "t7 OK ",
                         "the address is case-insensitive")

    def test_commands_outside_their_state(self):
        w = self.wire(tls=True, port=self.mx.ports["imaps"])
        self.assertEqual(w.cmd("ID NIL"),
                         (['* ID ("name" "Sealpost" "vendor" "Sealpost")'], "t1 OK ID completed"))
        self.assertEqual(w.cmd("LIST \"\" *"), ([], "t2 BAD Log in first"))
        self.assertEqual(w.cmd("FROB"), ([], "t3 BAD Unknown command"))
        w.login()
        self.assertEqual(w.cmd("FETCH 1 FLAGS"), ([], "t5 BAD No mailbox selected"))
        self.assertEqual(w.cmd("CLOSE"), ([], "t6 BAD No mailbox selected"))
        w.ok("SELECT INBOX")
        self.assertEqual(w.cmd("ENABLE CONDSTORE"),
                         ([], "t8 BAD ENABLE is valid only before SELECT"), "RFC 5161 3.1")
        _, t = w.cmd("FETCH 1:* (FLAGS")
        self.assertTrue(t.startswith("t9 BAD "), t)
        self.assertEqual(w.cmd("NOOP"), ([], "t10 OK NOOP completed"))


# ---------------------------------------------------------------------------------------------
class ImapLimitsTest(ServerTest):
    """Everything bounded: command lines, literals (APPENDLIMIT), errors per session, sessions
    per mailbox."""

    access = ("allow_plaintext_on_loopback = true\ncommand_line = 8192\nerrors_per_session = 6\n"
              "sessions_per_user = 2\n")
    extra = "[limits]\nmessage_size = 65536\n"

    def test_an_overlong_command_line_gets_bad_and_the_session_goes_on(self):
        w = self.wire()
        self.assertEqual(w.cmd("NOOP " + "x" * 9000), ([], "t1 BAD Command line too long"))
        self.assertEqual(w.cmd("NOOP"), ([], "t2 OK NOOP completed"))
        w.login()
        self.assertEqual(w.cmd("SEARCH " + "ALL " * 3000), ([], "t4 BAD Command line too long"))
        self.assertEqual(w.cmd("NOOP"), ([], "t5 OK NOOP completed"))

    def test_literals_past_the_limits_are_refused_without_being_read(self):
        w = self.wire()
        # Before login a literal carries a name or a password: 64 KiB at most.
        w.send("a LOGIN {100000}\r\n")
        t = w.response()
        self.assertTrue(t.startswith("a BAD "), t)
        # The next command's answer comes alone: no continuation request was sent before it.
        self.assertEqual(w.cmd("NOOP"), ([], "t1 OK NOOP completed"))
        w.login()
        u = w.ok("CAPABILITY")
        self.assertIn("APPENDLIMIT=65536", u[0].split())
        self.assertEqual(status_of(w.ok("STATUS INBOX (APPENDLIMIT)"))["APPENDLIMIT"], 65536)
        # A synchronising literal past APPENDLIMIT: NO [TOOBIG] at once, no "+".
        w.send("b APPEND INBOX {65537}\r\n")
        self.assertEqual(w.response(), "b NO [TOOBIG] The message is larger than APPENDLIMIT")
        self.assertEqual(w.cmd("NOOP"), ([], "t5 OK NOOP completed"))
        # At the limit it is taken.
        raw = message("at the limit", "x" * 100)
        raw += b"y" * (65536 - len(raw))
        u, t = w.append("INBOX", raw)
        self.assertRegex(t, r"^t6 OK \[APPENDUID [0-9]+ [0-9]+\] ")
        # LITERAL+ (RFC 7888): the octets come without waiting; too many are read and dropped,
        # and the session goes on.
        big = b"z" * 70000
        w.send(b"c APPEND INBOX {70000+}\r\n" + big + b"\r\n")
        self.assertEqual(w.response(), "c NO [TOOBIG] The message is larger than APPENDLIMIT")
        self.assertEqual(w.cmd("NOOP"), ([], "t7 OK NOOP completed"))
        # Literals in other commands are bounded too.
        w.send("d SELECT {70000}\r\n")
        t = w.response()
        self.assertTrue(t.startswith("d BAD "), t)
        self.assertEqual(w.cmd("NOOP"), ([], "t8 OK NOOP completed"))
        w.ok("LOGOUT")

    def test_too_many_errors_close_the_session(self):
        w = self.wire()
        for i in range(1, 6):
            self.assertEqual(w.cmd("FROB"), ([], f"t{i} BAD Unknown command"))
        # The sixth: the tagged BAD, then BYE, then the server closes.
        w.send("t6 FROB\r\n")
        self.assertEqual(w.response(), "t6 BAD Unknown command")
        self.assertEqual(w.response(), "* BYE Too many errors")
        self.assertTrue(w.closed())
        self.assertEqual(w.buf, b"")

    def test_sessions_per_mailbox_are_bounded(self):
        first, second = self.session(), self.session()
        w = self.wire()
        self.assertEqual(w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"'),
                         ([], "t1 NO [LIMIT] Too many sessions for this mailbox"))
        self.assertEqual(w.cmd("SELECT INBOX"), ([], "t2 BAD Log in first"))
        first.ok("LOGOUT")
        self.assertTrue(first.closed())
        w.login()
        self.assertEqual(w.cmd("SELECT INBOX")[1], "t4 OK [READ-WRITE] SELECT completed")
        second.ok("LOGOUT")
        w.ok("LOGOUT")

class ImapThrottleTest(ServerTest):
    """Failed logins from one client are throttled. A server of its own: while it is throttled,
    nobody logs in from 127.0.0.1, so no other test may share it."""

    access = "allow_plaintext_on_loopback = true\n"

    def test_failed_logins_are_throttled_then_the_wait_ends(self):
        answers = []
        for i in range(12):
            w = self.wire()
            _, t = w.cmd(f'LOGIN "{ADDRESS}" "wrong {i}"')
            answers.append(t)
            w.close()
            if "[UNAVAILABLE]" in t:
                break
        self.assertEqual(answers[0], "t1 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(answers[-1],
                         "t1 NO [UNAVAILABLE] Too many failed logins, try again later")
        self.assertGreaterEqual(len(answers), 6, "five failures are free")
        self.assertLessEqual(len(answers), 8, "then it is throttled")
        w = self.wire()
        _, t = w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"')
        self.assertEqual(t, "t1 NO [UNAVAILABLE] Too many failed logins, try again later",
                         "even the right password waits")
        deadline = time.monotonic() + 30
        while True:
            _, t = w.cmd(f'LOGIN "{ADDRESS}" "{PASSWORD}"')
            if " OK " in t:
                break
            self.assertIn("[UNAVAILABLE]", t)
            self.assertLess(time.monotonic(), deadline, "the wait ends")
            time.sleep(0.5)


# ---------------------------------------------------------------------------------------------
class ImapMailboxTest(ServerTest):
    """Every command and extension on one mailbox (quota 1 MiB). Each test works in folders of
    its own; INBOX tests do not assume what it holds."""

    access = "allow_plaintext_on_loopback = true\n"
    quota = "1M"
    secrets = {ADDRESS, "alice", "sender.test", "Quarterly"}
    _search_uids = None

    @classmethod
    def tearDownClass(cls):
        # Once every test has run, whatever its order: the folders and subjects they all noted
        # are nowhere in the log.
        log = cls.mx.log_text().lower()
        leaked = sorted(s for s in cls.secrets if s.lower() in log)
        super().tearDownClass()
        if leaked:
            raise AssertionError(f"the log names {leaked}")

    @classmethod
    def note(cls, *words):
        cls.secrets.update(words)

    def fill(self, w, folder, messages, create=True):
        """Creates `folder` and APPENDs `messages` (raw, or (raw, flags, date)); the
        UIDVALIDITY and the UIDs from APPENDUID."""
        self.note(folder)
        if create:
            w.ok(f"CREATE {quote(folder)}")
        uids, validity = [], None
        for m in messages:
            raw, flags, date = (m, None, None) if isinstance(m, bytes) else m
            _, t = w.append(folder, raw, flags, date)
            got = re.match(r"^\S+ OK \[APPENDUID ([0-9]+) ([0-9]+)\]", t)
            self.assertIsNotNone(got, t)
            validity = int(got.group(1))
            uids.append(int(got.group(2)))
        return validity, uids

    def test_plaintext_login_on_loopback_when_the_operator_allows_it(self):
        w = self.wire()
        caps = re.match(r"\* OK \[CAPABILITY ([^\]]*)\]", w.greeting).group(1).split()
        for c in ("AUTH=PLAIN", "AUTH=LOGIN", "STARTTLS"):
            self.assertIn(c, caps)
        self.assertNotIn("LOGINDISABLED", caps)
        token = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode()).decode()
        _, t = w.cmd(f"AUTHENTICATE PLAIN {token}")
        self.assertRegex(t, r"^t1 OK \[CAPABILITY IMAP4rev1 ", "no TLS needed on loopback here")
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        self.addCleanup(self._shutdown, m)
        self.assertEqual(m.login(ADDRESS, PASSWORD)[0], "OK")
        self.assertEqual(m.logout()[0], "BYE")

    # ---- SELECT / EXAMINE
    def test_select_and_examine(self):
        w = self.session()
        v, uids = self.fill(w, "Sel-Box", [(message("sel one"), "\\Seen", None),
                                           message("sel two"),
                                           (message("sel three"), "\\Deleted", None)])
        self.assertEqual(uids, [1, 2, 3])
        st = status_of(w.ok('STATUS "Sel-Box" (UIDVALIDITY HIGHESTMODSEQ)'))
        self.assertEqual(st["UIDVALIDITY"], v)
        u, t = w.cmd('SELECT "Sel-Box"')
        self.assertCountEqual(codes(u), [
            f"* FLAGS {SYSTEM_FLAGS}", "* 3 EXISTS", "* 3 RECENT", "* OK [UNSEEN 2]",
            f"* OK [UIDVALIDITY {v}]", "* OK [UIDNEXT 4]", f"* OK [PERMANENTFLAGS {PERMANENT}]",
            f"* OK [HIGHESTMODSEQ {st['HIGHESTMODSEQ']}]"])
        self.assertEqual(t, f"t{w.count} OK [READ-WRITE] SELECT completed")
        # RFC 3501 2.3.2: the first session to select new mail sees it \Recent, and only that
        # one session.
        self.assertEqual(w.ok("SEARCH RECENT"), ["* SEARCH 1 2 3"])
        self.assertEqual(w.ok("SEARCH NEW"), ["* SEARCH 2 3"], "recent and not \\Seen")
        self.assertEqual(w.ok("SEARCH OLD"), ["* SEARCH"])
        self.assertEqual(w.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS (\\Seen \\Recent))"])
        # SELECT while selected closes the first (RFC 9051 7.1 CLOSED, as Dovecot sends it).
        u, t = w.cmd('EXAMINE "Sel-Box"')
        self.assertEqual(codes(u)[0], "* OK [CLOSED]")
        self.assertIn("* OK [PERMANENTFLAGS ()]", codes(u))
        self.assertIn("* 0 RECENT", codes(u), "the first SELECT took them")
        self.assertEqual(tagged_code(t), "OK [READ-ONLY]")
        # Read-only: no flag changes, BODY[] does not set \Seen, EXPUNGE refused.
        self.assertEqual(tagged_code(w.cmd("STORE 2 +FLAGS (\\Flagged)")[1]), "NO [READ-ONLY]")
        u = w.ok("FETCH 2 (BODY[TEXT])")
        self.assertEqual(fetch_value(u[0], "BODY[TEXT]"), b"A short body.\r\n")
        self.assertNotIn("FLAGS", u[0])
        self.assertEqual(w.ok("FETCH 2 FLAGS"), ["* 2 FETCH (FLAGS ())"])
        self.assertEqual(tagged_code(w.cmd("EXPUNGE")[1]), "NO [READ-ONLY]")
        self.assertEqual(w.ok("CLOSE"), [], "CLOSE after EXAMINE")
        self.assertEqual(status_of(w.ok('STATUS "Sel-Box" (MESSAGES)'))["MESSAGES"], 3,
                         "CLOSE of a read-only mailbox expunges nothing")
        # A failed SELECT leaves no mailbox selected.
        w.ok('SELECT "Sel-Box"')
        u, t = w.cmd('SELECT "No-Such-Box"')
        self.assertEqual(codes(u), ["* OK [CLOSED]"])
        self.assertEqual(tagged_code(t), "NO [NONEXISTENT]")
        self.assertEqual(w.cmd("FETCH 1 FLAGS")[1], f"t{w.count} BAD No mailbox selected")
        # imaplib: select returns EXISTS; readonly EXAMINE.
        m = self.imap()
        self.assertEqual(m.select("Sel-Box"), ("OK", [b"3"]))
        self.assertEqual(m.response("UIDVALIDITY"), ("UIDVALIDITY", [str(v).encode()]))
        self.assertEqual(m.select("Sel-Box", readonly=True), ("OK", [b"3"]))
        self.assertEqual(m.response("READ-ONLY")[1], [b""])

    # ---- LIST, LSUB and their extensions
    def test_list_wildcards_children_and_special_use(self):
        w = self.session()
        self.note("Tree")
        for name in ("Tree/A", "Tree/B/C", "Tree/D"):
            w.ok(f"CREATE {name}")
        self.assertEqual(w.ok('LIST "" ""'), ['* LIST (\\Noselect) "/" ""'])
        self.assertEqual(w.ok('LIST "" "Tree/%"'), [
            '* LIST (\\HasNoChildren) "/" Tree/A', '* LIST (\\Noselect \\HasChildren) "/" Tree/B',
            '* LIST (\\HasNoChildren) "/" Tree/D'])
        self.assertEqual(w.ok('LIST "" "Tree/*"'), [
            '* LIST (\\HasNoChildren) "/" Tree/A', '* LIST (\\Noselect \\HasChildren) "/" Tree/B',
            '* LIST (\\HasNoChildren) "/" Tree/B/C', '* LIST (\\HasNoChildren) "/" Tree/D'])
        self.assertEqual(w.ok('LIST "" "%"').count('* LIST (\\HasChildren) "/" Tree'), 0)
        self.assertIn('* LIST (\\Noselect \\HasChildren) "/" Tree', w.ok('LIST "" "%"'))
        self.assertEqual(w.ok('LIST "Tree/" "%"'), [
            '* LIST (\\HasNoChildren) "/" Tree/A', '* LIST (\\Noselect \\HasChildren) "/" Tree/B',
            '* LIST (\\HasNoChildren) "/" Tree/D'], "reference + pattern")
        self.assertEqual(w.ok('LIST "" "Tree/?"'), [])
        self.assertEqual(w.ok('LIST "" "inbox"'), ['* LIST (\\HasNoChildren) "/" INBOX'],
                         "INBOX is case-insensitive")
        top = w.ok('LIST "" "%"')
        for name, use in (("Archive", "\\Archive"), ("Drafts", "\\Drafts"), ("Junk", "\\Junk"),
                          ("Sent", "\\Sent"), ("Trash", "\\Trash")):
            self.assertIn(f'* LIST (\\HasNoChildren {use}) "/" {name}', top)
        # LIST-EXTENDED (RFC 5258) with SPECIAL-USE (RFC 6154): selection and return options.
        special = w.ok('LIST (SPECIAL-USE) "" "*"')
        self.assertEqual(len(special), 5, special)
        self.assertTrue(all(re.search(r"\\(Archive|Drafts|Junk|Sent|Trash)\)", s)
                            for s in special), special)
        self.assertIn('* LIST (\\HasNoChildren \\Sent) "/" Sent',
                      w.ok('LIST "" "Sent" RETURN (SPECIAL-USE)'))
        self.assertEqual(w.ok('LIST "" ("Tree/A" "Tree/D") RETURN (CHILDREN)'), [
            '* LIST (\\HasNoChildren) "/" Tree/A', '* LIST (\\HasNoChildren) "/" Tree/D'])
        # LIST-STATUS (RFC 5819): a STATUS after each LIST.
        self.fill(w, "Tree/A", [message("in tree a")], create=False)
        self.assertEqual(w.ok('LIST "" "Tree/A" RETURN (STATUS (MESSAGES UNSEEN))'), [
            '* LIST (\\HasNoChildren) "/" Tree/A', "* STATUS Tree/A (MESSAGES 1 UNSEEN 1)"])
        # Subscriptions: LSUB, LIST (SUBSCRIBED), RETURN (SUBSCRIBED). CREATE subscribes.
        self.assertEqual(w.ok('LSUB "" "Tree/*"'), [
            '* LSUB () "/" Tree/A', '* LSUB () "/" Tree/B/C', '* LSUB () "/" Tree/D'])
        self.assertEqual(w.ok("UNSUBSCRIBE Tree/A"), [])
        self.assertEqual(w.ok("UNSUBSCRIBE Tree/B/C"), [])
        self.assertEqual(w.ok('LSUB "" "Tree/*"'), ['* LSUB () "/" Tree/D'])
        self.assertEqual(w.ok("SUBSCRIBE Tree/D"), [], "again: no change")
        self.assertEqual(w.ok('LIST (SUBSCRIBED) "" "Tree/*"'),
                         ['* LIST (\\HasNoChildren \\Subscribed) "/" Tree/D'])
        self.assertEqual(w.ok('LIST "" "Tree/%" RETURN (SUBSCRIBED)'), [
            '* LIST (\\HasNoChildren) "/" Tree/A',
            '* LIST (\\NonExistent \\HasChildren) "/" Tree/B',
            '* LIST (\\HasNoChildren \\Subscribed) "/" Tree/D'], "LIST-EXTENDED: \\NonExistent")
        # A subscribed child under an unsubscribed parent: "%" matches only the parent. LSUB
        # gives it as \Noselect (RFC 3501 6.3.9), RECURSIVEMATCH with CHILDINFO (RFC 5258 3.5).
        w.ok("SUBSCRIBE Tree/B/C")
        self.assertEqual(w.ok('LSUB "" "Tree/%"'),
                         ['* LSUB (\\Noselect) "/" Tree/B', '* LSUB () "/" Tree/D'])
        self.assertEqual(w.ok('LSUB "" "Tree/*"'),
                         ['* LSUB () "/" Tree/B/C', '* LSUB () "/" Tree/D'])
        self.assertEqual(w.ok('LIST (SUBSCRIBED) "" "Tree/%"'),
                         ['* LIST (\\HasNoChildren \\Subscribed) "/" Tree/D'])
        self.assertEqual(w.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Tree/%"'), [
            '* LIST (\\NonExistent \\HasChildren) "/" Tree/B ("CHILDINFO" ("SUBSCRIBED"))',
            '* LIST (\\HasNoChildren \\Subscribed) "/" Tree/D'])
        self.assertEqual(w.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"').count(
            '* LIST (\\NonExistent \\HasChildren) "/" Tree ("CHILDINFO" ("SUBSCRIBED"))'), 1)
        self.assertEqual(w.cmd('LIST (RECURSIVEMATCH) "" "%"')[1].split()[1], "BAD",
                         "RECURSIVEMATCH alone is an error (RFC 5258 3)")
        w.ok("UNSUBSCRIBE Tree/B/C")
        self.assertEqual(w.ok("UNSUBSCRIBE Tree/D"), [])
        self.assertEqual(w.ok('LSUB "" "Tree/*"'), [])
        self.assertEqual(tagged_code(w.cmd("SUBSCRIBE Tree/Nope")[1]), "NO [NONEXISTENT]")
        # imaplib's list() and lsub().
        m = self.imap()
        self.assertEqual(m.list('""', "Tree/%")[1], [
            b'(\\HasNoChildren) "/" Tree/A', b'(\\Noselect \\HasChildren) "/" Tree/B',
            b'(\\HasNoChildren) "/" Tree/D'])
        m.subscribe("Tree/A")
        self.assertEqual(m.lsub('""', "Tree/*"), ("OK", [b'() "/" Tree/A']))

    def test_create_delete_rename(self):
        w = self.session()
        self.note("Projects", "Keepsakes", "Renamed", "Inbox-Old")
        w.ok("CREATE Projects")
        self.assertEqual(tagged_code(w.cmd("CREATE Projects")[1]), "NO [ALREADYEXISTS]")
        self.assertEqual(tagged_code(w.cmd("CREATE inbox")[1]), "NO [ALREADYEXISTS]")
        self.assertEqual(w.ok("CREATE Projects/2024/"), [], "a trailing delimiter is dropped")
        self.assertEqual(w.ok('LIST "" "Projects*"'), [
            '* LIST (\\HasChildren) "/" Projects', '* LIST (\\HasNoChildren) "/" Projects/2024'])
        # CREATE-SPECIAL-USE (RFC 6154 section 3).
        w.ok("CREATE Keepsakes (USE (\\Archive))")
        self.assertEqual(w.ok('LIST "" Keepsakes'),
                         ['* LIST (\\HasNoChildren \\Archive) "/" Keepsakes'])
        self.assertEqual(tagged_code(w.cmd("CREATE Odd (USE (\\Important))")[1]), "NO [USEATTR]")
        self.assertEqual(w.ok('LIST "" Odd'), [])
        # DELETE.
        w.ok("DELETE Keepsakes")
        self.assertEqual(w.ok('LIST "" Keepsakes'), [])
        self.assertEqual(tagged_code(w.cmd("DELETE Keepsakes")[1]), "NO [NONEXISTENT]")
        self.assertEqual(w.cmd("DELETE INBOX")[1].split()[1], "NO")
        # Deleting the selected mailbox is allowed; that session's view ends with BYE.
        self.note("Doomed")
        d = self.session()
        self.fill(d, "Doomed", [message("doomed")])
        d.ok("SELECT Doomed")
        u, t = d.cmd("DELETE Doomed")
        self.assertEqual((u, t), (["* BYE The selected mailbox was deleted"],
                                  f"t{d.count} OK DELETE completed"))
        self.assertTrue(d.closed())
        self.assertEqual(w.ok('LIST "" Doomed'), [])
        # RENAME keeps the messages and moves the children along.
        v, uids = self.fill(w, "Projects", [message("project one"), message("project two")],
                            create=False)
        w.ok("RENAME Projects Renamed")
        self.assertEqual(w.ok('LIST "" "Renamed*"'), [
            '* LIST (\\HasChildren) "/" Renamed', '* LIST (\\HasNoChildren) "/" Renamed/2024'])
        self.assertEqual(w.ok('LIST "" "Projects*"'), [])
        self.assertEqual(status_of(w.ok("STATUS Renamed (MESSAGES)"))["MESSAGES"], 2)
        self.assertEqual(tagged_code(w.cmd("RENAME Nope Other")[1]), "NO [NONEXISTENT]")
        w.ok("CREATE Other")
        self.note("Other")
        self.assertEqual(tagged_code(w.cmd("RENAME Renamed Other")[1]), "NO [ALREADYEXISTS]")
        # RENAME INBOX (RFC 9051 6.3.6): its messages move to the new name; INBOX stays, empty.
        self.deliver([message("inbox rename one"), message("inbox rename two")])
        before = status_of(w.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)"))
        self.assertGreaterEqual(before["MESSAGES"], 2)
        w.ok("RENAME INBOX Inbox-Old")
        after = status_of(w.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)"))
        self.assertEqual(after["MESSAGES"], 0)
        self.assertEqual(after["UIDVALIDITY"], before["UIDVALIDITY"])
        self.assertGreaterEqual(after["UIDNEXT"], before["UIDNEXT"], "UIDs are not reused")
        self.assertEqual(status_of(w.ok("STATUS Inbox-Old (MESSAGES)"))["MESSAGES"],
                         before["MESSAGES"])
        self.assertIn('* LIST (\\HasNoChildren) "/" INBOX', w.ok('LIST "" "*"'))
        # Delivery still lands in INBOX.
        self.deliver([message("inbox after rename")])
        self.assertEqual(status_of(w.ok("STATUS INBOX (MESSAGES)"))["MESSAGES"], 1)
        # imaplib's create/rename/delete.
        m = self.imap()
        self.assertEqual(m.create("Renamed/Sub")[0], "OK")
        self.assertEqual(m.rename("Renamed/Sub", "Renamed/Sub2")[0], "OK")
        self.assertEqual(m.delete("Renamed/Sub2")[0], "OK")
        self.assertEqual(m.delete("Renamed/Sub2")[0], "NO")

    def test_status_items(self):
        w = self.session()
        msgs = [(message("status one", "1" * 10), "\\Seen", None),
                (message("status two", "2" * 20), None, None),
                (message("status three", "3" * 30), "\\Deleted", None)]
        v, uids = self.fill(w, "Stat-Box", msgs)
        size = sum(len(m[0]) for m in msgs)
        u = w.ok('STATUS "Stat-Box" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE '
                 'HIGHESTMODSEQ APPENDLIMIT)')
        self.assertEqual(len(u), 1)
        highest = status_of(u)["HIGHESTMODSEQ"]
        self.assertEqual(u[0], f'* STATUS Stat-Box (MESSAGES 3 UIDNEXT {uids[-1] + 1} '
                               f'UIDVALIDITY {v} UNSEEN 2 DELETED 1 SIZE {size} '
                               f'HIGHESTMODSEQ {highest} APPENDLIMIT 26214400)')
        sel = codes(w.ok('SELECT "Stat-Box"'))
        self.assertIn(f"* OK [HIGHESTMODSEQ {highest}]", sel)
        self.assertEqual(w.ok('STATUS "Stat-Box" (RECENT MESSAGES)'),
                         ["* STATUS Stat-Box (RECENT 0 MESSAGES 3)"])
        self.assertEqual(tagged_code(w.cmd("STATUS No-Such (MESSAGES)")[1]), "NO [NONEXISTENT]")
        m = self.imap()
        self.assertEqual(m.status("Stat-Box", "(MESSAGES UNSEEN)"),
                         ("OK", [b"Stat-Box (MESSAGES 3 UNSEEN 2)"]))

    def test_append(self):
        w = self.session()
        self.note("App-Box", "No-Such-Box")
        w.ok("CREATE App-Box")
        v = status_of(w.ok("STATUS App-Box (UIDVALIDITY)"))["UIDVALIDITY"]
        raw = message("append one", "first line\r\nsecond line")
        # A synchronising literal with flags and a date (with a zone).
        u, t = w.append("App-Box", raw, "\\Seen \\Flagged $Label", "05-Mar-2024 10:11:12 +0100")
        self.assertEqual(t, f"t{w.count} OK [APPENDUID {v} 1] APPEND completed")
        # LITERAL+: no continuation; bare LF lines are stored as CRLF.
        lf = message("append two").replace(b"\r\n", b"\n")
        u, t = w.append("App-Box", lf, sync=False)
        self.assertEqual(tagged_code(t), f"OK [APPENDUID {v} 2]")
        # imaplib.
        m = self.imap()
        date = imaplib.Time2Internaldate(time.mktime((2023, 7, 1, 8, 0, 0, 0, 0, -1)))
        typ, data = m.append("App-Box", "(\\Draft)", date, message("append three"))
        self.assertEqual((typ, data), ("OK", [f"[APPENDUID {v} 3] APPEND completed".encode()]))
        # What was appended is what FETCH gives back.
        w.ok("SELECT App-Box")
        u = w.ok("FETCH 1:3 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(len(u), 3)
        self.assertEqual(fetch_value(u[0], "BODY[]"), raw)
        self.assertEqual(fetch_value(u[0], "FLAGS"), "(\\Seen \\Flagged \\Recent $Label)")
        self.assertEqual(fetch_value(u[0], "RFC822.SIZE"), str(len(raw)))
        got = fetch_value(u[0], "INTERNALDATE").decode()
        when = imaplib.Internaldate2tuple(f'INTERNALDATE "{got}"'.encode())
        self.assertEqual(time.mktime(when), time.mktime(imaplib.Internaldate2tuple(
            b'INTERNALDATE "05-Mar-2024 10:11:12 +0100"')), "the same instant")
        self.assertEqual(fetch_value(u[1], "BODY[]"), lf.replace(b"\n", b"\r\n"))
        self.assertEqual(fetch_value(u[1], "RFC822.SIZE"), str(len(lf) + lf.count(b"\n")))
        self.assertEqual(fetch_value(u[2], "FLAGS"), "(\\Draft \\Recent)")
        # APPEND to the selected mailbox: EXISTS at once (RFC 9051 6.3.12), and the new
        # message is this session's \Recent (RFC 3501 6.3.11).
        u, t = w.append("App-Box", message("append four"))
        self.assertEqual(u, ["* 4 EXISTS", "* 4 RECENT"])
        self.assertEqual(tagged_code(t), f"OK [APPENDUID {v} 4]")
        # A message that is only a header (RFC 5322 3.5: the body is optional).
        bare = b"Subject: header only\r\nFrom: someone@sender.test\r\n\r\n"
        u, t = w.append("App-Box", bare)
        self.assertEqual((u, tagged_code(t)), (["* 5 EXISTS", "* 5 RECENT"],
                                               f"OK [APPENDUID {v} 5]"))
        u = w.ok("FETCH 5 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT] BINARY.SIZE[1])")
        self.assertEqual(fetch_value(u[0], "BODY[]"), bare)
        self.assertEqual(fetch_value(u[0], "BODY[TEXT]"), b"")
        self.assertEqual(fetch_value(u[0], "RFC822.SIZE"), str(len(bare)))
        self.assertEqual(fetch_value(u[0], "BINARY.SIZE[1]"), "0")
        # Refusals.
        self.assertEqual(tagged_code(w.append("No-Such-Box", message("lost"))[1]),
                         "NO [TRYCREATE]")
        w.send("x APPEND App-Box {0}\r\n")
        self.assertEqual(w.response()[:1], "+")
        w.send("\r\n")
        self.assertEqual(w.response()[:5], "x NO ")
        for flag in ("\\Bogus", "\\Recent"):
            _, t = w.append("App-Box", message("bad flag"), flag)
            self.assertEqual(t, f"t{w.count} BAD Invalid system flag {flag}")
        self.assertEqual(w.ok("NOOP"), [])

    def test_namespace_id_and_enable(self):
        w = self.session()
        self.assertEqual(w.ok("NAMESPACE"), ['* NAMESPACE (("" "/")) NIL NIL'])
        self.assertEqual(w.ok('ID ("name" "test-client" "version" "1")'),
                         ['* ID ("name" "Sealpost" "vendor" "Sealpost")'])
        self.assertEqual(w.ok("ENABLE X-UNKNOWN CONDSTORE"), ["* ENABLED CONDSTORE"])
        self.assertEqual(w.ok("ENABLE QRESYNC UTF8=ACCEPT"), ["* ENABLED QRESYNC UTF8=ACCEPT"])
        self.assertEqual(w.ok("ENABLE X-NOTHING"), ["* ENABLED"])
        # IMAP4rev2 (RFC 9051 3): no RECENT, SEARCH answers with ESEARCH, SELECT sends LIST.
        w2 = self.session()
        self.assertEqual(w2.ok("ENABLE IMAP4rev2"), ["* ENABLED IMAP4rev2"])
        v, uids = self.fill(w2, "Rev2-Box", [message("rev2 one"), message("rev2 two")])
        u = codes(w2.ok("SELECT Rev2-Box"))
        self.assertNotIn("* 0 RECENT", u)
        self.assertIn('* LIST () "/" Rev2-Box', u)
        self.assertEqual(w2.ok("SEARCH ALL"), [f'* ESEARCH (TAG "t{w2.count}") ALL 1:2'])
        self.assertEqual(w2.ok("STATUS Rev2-Box (MESSAGES RECENT)"),
                         ["* STATUS Rev2-Box (MESSAGES 2)"])

    # ---- FETCH
    def test_fetch_items_and_bodystructure(self):
        w = self.session()
        single = message("single base64", base64.b64encode(b"caf\xc3\xa9\r\nline two\r\n").decode(),
                         headers=("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                  "Content-Transfer-Encoding: base64"))
        v, uids = self.fill(w, "Fetch-Box", [(MULTIPART, None, "05-Mar-2024 10:00:00 +0000"),
                                             message("plain one", "just text"), single])
        self.note("Multipart sample", "data.bin", "carol")
        w.ok("SELECT Fetch-Box")  # the first SELECT: the messages are its \Recent
        envelope = ('("Tue, 05 Mar 2024 10:00:00 +0000" "Multipart sample" '
                    '(("Carol" NIL "carol" "sender.test")) (("Carol" NIL "carol" "sender.test")) '
                    '(("Carol" NIL "carol" "sender.test")) ((NIL NIL "alice" "example.com")) '
                    'NIL NIL NIL "<mp1@sender.test>")')
        bodystructure = ('(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 24 1 NIL NIL NIL NIL)'
                         '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 16 '
                         'NIL ("attachment" ("filename" "data.bin")) NIL NIL) '
                         '"mixed" ("boundary" "XYZ") NIL NIL NIL)')
        body = ('(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 24 1)'
                '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 16) "mixed")')
        u = w.ok("FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
        self.assertEqual(u, [f'* 1 FETCH (UID {uids[0]} FLAGS (\\Recent) INTERNALDATE '
                             f'"05-Mar-2024 10:00:00 +0000" RFC822.SIZE {len(MULTIPART)} '
                             f'ENVELOPE {envelope} BODYSTRUCTURE {bodystructure})'])
        self.assertEqual(w.ok("FETCH 1 BODY"), [f"* 1 FETCH (BODY {body})"])
        self.assertEqual(w.ok("FETCH 1 FAST"), [
            f'* 1 FETCH (FLAGS (\\Recent) INTERNALDATE "05-Mar-2024 10:00:00 +0000" '
            f'RFC822.SIZE {len(MULTIPART)})'])
        # Sections, all with PEEK: \Seen stays unset.
        u = w.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1.MIME] BODY.PEEK[1] "
                 "BODY.PEEK[2] BODY.PEEK[TEXT] BODY.PEEK[]<0.10> BODY.PEEK[HEADER])")
        self.assertEqual(len(u), 1)
        r = u[0]
        self.assertIn("BODY[HEADER.FIELDS (SUBJECT)] {29}\r\n", r)
        self.assertEqual(fetch_value(r, "BODY[HEADER.FIELDS (SUBJECT)]"),
                         b"Subject: Multipart sample\r\n\r\n")
        self.assertEqual(fetch_value(r, "BODY[1.MIME]"),
                         b"Content-Type: text/plain; charset=utf-8\r\n"
                         b"Content-Transfer-Encoding: 7bit\r\n\r\n")
        self.assertEqual(fetch_value(r, "BODY[1]"), b"Hello world\r\nsecond line")
        self.assertEqual(fetch_value(r, "BODY[2]"), b"AAECAwQFBgcICQ==")
        header, text = MULTIPART.split(b"\r\n\r\n", 1)
        self.assertEqual(fetch_value(r, "BODY[TEXT]"), text)
        self.assertEqual(fetch_value(r, "BODY[HEADER]"), header + b"\r\n\r\n")
        self.assertIn("BODY[]<0> {10}\r\nFrom: Caro", r)
        self.assertEqual(w.ok("FETCH 1 (BODY.PEEK[]<20.5>)"),
                         ['* 1 FETCH (BODY[]<20> {5}\r\n' + MULTIPART[20:25].decode() + ")"])
        # BINARY (RFC 3516): decoded octets, as literal8 when they hold NUL; BINARY.SIZE.
        u = w.ok("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1] BINARY.SIZE[1])")
        self.assertIn("BINARY[2] ~{10}\r\n", u[0])
        self.assertEqual(fetch_value(u[0], "BINARY[2]"), bytes(range(10)))
        self.assertEqual(fetch_value(u[0], "BINARY.SIZE[2]"), "10")
        self.assertEqual(fetch_value(u[0], "BINARY[1]"), b"Hello world\r\nsecond line")
        self.assertEqual(fetch_value(u[0], "BINARY.SIZE[1]"), "24")
        # A part that is not there: an empty string, as Dovecot answers.
        self.assertEqual(w.ok("FETCH 1 (BODY.PEEK[3] BODY.PEEK[1.2] BINARY.PEEK[3])"),
                         ["* 1 FETCH (BODY[3] {0}\r\n BODY[1.2] {0}\r\n BINARY[3] {0}\r\n)"])
        self.assertEqual(w.ok("FETCH 1 (BODY.PEEK[]<100000.10>)"),
                         ["* 1 FETCH (BODY[]<100000> {0}\r\n)"], "a partial past the end is empty")
        self.assertEqual(w.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS (\\Recent))"],
                         "PEEK kept \\Seen off")
        # BODY[] without PEEK sets \Seen and says so (RFC 9051 6.4.5).
        u = w.ok("FETCH 1 BODY[]")
        self.assertEqual(fetch_value(u[0], "BODY[]"), MULTIPART)
        self.assertEqual(fetch_value(u[0], "FLAGS"), "(\\Seen \\Recent)")
        self.assertEqual(w.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS (\\Seen \\Recent))"])
        u = w.ok("FETCH 2 (BINARY[1])")
        self.assertEqual(fetch_value(u[0], "BINARY[1]"), b"just text\r\n")
        self.assertIn("FLAGS (\\Seen \\Recent)", u[0], "BINARY without PEEK sets \\Seen too")
        u = w.ok("FETCH 3 (BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[1])")
        self.assertEqual(fetch_value(u[0], "BINARY[1]"), b"caf\xc3\xa9\r\nline two\r\n",
                         "BINARY[1] of a single part undoes its base64")
        self.assertEqual(fetch_value(u[0], "BINARY.SIZE[1]"), "17")
        self.assertEqual(fetch_value(u[0], "BODY[1]"),
                         base64.b64encode(b"caf\xc3\xa9\r\nline two\r\n") + b"\r\n")
        # RFC 3501 items.
        u = w.ok("FETCH 2 (RFC822.HEADER RFC822.TEXT)")
        plain = message("plain one", "just text")
        self.assertEqual(fetch_value(u[0], "RFC822.HEADER"),
                         plain.split(b"\r\n\r\n")[0] + b"\r\n\r\n")
        self.assertEqual(fetch_value(u[0], "RFC822.TEXT"), b"just text\r\n")
        # MODSEQ (CONDSTORE): fetching it enables CONDSTORE; \Seen changes raised it.
        u = w.ok("FETCH 1:2 (MODSEQ)")
        seqs = [int(re.search(r"MODSEQ \((\d+)\)", x).group(1)) for x in u]
        st = status_of(w.ok("STATUS Fetch-Box (HIGHESTMODSEQ)"))
        self.assertEqual(max(seqs), st["HIGHESTMODSEQ"])
        # UID FETCH names the UID; sequence numbers past the end are an error.
        self.assertEqual(w.ok(f"UID FETCH {uids[1]} (UID FLAGS)"),
                         [f"* 2 FETCH (UID {uids[1]} FLAGS (\\Seen \\Recent) "
                          f"MODSEQ ({seqs[1]}))"])
        self.assertEqual(w.ok(f"UID FETCH {uids[1] + 10}:{uids[1] + 20} (FLAGS)"), [])
        self.assertEqual(w.cmd("FETCH 4 FLAGS")[1].split()[1], "BAD")
        # imaplib.
        m = self.imap()
        m.select("Fetch-Box")
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][1], b"Subject: Multipart sample\r\n\r\n")
        typ, data = m.uid("FETCH", str(uids[0]), "(BODYSTRUCTURE)")
        self.assertEqual(data[0], f"1 (BODYSTRUCTURE {bodystructure} UID {uids[0]})".encode())

    # ---- \Recent (IMAP4rev1)
    def test_recent(self):
        """RFC 3501 2.3.2: a message is \\Recent in the first session told of it, and in no
        other; EXAMINE looks without taking it; STATUS counts what no session took yet."""
        w = self.session()
        self.fill(w, "Recent-Box", [message(f"recent {i}") for i in range(3)])

        def recent_status():
            return status_of(w.ok("STATUS Recent-Box (RECENT)"))["RECENT"]

        self.assertEqual(recent_status(), 3)
        e = self.session()
        self.assertIn("* 3 RECENT", e.ok("EXAMINE Recent-Box"))
        self.assertEqual(e.ok("SEARCH RECENT"), ["* SEARCH 1 2 3"])
        self.assertEqual(e.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS (\\Recent))"])
        e.ok("CLOSE")
        self.assertEqual(recent_status(), 3, "EXAMINE takes no \\Recent (RFC 3501 6.3.2)")
        a, b = self.session(), self.session()
        self.assertIn("* 3 RECENT", a.ok("SELECT Recent-Box"))
        self.assertIn("* 0 RECENT", b.ok("SELECT Recent-Box"))
        self.assertEqual(recent_status(), 0)
        self.assertEqual(b.ok("SEARCH NEW"), ["* SEARCH"])
        self.assertEqual(b.ok("SEARCH OLD"), ["* SEARCH 1 2 3"])
        self.assertEqual(a.ok("STORE 1 +FLAGS (\\Seen)"), ["* 1 FETCH (FLAGS (\\Seen \\Recent))"],
                         "a client cannot take \\Recent away")
        self.assertEqual(a.ok("SEARCH NEW"), ["* SEARCH 2 3"])
        self.assertEqual(a.ok("SEARCH RECENT SEEN"), ["* SEARCH 1"])
        self.assertEqual(b.ok("NOOP"), ["* 1 FETCH (UID 1 FLAGS (\\Seen))"])
        # Mail that comes while no session has the folder selected waits for the next one.
        a.ok("UNSELECT")
        b.ok("UNSELECT")
        self.fill(w, "Recent-Box", [message("recent later")], create=False)
        self.assertEqual(recent_status(), 1)
        self.assertIn("* 1 RECENT", b.ok("SELECT Recent-Box"))
        self.assertEqual(b.ok("FETCH 1,4 FLAGS"), ["* 1 FETCH (FLAGS (\\Seen))",
                                                   "* 4 FETCH (FLAGS (\\Recent))"])
        # IMAP4rev2 has no \Recent (RFC 9051 2.3.2): its sessions neither show nor take it.
        r = self.session()
        r.ok("ENABLE IMAP4rev2")
        self.fill(w, "Recent-Box", [message("recent rev2")], create=False)
        self.assertNotIn("RECENT", " ".join(r.ok("SELECT Recent-Box")))
        self.assertEqual(r.ok("FETCH 5 FLAGS"), ["* 5 FETCH (FLAGS ())"])
        self.assertEqual(b.ok("NOOP"), ["* 5 EXISTS", "* 2 RECENT"], "b still gets it")
        self.assertEqual(b.ok("UID SEARCH RECENT"), ["* SEARCH 4 5"])
        # imaplib reads the count from SELECT.
        self.fill(w, "Recent-Box", [message("recent imaplib")], create=False)
        m = self.imap()
        m.select("Recent-Box", readonly=True)
        self.assertEqual(m.response("RECENT"), ("RECENT", [b"1"]))

    # ---- STORE
    def test_store_flags_keywords_and_unchangedsince(self):
        w = self.session()
        v, uids = self.fill(w, "Store-Box", [message(f"store {i}") for i in range(3)])
        # The first SELECT takes the new messages as its \Recent; after it they are not
        # (test_recent), so the flags below are only what STORE sets.
        self.assertIn("* 3 RECENT", w.ok("SELECT Store-Box"))
        self.assertIn("* 0 RECENT", w.ok("SELECT Store-Box"))
        self.assertEqual(w.ok("STORE 1 +FLAGS (\\Flagged)"), ["* 1 FETCH (FLAGS (\\Flagged))"])
        # A keyword new to the folder: the FLAGS list grows first (RFC 9051 7.3.5), as Dovecot
        # tells it.
        self.assertEqual(w.ok("STORE 1 +FLAGS ($Work \\Seen)"), [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] "
            "Flags permitted",
            "* 1 FETCH (FLAGS (\\Seen \\Flagged $Work))"])
        self.assertEqual(w.ok("STORE 1 -FLAGS (\\Flagged)"), ["* 1 FETCH (FLAGS (\\Seen $Work))"])
        self.assertEqual(w.ok("STORE 1:2 FLAGS (\\Answered)"), [
            "* 1 FETCH (FLAGS (\\Answered))", "* 2 FETCH (FLAGS (\\Answered))"])
        self.assertEqual(w.ok("STORE 1 +FLAGS.SILENT (\\Draft)"), [])
        self.assertEqual(w.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS (\\Answered \\Draft))"])
        self.assertEqual(w.ok(f"UID STORE {uids[2]} +FLAGS (\\Deleted)"),
                         [f"* 3 FETCH (FLAGS (\\Deleted) UID {uids[2]})"])
        self.assertEqual(w.ok("STORE 3 -FLAGS.SILENT (\\Deleted)"), [])
        self.assertEqual(w.ok("SEARCH KEYWORD $Work"), ["* SEARCH"])
        # Keywords are case-insensitive: the first spelling stays.
        self.assertEqual(w.ok("STORE 2 +FLAGS ($Label1 $LABEL1)"), [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work $Label1)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work $Label1 "
            "\\*)] Flags permitted",
            "* 2 FETCH (FLAGS (\\Answered $Label1))"])
        # Another session lists the folder's keywords in use when it selects; and learns a new
        # one before the change that shows it.
        o = self.session()
        self.assertIn("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)",
                      o.ok("EXAMINE Store-Box"), "$Work is on no message any more")
        w.ok("STORE 3 +FLAGS.SILENT ($Later)")
        self.assertEqual(o.ok("NOOP"), [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 $Later)",
            "* OK [PERMANENTFLAGS ()] Read-only mailbox",
            f"* 3 FETCH (UID {uids[2]} FLAGS ($Later))"])
        w.ok("STORE 3 -FLAGS.SILENT ($Later)")
        o.ok("NOOP")
        self.assertEqual(w.ok("STORE 2 +FLAGS ($label1)"),
                         ["* 2 FETCH (FLAGS (\\Answered $Label1))"])
        self.assertEqual(w.ok("SEARCH KEYWORD $LABEL1"), ["* SEARCH 2"])
        self.assertEqual(w.ok("STORE 2 -FLAGS ($LaBeL1)"), ["* 2 FETCH (FLAGS (\\Answered))"])
        self.assertEqual(w.cmd("STORE 1 +FLAGS (\\Bogus)")[1].split()[1], "BAD")
        self.assertEqual(w.cmd("STORE 1 +FLAGS (\\Recent)")[1],
                         f"t{w.count} BAD Invalid system flag \\Recent", "the server's flag")
        self.assertEqual(w.cmd("STORE 9 +FLAGS (\\Seen)")[1].split()[1], "BAD")
        # CONDSTORE (RFC 7162 3.1.3): UNCHANGEDSINCE refuses what changed since.
        u = w.ok("FETCH 1:3 (MODSEQ)")
        mod = [int(re.search(r"MODSEQ \((\d+)\)", x).group(1)) for x in u]
        self.assertNotEqual(mod[0], mod[1])
        changed, kept = (1, 2) if mod[0] < mod[1] else (2, 1)
        u, t = w.cmd(f"STORE 1:2 (UNCHANGEDSINCE {min(mod[:2])}) +FLAGS (\\Flagged)")
        self.assertEqual(tagged_code(t), f"OK [MODIFIED {kept}]")
        self.assertEqual(len(u), 1)
        before = {1: "\\Answered \\Draft", 2: "\\Answered"}
        after = {1: "\\Answered \\Flagged \\Draft", 2: "\\Answered \\Flagged"}
        self.assertRegex(u[0], rf"^\* {changed} FETCH \(FLAGS \({re.escape(after[changed])}\) "
                               rf"MODSEQ \(\d+\)\)$")
        self.assertEqual(w.ok(f"FETCH {kept} (FLAGS)")[0],
                         f"* {kept} FETCH (FLAGS ({before[kept]}) MODSEQ ({mod[kept - 1]}))",
                         "the refused one is unchanged")
        u, t = w.cmd(f"UID STORE {uids[0]}:{uids[1]} (UNCHANGEDSINCE 0) FLAGS ()")
        self.assertEqual(tagged_code(t), f"OK [MODIFIED {uids[0]}:{uids[1]}]",
                         "UID STORE names UIDs; 0 fails every message")
        self.assertEqual(u, [])
        # imaplib.
        m = self.imap()
        m.select("Store-Box")
        self.assertEqual(m.store("3", "+FLAGS", "(\\Seen $Later)"),
                         ("OK", [b"3 (FLAGS (\\Seen $Later))"]))

    # ---- COPY / MOVE
    def test_copy_and_move(self):
        w = self.session()
        _, src = self.fill(w, "Copy-Src", [(message(f"copy {i}"), "\\Flagged" if i == 0 else None,
                                            None) for i in range(4)])
        self.fill(w, "Copy-Dst", [])
        dv = status_of(w.ok("STATUS Copy-Dst (UIDVALIDITY)"))["UIDVALIDITY"]
        w.ok("SELECT Copy-Src")
        u, t = w.cmd("COPY 1:2 Copy-Dst")
        self.assertEqual(u, [])
        self.assertEqual(t, f"t{w.count} OK [COPYUID {dv} {src[0]}:{src[1]} 1:2] COPY completed")
        self.assertEqual(tagged_code(w.cmd(f"UID COPY {src[2]} Copy-Dst")[1]),
                         f"OK [COPYUID {dv} {src[2]} 3]")
        self.assertEqual(tagged_code(w.cmd("COPY 1 No-Such-Box")[1]), "NO [TRYCREATE]")
        # MOVE (RFC 6851): COPYUID in an untagged OK, then the EXPUNGE.
        u, t = w.cmd("MOVE 2 Copy-Dst")
        self.assertEqual(codes(u), [f"* OK [COPYUID {dv} {src[1]} 4]", "* 2 EXPUNGE"])
        self.assertEqual(t, f"t{w.count} OK MOVE completed")
        u, t = w.cmd(f"UID MOVE {src[2]}:{src[3]} Copy-Dst")
        self.assertEqual(codes(u), [f"* OK [COPYUID {dv} {src[2]}:{src[3]} 5:6]", "* 2 EXPUNGE",
                                    "* 2 EXPUNGE"])
        self.assertEqual(w.ok("FETCH 1:* (UID)"), [f"* 1 FETCH (UID {src[0]})"])
        # Flags and dates travel with the copies.
        w.ok("SELECT Copy-Dst")
        u = w.ok("FETCH 1:* (UID FLAGS)")
        # A copy is new in its folder: \Recent for the first to select it (RFC 3501 6.4.7).
        self.assertEqual(u, ["* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))",
                             "* 2 FETCH (UID 2 FLAGS (\\Recent))",
                             "* 3 FETCH (UID 3 FLAGS (\\Recent))",
                             "* 4 FETCH (UID 4 FLAGS (\\Recent))",
                             "* 5 FETCH (UID 5 FLAGS (\\Recent))",
                             "* 6 FETCH (UID 6 FLAGS (\\Recent))"])
        # Under QRESYNC, MOVE reports VANISHED (RFC 7162 3.2.10).
        q = self.session()
        q.ok("ENABLE QRESYNC")
        q.ok("SELECT Copy-Dst")
        u, t = q.cmd("MOVE 5:6 Copy-Src")
        move_tag = f"t{q.count}"
        sv = status_of(q.ok("STATUS Copy-Src (UIDVALIDITY)"))["UIDVALIDITY"]
        self.assertEqual(codes(u), [f"* OK [COPYUID {sv} 5:6 {src[3] + 1}:{src[3] + 2}]",
                                    "* VANISHED 5:6"])
        self.assertRegex(t, rf"^{move_tag} OK \[HIGHESTMODSEQ \d+\] MOVE completed$")
        # imaplib.
        m = self.imap()
        m.select("Copy-Dst")
        typ, data = m.copy("1", "Copy-Src")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), rf"^\[COPYUID {sv} 1 {src[3] + 3}\] ")
        typ, data = m.uid("MOVE", "2", "Copy-Src")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.get("EXPUNGE"), [b"2"])

    # ---- EXPUNGE, CLOSE, UNSELECT, CHECK, NOOP
    def test_expunge_and_uid_expunge(self):
        w = self.session()
        v, uids = self.fill(w, "Exp-Box", [message(f"expunge {i}") for i in range(6)])
        w.ok("SELECT Exp-Box")
        w.ok("STORE 2,3,5 +FLAGS.SILENT (\\Deleted)")
        u, t = w.cmd("EXPUNGE")
        self.assertEqual(u, ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"],
                         "each EXPUNGE shifts the numbers after it")
        self.assertEqual(t, f"t{w.count} OK EXPUNGE completed")
        self.assertEqual(w.ok("FETCH 1:* (UID)"), [
            f"* 1 FETCH (UID {uids[0]})", f"* 2 FETCH (UID {uids[3]})",
            f"* 3 FETCH (UID {uids[5]})"])
        # UID EXPUNGE (UIDPLUS): only the named UIDs, even when others are \Deleted.
        w.ok("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(w.ok(f"UID EXPUNGE {uids[3]}"), ["* 2 EXPUNGE"])
        self.assertEqual(w.ok(f"UID EXPUNGE {uids[1]}:{uids[2]}"), [], "already gone")
        self.assertEqual(w.ok("FETCH 1:* (UID FLAGS)"), [
            f"* 1 FETCH (UID {uids[0]} FLAGS (\\Deleted \\Recent))",
            f"* 2 FETCH (UID {uids[5]} FLAGS (\\Deleted \\Recent))"])
        self.assertEqual(w.ok("EXPUNGE"), ["* 1 EXPUNGE", "* 1 EXPUNGE"])
        self.assertEqual(w.ok("EXPUNGE"), [])
        u = w.ok("STATUS Exp-Box (MESSAGES UIDNEXT)")
        self.assertEqual(u, [f"* STATUS Exp-Box (MESSAGES 0 UIDNEXT {uids[-1] + 1})"])
        # imaplib.
        self.fill(w, "Exp-Box", [message("expunge again")], create=False)
        m = self.imap()
        m.select("Exp-Box")
        m.store("1", "+FLAGS", "(\\Deleted)")
        self.assertEqual(m.expunge(), ("OK", [b"1"]))

    def test_close_unselect_check_noop(self):
        w = self.session()
        self.fill(w, "Close-Box", [message(f"close {i}") for i in range(3)])
        w.ok("SELECT Close-Box")
        self.assertEqual(w.ok("STORE 1 +FLAGS.SILENT (\\Deleted)"), [])
        self.assertEqual(w.cmd("UNSELECT"), ([], f"t{w.count} OK UNSELECT completed"))
        self.assertEqual(w.cmd("FETCH 1 FLAGS")[1], f"t{w.count} BAD No mailbox selected")
        self.assertEqual(status_of(w.ok("STATUS Close-Box (MESSAGES DELETED)")),
                         {"MESSAGES": 3, "DELETED": 1}, "UNSELECT expunges nothing")
        w.ok("SELECT Close-Box")
        self.assertEqual(w.cmd("CHECK"), ([], f"t{w.count} OK CHECK completed"))
        self.assertEqual(w.cmd("NOOP"), ([], f"t{w.count} OK NOOP completed"))
        w.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(w.cmd("CLOSE"), ([], f"t{w.count} OK CLOSE completed"),
                         "CLOSE expunges silently (RFC 9051 6.4.1)")
        self.assertEqual(status_of(w.ok("STATUS Close-Box (MESSAGES DELETED)")),
                         {"MESSAGES": 1, "DELETED": 0})
        self.assertEqual(w.cmd("CLOSE")[1], f"t{w.count} BAD No mailbox selected")
        m = self.imap()
        m.select("Close-Box")
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.check()[0], "OK")
        self.assertEqual(m.close()[0], "OK")
        self.assertEqual(m.state, "AUTH")

    # ---- SEARCH, ESEARCH, SEARCHRES, SORT, THREAD
    def search_box(self, w):
        """The search fixture: SEARCH_MESSAGES in "Search-Box" (sequence numbers 1-6); the
        UIDs."""
        if ImapMailboxTest._search_uids is None:
            self.note("Budget report", "Lunch plans", "Holiday", "apollo", "Search-Box")
            ImapMailboxTest._search_uids = self.fill(w, "Search-Box", SEARCH_MESSAGES)[1]
        return ImapMailboxTest._search_uids

    def search(self, w, criteria, uid=False):
        u = w.ok(("UID SEARCH " if uid else "SEARCH ") + criteria)
        self.assertEqual(len(u), 1, u)
        self.assertTrue(u[0].startswith("* SEARCH"), u)
        return [int(x) for x in u[0].split()[2:]]

    def test_search_keys(self):
        w = self.session()
        uids, msgs = self.search_box(w), SEARCH_MESSAGES
        w.ok("SELECT Search-Box")
        s = lambda c: self.search(w, c)  # noqa: E731
        self.assertEqual(s("ALL"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(s("UNSEEN"), [2, 4, 5, 6])
        self.assertEqual(s("SEEN"), [1, 3])
        self.assertEqual(s("FLAGGED"), [2, 3])
        self.assertEqual(s("ANSWERED"), [6])
        self.assertEqual(s("UNANSWERED UNFLAGGED"), [1, 4, 5])
        self.assertEqual(s("FROM ann"), [1, 3])
        self.assertEqual(s('FROM "bob@two.test"'), [2, 5])
        self.assertEqual(s("TO alice"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(s("SUBJECT budget"), [1, 3])
        self.assertEqual(s('SUBJECT "lunch plans"'), [2, 6])
        self.assertEqual(s("TEXT pizza"), [2])
        self.assertEqual(s("TEXT apollo"), [3], "TEXT covers the header")
        self.assertEqual(s("BODY apollo"), [], "BODY does not")
        self.assertEqual(s("BODY numbers"), [1, 3])
        self.assertEqual(s("BODY budget"), [], "the subject is not the body")
        self.assertEqual(s("TEXT budget"), [1, 3])
        self.assertEqual(s('BODY "look fine"'), [3])
        self.assertEqual(s('BODY "numbers fine"'), [], "a substring, not words anywhere")
        self.assertEqual(s('TEXT "x-project: apollo"'), [3])
        self.assertEqual(s("HEADER X-Project apollo"), [3])
        self.assertEqual(s('HEADER X-Project ""'), [3], "an empty string: the field is there")
        self.assertEqual(s("HEADER In-Reply-To budget"), [3])
        self.assertEqual(s("LARGER 4000"), [4])
        self.assertEqual(s(f"SMALLER {len(msgs[3][0])}"), [1, 2, 3, 5, 6])
        self.assertEqual(s(f"LARGER {len(msgs[3][0]) - 1} SMALLER {len(msgs[3][0]) + 1}"), [4])
        self.assertEqual(s("SINCE 15-Feb-2024"), [2, 3, 4, 5, 6])
        self.assertEqual(s("BEFORE 15-Feb-2024"), [1])
        self.assertEqual(s("ON 20-Mar-2024"), [3])
        self.assertEqual(s("SENTSINCE 01-Apr-2024"), [4])
        self.assertEqual(s("SENTBEFORE 1-Jan-2024"), [5])
        self.assertEqual(s("SENTON 16-Feb-2024"), [6])
        self.assertEqual(s("2,4:5"), [2, 4, 5])
        self.assertEqual(s("*"), [6])
        self.assertEqual(s("5:*"), [5, 6])
        self.assertEqual(s("*:5"), [5, 6])
        self.assertEqual(s(f"UID {uids[1]}:{uids[3]}"), [2, 3, 4])
        self.assertEqual(s(f"UID {uids[4]}:*"), [5, 6])
        self.assertEqual(self.search(w, "ALL", uid=True), uids)
        self.assertEqual(self.search(w, "FROM ann", uid=True), [uids[0], uids[2]])
        self.assertEqual(s("OR FROM ann FLAGGED"), [1, 2, 3])
        self.assertEqual(s("NOT SEEN"), [2, 4, 5, 6])
        self.assertEqual(s("(OR SUBJECT lunch SUBJECT holiday) UNSEEN"), [2, 4, 6])
        self.assertEqual(s("NOT (OR FROM bob (SEEN FLAGGED))"), [1, 4, 6])
        self.assertEqual(s("OR (FROM ann SINCE 1-Mar-2024) (NOT 1:4)"), [3, 5, 6])
        self.assertEqual(s("((((SUBJECT budget))))"), [1, 3])
        self.assertEqual(s("KEYWORD $Nothing"), [])
        self.assertEqual(s("UNKEYWORD $Nothing"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(s("OLD"), [1, 2, 3, 4, 5, 6])
        # CHARSET UTF-8 with a literal (and the encoded-word Subject decoded).
        word = "Gr\u00fc\u00dfe".encode()
        tag = w.tag()
        w.send(f"{tag} SEARCH CHARSET UTF-8 TEXT {{{len(word)}}}\r\n".encode())
        self.assertTrue(w.response().startswith("+"))
        w.send(word + b"\r\n")
        self.assertEqual(w.until(tag), (["* SEARCH 5"], f"{tag} OK SEARCH completed"))
        tag = w.tag()
        w.send(f"{tag} SEARCH CHARSET UTF-8 SUBJECT {{{len(word)}+}}\r\n".encode() + word + b"\r\n")
        self.assertEqual(w.until(tag)[0], ["* SEARCH 5"])
        self.assertEqual(tagged_code(w.cmd("SEARCH CHARSET KOI8-R ALL")[1]),
                         "NO [BADCHARSET (US-ASCII UTF-8)]")
        self.assertEqual(w.cmd("SEARCH FROBNICATE")[1].split()[1], "BAD")
        # MODSEQ (RFC 7162 3.1.5): the highest MODSEQ of the matches comes along.
        w.ok("STORE 4 +FLAGS (\\Seen)")
        mod = int(re.search(r"MODSEQ \((\d+)\)", w.ok("FETCH 4 (MODSEQ)")[0]).group(1))
        self.assertEqual(w.ok(f"SEARCH MODSEQ {mod}"), [f"* SEARCH 4 (MODSEQ {mod})"])
        self.assertEqual(w.ok(f"SEARCH MODSEQ {mod + 1}"), ["* SEARCH"])
        w.ok("STORE 4 -FLAGS.SILENT (\\Seen)")
        # imaplib.
        m = self.imap()
        m.select("Search-Box")
        self.assertEqual(m.search(None, "FROM", "ann"), ("OK", [b"1 3"]))
        self.assertEqual(m.uid("SEARCH", "SUBJECT", "budget"),
                         ("OK", [f"{uids[0]} {uids[2]}".encode()]))

    def test_esearch_and_searchres(self):
        w = self.session()
        uids = self.search_box(w)
        w.ok("SELECT Search-Box")
        # ESEARCH (RFC 4731).
        self.assertEqual(w.ok("SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED"),
                         [f'* ESEARCH (TAG "t{w.count}") MIN 2 MAX 3 COUNT 2 ALL 2:3'])
        self.assertEqual(w.ok("SEARCH RETURN () UNSEEN"),
                         [f'* ESEARCH (TAG "t{w.count}") ALL 2,4:6'])
        self.assertEqual(w.ok("UID SEARCH RETURN (COUNT) ALL"),
                         [f'* ESEARCH (TAG "t{w.count}") UID COUNT 6'])
        self.assertEqual(w.ok("UID SEARCH RETURN (MIN MAX) FROM ann"),
                         [f'* ESEARCH (TAG "t{w.count}") UID MIN {uids[0]} MAX {uids[2]}'])
        self.assertEqual(w.ok("SEARCH RETURN (COUNT MIN) FROM nobody"),
                         [f'* ESEARCH (TAG "t{w.count}") COUNT 0'])
        # SEARCHRES (RFC 5182): SAVE alone answers nothing; $ is the saved result.
        self.assertEqual(w.ok("SEARCH RETURN (SAVE) FROM bob"), [])
        self.assertEqual(w.ok("FETCH $ (UID)"),
                         [f"* 2 FETCH (UID {uids[1]})", f"* 5 FETCH (UID {uids[4]})"])
        self.assertEqual(w.ok("SEARCH $ FLAGGED"), ["* SEARCH 2"])
        self.assertEqual(w.ok("UID SEARCH UID $"), [f"* SEARCH {uids[1]} {uids[4]}"])
        self.assertEqual(w.ok("SEARCH RETURN (SAVE MIN) ALL"),
                         [f'* ESEARCH (TAG "t{w.count}") MIN 1'])
        self.assertEqual(w.ok("FETCH $ (UID)"), [f"* 1 FETCH (UID {uids[0]})"],
                         "with MIN alone only the minimum is saved")
        # Pipelined: a SEARCH RETURN (SAVE) and a command using $ (RFC 5182 2.1).
        w.send("p1 UID SEARCH RETURN (SAVE) SUBJECT budget\r\np2 UID FETCH $ (UID)\r\n")
        self.assertEqual(w.until("p1"), ([], "p1 OK SEARCH completed"))
        self.assertEqual(w.until("p2")[0],
                         [f"* 1 FETCH (UID {uids[0]})", f"* 3 FETCH (UID {uids[2]})"])
        w.ok("UNSELECT")
        w.ok("SELECT Search-Box")
        self.assertEqual(w.ok("FETCH $ (UID)"), [], "a new selection forgets $")

    def test_sort_and_thread(self):
        w = self.session()
        uids = self.search_box(w)
        w.ok("SELECT Search-Box")

        def sort(keys, criteria="ALL", uid=False):
            u = w.ok(f"{'UID ' if uid else ''}SORT ({keys}) UTF-8 {criteria}")
            self.assertEqual(len(u), 1)
            self.assertTrue(u[0].startswith("* SORT"), u)
            return [int(x) for x in u[0].split()[2:]]
        # RFC 5256: DATE is the Date header (INTERNALDATE without one), ties by sequence.
        self.assertEqual(sort("DATE"), [5, 1, 2, 6, 3, 4])
        self.assertEqual(sort("ARRIVAL"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(sort("REVERSE DATE"), [4, 3, 6, 2, 1, 5])
        self.assertEqual(sort("SUBJECT"), [1, 3, 5, 4, 2, 6], "base subjects, Re: dropped")
        self.assertEqual(sort("REVERSE SUBJECT"), [2, 6, 4, 5, 1, 3])
        self.assertEqual(sort("FROM"), [1, 3, 2, 5, 4, 6])
        self.assertEqual(sort("SUBJECT DATE"), [1, 3, 5, 4, 2, 6])
        self.assertEqual(sort("SIZE", "SMALLER 4000 NOT FROM ann"), sorted(
            [2, 5, 6], key=lambda n: len(SEARCH_MESSAGES[n - 1][0])))
        self.assertEqual(sort("DATE", "FLAGGED", uid=True), [uids[1], uids[2]])
        self.assertEqual(tagged_code(w.cmd("SORT (DATE) KOI8-R ALL")[1]),
                         "NO [BADCHARSET (US-ASCII UTF-8)]")
        # THREAD=REFERENCES: 3 answers 1 by its References; 6 has no references but the base
        # subject of 2 and is a reply (RFC 5256 section 2.2 step 5); roots by date.
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 ALL"), ["* THREAD (5)(1 3)(2 6)(4)"])
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 NOT 1"), ["* THREAD (5)(2 6)(3)(4)"])
        self.assertEqual(w.ok("UID THREAD REFERENCES UTF-8 FROM ann"),
                         [f"* THREAD ({uids[0]} {uids[2]})"])
        # References to messages that are not there (dummies, RFC 5256 2.2 steps 1-3), replies
        # and forwards by subject (step 5): checked against Dovecot's answer.
        self.note("Thread-Box", "root gone")
        self.fill(w, "Thread-Box", [
            message("root gone a", message_id="a1@x", headers=("References: <absent@x>",)),
            message("root gone b", message_id="b1@x", headers=("References: <absent@x>",)),
            message("chain", message_id="c1@x", headers=("References: <absent2@x> <a1@x>",)),
            message("Re: root gone a", message_id="d1@x", date="Mon, 01 Jan 2024 09:00:00 +0000"),
            message("Fwd: other", message_id="e1@x"),
            message("other (fwd)", message_id="f1@x"),
            message("[list] Re: other", message_id="g1@x")])
        w.ok("SELECT Thread-Box")
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 ALL"), ["* THREAD ((4)(1 3)(2))((5)(6)(7))"])
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 1:3"), ["* THREAD ((1 3)(2))"])
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 3"), ["* THREAD (3)"])
        self.assertEqual(w.ok("THREAD REFERENCES UTF-8 FROM nobody"), ["* THREAD"])
        m = self.imap()
        m.select("Search-Box")
        self.assertEqual(m.sort("(REVERSE ARRIVAL)", "UTF-8", "ALL"), ("OK", [b"6 5 4 3 2 1"]))
        self.assertEqual(m.thread("REFERENCES", "UTF-8", "ALL"), ("OK", [b"(5)(1 3)(2 6)(4)"]))

    # ---- QUOTA
    def test_quota(self):
        w = self.session()
        u = w.ok("GETQUOTAROOT INBOX")
        self.assertEqual(u[0], '* QUOTAROOT INBOX ""')
        m = re.fullmatch(r'\* QUOTA "" \(STORAGE (\d+) 1024\)', u[1])
        self.assertIsNotNone(m, u)
        used = int(m.group(1))
        self.assertEqual(w.ok('GETQUOTA ""'), [u[1]])
        self.assertEqual(tagged_code(w.cmd('GETQUOTA "other"')[1]), "NO [NONEXISTENT]")
        self.assertEqual(w.cmd('SETQUOTA "" (STORAGE 10)')[1].split()[1], "NO")
        self.fill(w, "Quota-Box", [message("quota ten", "q" * 10240)])
        u = w.ok("GETQUOTAROOT Quota-Box")
        self.assertEqual(u[0], '* QUOTAROOT Quota-Box ""')
        now = int(re.fullmatch(r'\* QUOTA "" \(STORAGE (\d+) 1024\)', u[1]).group(1))
        self.assertIn(now - used, (10, 11), "10 KiB more")
        # Past the quota: APPEND is refused, nothing is stored.
        _, t = w.append("Quota-Box", message("quota big", "Q" * 1100000))
        self.assertEqual(tagged_code(t), "NO [OVERQUOTA]")
        self.assertEqual(status_of(w.ok("STATUS Quota-Box (MESSAGES)"))["MESSAGES"], 1)
        imap = self.imap()
        typ, data = imap.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'INBOX ""'])

    # ---- CONDSTORE, QRESYNC
    def test_condstore(self):
        w = self.session()
        self.assertEqual(w.ok("ENABLE CONDSTORE"), ["* ENABLED CONDSTORE"])
        v, uids = self.fill(w, "Cond-Box", [message(f"cond {i}") for i in range(3)])
        w.ok("SELECT Cond-Box")  # takes the new messages' \Recent (test_recent)
        u = codes(w.ok("SELECT Cond-Box"))
        h0 = int(next(re.match(r"\* OK \[HIGHESTMODSEQ (\d+)\]", x).group(1)
                      for x in u if "HIGHESTMODSEQ" in x))
        u = w.ok("FETCH 1:* (UID MODSEQ)")
        mods = [int(re.search(r"MODSEQ \((\d+)\)", x).group(1)) for x in u]
        self.assertEqual(max(mods), h0)
        self.assertEqual(len(set(mods)), 3, "each APPEND has its own MODSEQ")
        u = w.ok("STORE 2 +FLAGS (\\Flagged)")
        m2 = int(re.fullmatch(r"\* 2 FETCH \(FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)",
                              u[0]).group(1))
        self.assertGreater(m2, h0)
        self.assertEqual(w.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})"),
                         [f"* 2 FETCH (FLAGS (\\Flagged) MODSEQ ({m2}))"])
        self.assertEqual(w.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})"),
                         [f"* 2 FETCH (FLAGS (\\Flagged) UID {uids[1]} MODSEQ ({m2}))"])
        self.assertEqual(w.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m2})"), [])
        self.assertEqual(w.ok(f"UID FETCH 1:* (UID) (CHANGEDSINCE {h0})"),
                         [f"* 2 FETCH (UID {uids[1]} MODSEQ ({m2}))"],
                         "CHANGEDSINCE implies MODSEQ (RFC 7162 3.1.4.1)")
        self.assertEqual(w.ok(f"SEARCH MODSEQ {h0 + 1}"), [f"* SEARCH 2 (MODSEQ {m2})"])
        self.assertRegex(w.ok("STORE 2 +FLAGS.SILENT (\\Seen)")[0],
                         r"^\* 2 FETCH \(MODSEQ \(\d+\)\)$",
                         "RFC 7162 3.1.3: .SILENT still reports the new MODSEQ")
        self.assertEqual(status_of(w.ok("STATUS Cond-Box (HIGHESTMODSEQ)"))["HIGHESTMODSEQ"],
                         int(re.search(r"MODSEQ \((\d+)\)", w.ok("FETCH 2 MODSEQ")[0]).group(1)))
        # SELECT (CONDSTORE) enables it for a session that did not ENABLE it.
        w2 = self.session()
        u = codes(w2.ok("SELECT Cond-Box (CONDSTORE)"))
        self.assertTrue(any(x.startswith("* OK [HIGHESTMODSEQ ") for x in u))
        self.assertRegex(w2.ok("STORE 1 +FLAGS (\\Draft)")[0],
                         r"^\* 1 FETCH \(FLAGS \(\\Draft\) MODSEQ \(\d+\)\)$")

    def test_qresync(self):
        a = self.session()
        v, uids = self.fill(a, "Q-Box", [message(f"qresync {i}") for i in range(5)])
        u = codes(a.ok("SELECT Q-Box"))
        h0 = int(next(re.match(r"\* OK \[HIGHESTMODSEQ (\d+)\]", x).group(1)
                      for x in u if "HIGHESTMODSEQ" in x))
        a.ok("STORE 3 +FLAGS (\\Seen)")
        a.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(a.ok("EXPUNGE"), ["* 2 EXPUNGE"])
        seen = int(re.search(r"MODSEQ \((\d+)\)", a.ok("FETCH 2 (MODSEQ)")[0]).group(1))

        b = self.session()
        self.assertEqual(tagged_code(b.cmd(f"SELECT Q-Box (QRESYNC ({v} {h0}))")[1]), "BAD",
                         "QRESYNC must be enabled first")
        b.ok("ENABLE QRESYNC")
        u, t = b.cmd(f"SELECT Q-Box (QRESYNC ({v} {h0}))")
        self.assertIn(f"* VANISHED (EARLIER) {uids[1]}", u)
        self.assertIn(f"* 2 FETCH (UID {uids[2]} FLAGS (\\Seen) MODSEQ ({seen}))", u)
        self.assertEqual(len([x for x in u if "FETCH" in x]), 1)
        self.assertIn("* 4 EXISTS", u)
        self.assertEqual(tagged_code(t), "OK [READ-WRITE]")
        # Known UIDs limit what is reported.
        u = b.ok(f"SELECT Q-Box (QRESYNC ({v} {h0} {uids[3]}:{uids[4]}))")
        self.assertEqual(codes(u)[0], "* OK [CLOSED]")
        self.assertFalse([x for x in u if "VANISHED" in x or "FETCH" in x], u)
        # Another UIDVALIDITY: nothing to resynchronise.
        u = b.ok(f"SELECT Q-Box (QRESYNC ({v + 1} {h0}))")
        self.assertFalse([x for x in u if "VANISHED" in x or "FETCH" in x], u)
        # UID FETCH ... (CHANGEDSINCE m VANISHED) (RFC 7162 3.2.6).
        self.assertEqual(b.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)"), [
            f"* VANISHED (EARLIER) {uids[1]}",
            f"* 2 FETCH (FLAGS (\\Seen) UID {uids[2]} MODSEQ ({seen}))"])
        self.assertEqual(tagged_code(b.cmd(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)")[1]),
                         "BAD", "VANISHED only with UID FETCH")
        # Expunges by others come as VANISHED; EXPUNGE here too.
        a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        a.ok("EXPUNGE")
        self.assertEqual(b.ok("NOOP"), [f"* VANISHED {uids[0]}"])
        b.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        u, t = b.cmd("EXPUNGE")
        self.assertEqual(u, [f"* VANISHED {uids[2]}:{uids[3]}"])
        highest = status_of(a.ok("STATUS Q-Box (HIGHESTMODSEQ)"))["HIGHESTMODSEQ"]
        self.assertEqual(t, f"t{b.count} OK [HIGHESTMODSEQ {highest}] EXPUNGE completed",
                         "RFC 7162 3.2.10, as Dovecot")
        self.assertRegex(b.ok("FETCH 1 (FLAGS)")[0],
                         rf"^\* 1 FETCH \(FLAGS \(\) UID {uids[4]} MODSEQ \(\d+\)\)$",
                         "under QRESYNC every FETCH names the UID")

    # ---- IDLE and several sessions
    def test_idle_wakes_on_delivery(self):
        a = self.session()
        u = a.ok("SELECT INBOX")
        exists = int(next(re.match(r"\* (\d+) EXISTS", x).group(1) for x in u if "EXISTS" in x))
        tag = a.tag()
        a.send(f"{tag} IDLE\r\n")
        self.assertEqual(a.response(), "+ idling")
        self.note("idle wake")
        self.deliver([message("idle wake", "ring ring")])
        # An idling session waits on the mailbox's notification, with no timer of its own: any
        # answer at all is the delivery waking it. The first is the new message (nothing came
        # before the delivery).
        self.assertTrue(a.pending(30), "IDLE woke after the 250")
        self.assertEqual(a.response(), f"* {exists + 1} EXISTS")
        self.assertRegex(a.response(), r"^\* [1-9][0-9]* RECENT$", "the new mail is a's \\Recent")
        # Another session's flag change reaches the idling one.
        b = self.session()
        b.ok("SELECT INBOX")
        uid = int(re.search(r"UID (\d+)", b.ok(f"FETCH {exists + 1} (UID)")[0]).group(1))
        b.ok(f"UID STORE {uid} +FLAGS.SILENT (\\Flagged)")
        self.assertTrue(a.pending(30))
        self.assertEqual(a.response(),
                         f"* {exists + 1} FETCH (UID {uid} FLAGS (\\Flagged \\Recent))")
        b.ok(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
        b.ok(f"UID EXPUNGE {uid}")
        self.assertTrue(a.pending(30))
        # The Deleted flag is told only if the idling session looked between the two commands
        # (a flag change of a message since expunged need not be told); the EXPUNGE always is.
        line = a.response()
        if "FETCH" in line:
            self.assertEqual(
                line, f"* {exists + 1} FETCH (UID {uid} FLAGS (\\Flagged \\Deleted \\Recent))")
            self.assertTrue(a.pending(30))
            line = a.response()
        self.assertEqual(line, f"* {exists + 1} EXPUNGE")
        a.send("DONE\r\n")
        self.assertEqual(a.until(tag), ([], f"{tag} OK IDLE terminated"))
        self.assertEqual(a.ok("NOOP"), [])
        # A line other than DONE ends IDLE with BAD; the session goes on.
        a.send("i2 IDLE\r\n")
        self.assertEqual(a.response(), "+ idling")
        a.send("NOT DONE\r\n")
        self.assertEqual(a.until("i2")[1], "i2 BAD Expected DONE")
        self.assertEqual(a.ok("NOOP"), [])

    def test_two_sessions_see_each_others_changes(self):
        a, b = self.session(), self.session()
        v, uids = self.fill(a, "Two-Box", [message(f"two {i}") for i in range(6)])
        self.assertIn("* 6 RECENT", a.ok("SELECT Two-Box"))
        self.assertIn("* 0 RECENT", b.ok("SELECT Two-Box"), "a was told first")
        self.assertEqual(b.ok("STORE 2 +FLAGS (\\Flagged)"), ["* 2 FETCH (FLAGS (\\Flagged))"])
        self.assertEqual(a.ok("NOOP"), [f"* 2 FETCH (UID {uids[1]} FLAGS (\\Flagged \\Recent))"])
        self.assertEqual(a.ok("NOOP"), [], "told once")
        # Expunges: several at once, the numbers shifting as each is reported.
        b.ok("STORE 2,3,5 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(b.ok("EXPUNGE"), ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"])
        # A FETCH by sequence number must not see numbers shift under it: the expunges wait
        # (RFC 9051 7.5.1) and what is left keeps its old numbers.
        self.assertEqual(a.ok("FETCH 1:* (UID)"), [
            f"* 1 FETCH (UID {uids[0]})", f"* 4 FETCH (UID {uids[3]})",
            f"* 6 FETCH (UID {uids[5]})"])
        self.assertEqual(a.ok("SEARCH ALL"), ["* SEARCH 1 4 6"])
        self.assertEqual(a.ok("NOOP"), ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"])
        self.assertEqual(a.ok("FETCH 1:* (UID)"), [
            f"* 1 FETCH (UID {uids[0]})", f"* 2 FETCH (UID {uids[3]})",
            f"* 3 FETCH (UID {uids[5]})"])
        # New mail from another session: EXISTS at the next command boundary.
        # b, which has the mailbox selected, is told first and takes its \Recent.
        self.assertEqual(b.append("Two-Box", message("two new"))[0], ["* 4 EXISTS", "* 1 RECENT"])
        self.assertEqual(a.ok("NOOP"), ["* 4 EXISTS", "* 3 RECENT"])
        # A UID command may report expunges (RFC 9051 7.5.1) and then speaks of the new numbers.
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        self.assertEqual(a.ok(f"UID FETCH {uids[3]} (FLAGS)"),
                         [f"* 2 FETCH (FLAGS (\\Recent) UID {uids[3]})", "* 1 EXPUNGE"])
        self.assertEqual(a.ok("FETCH 1:* (UID)"), [
            f"* 1 FETCH (UID {uids[3]})", f"* 2 FETCH (UID {uids[5]})",
            f"* 3 FETCH (UID {uids[5] + 1})"])
        # The selected mailbox deleted by another session: this one ends (as Dovecot does).
        b.ok("UNSELECT")
        b.ok("DELETE Two-Box")
        u, t = a.cmd("NOOP")
        self.assertEqual(u, ["* BYE The selected mailbox was deleted"])
        self.assertTrue(a.closed())

    def test_utf8_accept_and_modified_utf7_names(self):
        a = self.session()
        b = self.session()
        self.assertEqual(b.ok("ENABLE UTF8=ACCEPT"), ["* ENABLED UTF8=ACCEPT"])
        ete = "\u00c9t\u00e9"  # "Été"
        self.note(ete, mutf7(ete), "K\u00f6ln")
        self.assertEqual(mutf7(ete), "&AMk-t&AOk-")
        a.ok(f"CREATE {mutf7(ete)}")
        self.assertEqual(a.ok(f'LIST "" {mutf7(ete)}'),
                         [f'* LIST (\\HasNoChildren) "/" {mutf7(ete)}'])
        self.assertEqual(b.ok(f'LIST "" "{ete}"'), [f'* LIST (\\HasNoChildren) "/" "{ete}"'])
        # A UTF-8 name after ENABLE UTF8=ACCEPT; the other session sees it in mUTF-7.
        koeln = "Caf\u00e9/K\u00f6ln & more"
        self.note("Caf\u00e9")
        b.ok(f'CREATE "{koeln}"')
        u = a.ok('LIST "" "Caf*"')
        self.assertEqual(u, [f'* LIST (\\Noselect \\HasChildren) "/" {mutf7("Café")}',
                             f'* LIST (\\HasNoChildren) "/" "{mutf7(koeln)}"'])
        self.assertEqual(mutf7(koeln), "Caf&AOk-/K&APY-ln &- more")
        u = b.ok(f'STATUS "{koeln}" (MESSAGES)')
        self.assertEqual(u, [f'* STATUS "{koeln}" (MESSAGES 0)'])
        self.fill(b, koeln, [message("to koeln")], create=False)
        u = a.ok(f'STATUS "{mutf7(koeln)}" (MESSAGES)')
        self.assertEqual(u, [f'* STATUS "{mutf7(koeln)}" (MESSAGES 1)'])
        # APPEND UTF8 (~{n}) (RFC 6855 4): UTF-8 header fields, only after ENABLE.
        raw = message("Gr\u00fc\u00dfe \u00e0 vous", "UTF-8 header",
                      sender="J\u00fcrgen <j@sender.test>")
        self.note("Gr\u00fc\u00dfe")
        tag = b.tag()
        b.send(f"{tag} APPEND \"{koeln}\" UTF8 (~{{{len(raw)}+}}\r\n".encode() + raw + b")\r\n")
        u, t = b.until(tag)
        self.assertEqual(tagged_code(t)[:14], "OK [APPENDUID ")
        b.ok(f'SELECT "{koeln}"')
        u = b.ok("FETCH 2 (BODY.PEEK[] ENVELOPE)")
        self.assertEqual(fetch_value(u[0], "BODY[]"), raw)
        self.assertIn('ENVELOPE ("Mon, 01 Jan 2024 10:00:00 +0000" '
                      "{15}\r\nGr\u00fc\u00dfe \u00e0 vous (({7}\r\nJ\u00fcrgen NIL", u[0],
                      "8-bit strings go as literals")
        tag = a.tag()
        a.send(f"{tag} APPEND INBOX UTF8 (~{{{len(raw)}+}}\r\n".encode() + raw + b")\r\n")
        self.assertEqual(a.until(tag)[1], f"{tag} BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT")
        # Without UTF8=ACCEPT an 8-bit name is not a valid mailbox name.
        _, t = a.cmd(f'CREATE "{ete}2"')
        self.assertIn(t.split()[1], ("BAD", "NO"), t)
        self.assertEqual(a.ok(f'LIST "" "*{mutf7("é")}2"'), [])
        # mUTF-7 that is not valid ("&Jjo" unterminated) is refused.
        self.assertIn(a.cmd("CREATE &Jjo")[1].split()[1], ("BAD", "NO"))
        # imaplib speaks mUTF-7 names as given.
        m = self.imap()
        self.assertEqual(m.select(mutf7(ete)), ("OK", [b"0"]))

    def test_the_log_names_no_address_subject_or_folder(self):
        w = self.session()
        self.fill(w, "Quarterly-Secrets", [message("Quarterly secret subject")])
        w.ok('SELECT "Quarterly-Secrets"')
        w.ok("FETCH 1 BODY[]")
        w.ok("LOGOUT")
        # The session logs before it closes the connection: at EOF its line is in the log.
        self.assertTrue(w.closed())
        log = self.mx.log_text()
        self.assertIn("imap session", log)
        for secret in sorted(self.secrets):
            self.assertNotIn(secret.lower(), log.lower())


if __name__ == "__main__":
    unittest.main()
