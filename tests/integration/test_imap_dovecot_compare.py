"""Sealpost's IMAP FETCH answers against Dovecot's, the reference server, on the MIME corpus.

Every message of ../shared/conformance/mime (150 real-world and broken messages) is APPENDed
with the same flags and date to a private Dovecot and to Sealpost. Then, message by message,
both are asked the same FETCH items, one command per item so that a NO for one item does not
hide the others:

  - RFC822.SIZE ENVELOPE BODYSTRUCTURE INTERNALDATE
  - BODY.PEEK[n.MIME] for every part n below the top (RFC 9051 section 6.4.5: "The MIME part
    specifier MUST be prefixed by one or more numeric part specifiers"), including nested parts
    and the parts of encapsulated messages;
  - BINARY.SIZE[n] (RFC 3516) for every part that is not a multipart.

The part numbers come from both servers' BODYSTRUCTURE (their union). The answers are parsed
into nested values (tests/lib/imap_parse.py) and compared field by field; a failure names the
message file, the item and the field, with both values.

Normalized before comparing, because RFC 2045 makes them case-insensitive and clients compare
them so: media types and subtypes, Content-Transfer-Encoding, parameter names, disposition types.
INTERNALDATE is compared as an instant (the zone it is shown in may differ). A NO is compared by
its response code ([UNKNOWN-CTE], ...), not its text.

Where Dovecot itself fails (BYE "Internal error", a dropped connection), there is nothing to
compare: Sealpost must then answer the command with a tagged OK or NO and keep the session.

A difference is either a Sealpost bug or is listed in KNOWN_DIFFERENCES with the RFC text that
makes Sealpost's answer right. Stale entries (no longer different) fail the test, so the table
stays true.

IMAP_COMPARE_PEER=dovecot compares Dovecot with a second Dovecot instead (a check of this test's
own machinery while Sealpost's IMAP server cannot answer).
"""

import datetime
import glob
import imaplib
import os
import socket
import unittest

import dovecot
import harness
import imap_parse as ip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIME_DIR = os.path.join(REPO, "..", "shared", "conformance", "mime")
PASSWORD = "imap compare password 1"
USER = "alice@example.com"
APPEND_FLAGS = r"(\Seen)"
APPEND_DATE = '"14-Nov-2023 22:13:20 +0100"'

# (message file relative to MIME_DIR, FETCH item) -> why Sealpost's answer is right, quoting the
# RFC. The item is named as in the FETCH response: "BODYSTRUCTURE", "ENVELOPE", "RFC822.SIZE",
# "BODY[2.MIME]", "BINARY.SIZE[1]". A file of "*" applies to every message.
KNOWN_DIFFERENCES = {
}

# --- BODYSTRUCTURE: parameters (RFC 2231)
_RFC2231 = ("RFC 9051 section 7.5.2 (BODYSTRUCTURE, body parameter parenthesized list): "
            "'Servers SHOULD decode parameter-value continuations and parameter-value character "
            "sets as described in [RFC2231] ... the server should decode them per [RFC2231], "
            "convert to UTF-8, concatenate'. Dovecot 2.3 joins continuations only and passes "
            "the charset'language'%XX form through unconverted.")
_BOUNDARY_2231 = ("RFC 2231 section 3 applies to every parameter, boundary included: the boundary "
                  "is boundary*=ansi-x3.4-1968''EeQfGwPcQSOJBaQU, and its delimiter lines are in "
                  "the body; Dovecot reads only a plain boundary= and so finds no parts.")
_BOUNDARY_EQUALS = ("RFC 2046 section 5.1.1: bchars include '=', so the boundary the message names "
                    "is the whole unquoted value, and every delimiter line of the body uses it; "
                    "Dovecot stops the value at the first '=' (boundary \"----\") and splits the "
                    "body at lines that merely start with it.")
_BINARY_MESSAGE = ("RFC 3516 section 4.2: BINARY returns the section after undoing its own "
                   "Content-Transfer-Encoding; a message/rfc822 part is 7bit, so it is returned as "
                   "it is. Dovecot re-encodes the parts inside the encapsulated message.")
_BINARY_OTHER_PART = ("RFC 3516 section 4.3: [UNKNOWN-CTE] is for a section whose own encoding "
                      "cannot be undone; this part's encoding is known (another part's is not, "
                      "or Dovecot's parser noted an error elsewhere in the message).")
_DISPOSITION_EMPTY = ("RFC 2183 section 2: disposition-type is a token; an empty "
                      "Content-Disposition names none, so the body disposition is NIL (RFC 9051 "
                      "section 7.4.2 'body disposition': a disposition type string and its "
                      "parameters); Dovecot answers (\"\" NIL).")
_RFC2045_DEFAULT = ("RFC 2045 section 5.2: 'It is also recommend that this default [text/plain; "
                    "charset=us-ascii] be assumed when a syntactically invalid Content-Type header "
                    "field is encountered.' ('Content-Type: text' has no subtype.) Dovecot answers "
                    "\"\" \"\".")
# --- ENVELOPE
_NO_PLACEHOLDERS = ("RFC 9051 section 7.5.2 (ENVELOPE): the address structure holds the mailbox "
                    "name (local-part) and host name the message gives; where it gives none, ours "
                    "is the empty string (a host of NIL would mean group syntax). Dovecot invents "
                    "MISSING_MAILBOX / MISSING_DOMAIN, names no RFC defines, which a client would "
                    "show or reply to as if they were an address.")
_UNFOLD = ("RFC 5322 section 2.2.3: 'Unfolding is accomplished by simply removing any CRLF that is "
           "immediately followed by WSP'; the whitespace itself stays. Dovecot turns it into "
           "single spaces.")
_TRIM = ("RFC 5322 section 3.3: date-time is surrounded by optional CFWS, which is not part of the "
         "date; the envelope date is the field's value without it. Dovecot keeps it.")
_FIRST_SUBJECT = ("RFC 5322 section 3.6 allows one Subject field; of two, ours is the first, which "
                  "is the one every other part of Sealpost (SEARCH SUBJECT, SORT SUBJECT, THREAD) "
                  "also reads, so the list a client shows and what it searches agree. Dovecot's "
                  "ENVELOPE shows the last.")
_LENIENT_ADDRESS = ("RFC 5322 section 3.4 (mailbox = name-addr / addr-spec): these fields are "
                    "malformed; ours reads them as the sender meant and as mail clients display "
                    "them (a bare 'user@host' after a display name is that name's address; an "
                    "unquoted '@' before '<addr>' is part of the display name), where Dovecot's "
                    "reading breaks them into placeholders or drops the rest of the list.")
_NULL_MEMBERS = ("RFC 5322 section 4.4: 'mailbox-list and address-list were allowed to have "
                 "\"null\" members. That is, there could be two or more commas in such a list "
                 "with nothing in between them', obs-addr-list = *([CFWS] \",\") address "
                 "*(\",\" [address / CFWS]): a null member holds no address, so ours lists none "
                 "for it; Dovecot adds (NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\").")
_BROKEN_ANGLE = ("RFC 5322 section 3.4.1: angle-addr = \"<\" addr-spec \">\"; "
                 "'<Undisclosed-Recipient:@mailman.enron.com;>' is not one (':' and ';' are "
                 "specials, section 3.2.3). Ours shows the text before and after its '@' as the "
                 "mailbox and host, as written; Dovecot keeps the local part up to the ':' and "
                 "replaces the host with SYNTAX_ERROR, a name no RFC defines, which a client "
                 "would show or reply to as an address.")
for _rel, _why in [
    ("cpython/msg_05.txt", _NO_PLACEHOLDERS), ("cpython/msg_15.txt", _NO_PLACEHOLDERS),
    ("cpython/msg_43.txt", _NO_PLACEHOLDERS),
    ("ruby-mail/error_emails/content_transfer_encoding_empty.eml", _NO_PLACEHOLDERS),
    ("ruby-mail/error_emails/encoding_madness.eml", _NO_PLACEHOLDERS),
    ("ruby-mail/mime_emails/raw_email11.eml", _NO_PLACEHOLDERS),
    ("ruby-mail/error_emails/missing_body.eml", _BROKEN_ANGLE),
    ("ruby-mail/rfc2822/example13.eml", _NO_PLACEHOLDERS),
    ("cpython/msg_27.txt", _UNFOLD), ("ruby-mail/rfc2822/example14.eml", _UNFOLD),
    ("ruby-mail/error_emails/bad_date_header.eml", _TRIM),
    ("ruby-mail/error_emails/bad_subject.eml", _TRIM),
    ("ruby-mail/mime_emails/raw_email_with_binary_encoded.eml", _FIRST_SUBJECT),
    ("ruby-mail/mime_emails/raw_email_with_multipart_mixed_quoted_boundary.eml", _FIRST_SUBJECT),
    ("ruby-mail/error_emails/weird_to_header.eml", _NULL_MEMBERS),
    ("ruby-mail/plain_emails/mix_caps_content_type.eml", _LENIENT_ADDRESS),
    ("ruby-mail/plain_emails/raw_email_with_at_display_name.eml", _LENIENT_ADDRESS),
    ("ruby-mail/rfc2822/example11.eml", _NULL_MEMBERS),
]:
    KNOWN_DIFFERENCES[(_rel, "ENVELOPE")] = _why

for _rel, _items, _why in [
    ("cpython/msg_14.txt", ["BODYSTRUCTURE"], _RFC2045_DEFAULT),
    ("cpython/msg_15.txt", ["BINARY.SIZE[1.1]", "BINARY.SIZE[1.2]", "BINARY.SIZE[2]"],
     _BINARY_OTHER_PART),
    ("cpython/msg_29.txt", ["BODYSTRUCTURE"], _RFC2231),
    ("cpython/msg_32.txt", ["BODYSTRUCTURE"], _RFC2231),
    ("cpython/msg_33.txt", ["BODYSTRUCTURE", "BODY[1.MIME]", "BINARY.SIZE[1]", "BODY[2.MIME]",
                            "BINARY.SIZE[2]"], _BOUNDARY_2231),
    ("ruby-mail/attachment_emails/attachment_with_encoded_name.eml", ["BODYSTRUCTURE"], _RFC2231),
    ("ruby-mail/attachment_emails/attachment_with_quoted_filename.eml", ["BODYSTRUCTURE"],
     _RFC2231),
    ("ruby-mail/plain_emails/raw_email8.eml", ["BODYSTRUCTURE"], _RFC2231),
    ("ruby-mail/attachment_emails/attachment_message_rfc822.eml", ["BINARY.SIZE[2]"],
     _BINARY_MESSAGE),
    ("ruby-mail/multipart_report_emails/multipart_report_multiple_status.eml",
     ["BINARY.SIZE[3]"], _BINARY_MESSAGE),
    ("ruby-mail/error_emails/content_transfer_encoding_qp_with_space.eml", ["BINARY.SIZE[2]"],
     _BINARY_OTHER_PART),
    ("ruby-mail/error_emails/content_transfer_encoding_x_uuencode.eml", ["BINARY.SIZE[1]"],
     _BINARY_OTHER_PART),
    ("ruby-mail/error_emails/content_transfer_encoding_with_semi_colon.eml",
     ["BINARY.SIZE[1]"], _BINARY_OTHER_PART),
    ("ruby-mail/error_emails/content_transfer_encoding_with_semi_colon.eml",
     ["BODYSTRUCTURE", "BINARY.SIZE[2]"],
     "RFC 2045 section 6.1: the mechanism is the token 'quoted-printable'; the ';' after it "
     "starts nothing the grammar defines and is ignored, so the part is quoted-printable and "
     "decodes. Dovecot calls it 7bit in BODYSTRUCTURE and refuses BINARY with [PARSE]."),
    ("ruby-mail/error_emails/empty_group_lists.eml", ["BINARY.SIZE[1]"],
     "RFC 3516 section 4.2: BINARY.SIZE is the size of what BINARY returns. Dovecot's own "
     "BINARY[1] of this part is 2107 octets, as ours; its BINARY.SIZE[1] says 1830."),
    ("ruby-mail/error_emails/missing_content_disposition.eml", ["BODYSTRUCTURE"],
     _DISPOSITION_EMPTY),
    ("ruby-mail/error_emails/multiple_invalid_content_dispositions.eml", ["BODYSTRUCTURE"],
     _DISPOSITION_EMPTY),
    ("ruby-mail/attachment_emails/attachment_with_unquoted_name.eml", ["BODYSTRUCTURE"],
     "RFC 2045 section 5.1 makes 'name=This is a test.txt' invalid (a value with spaces must be "
     "quoted); of the two readings, RFC 1122 section 1.2.2 ('be liberal in what you accept') "
     "picks the one the sender meant: the file is 'This is a test.txt', not 'This'."),
    ("ruby-mail/mime_emails/raw_email_with_binary_encoded.eml", ["BODYSTRUCTURE"],
     _BOUNDARY_EQUALS),
    ("ruby-mail/mime_emails/raw_email_with_illegal_boundary.eml",
     ["BODYSTRUCTURE", "BODY[3.MIME]"], _BOUNDARY_EQUALS),
    ("ruby-mail/plain_emails/raw_email_bad_time.eml", ["BODYSTRUCTURE"], _BOUNDARY_EQUALS),
]:
    for _item in _items:
        KNOWN_DIFFERENCES[(_rel, _item)] = _why


def message_files():
    files = glob.glob(os.path.join(MIME_DIR, "**", "*.eml"), recursive=True)
    files += glob.glob(os.path.join(MIME_DIR, "cpython", "msg_*.txt"))
    return sorted(os.path.relpath(f, MIME_DIR) for f in files)


# --- one IMAP session that survives the server dropping it ---------------------------------

class Session:
    def __init__(self, name, port, user, password):
        self.name, self.port, self.user, self.password = name, port, user, password
        self.imap = None
        self.connect()

    def connect(self):
        self.close()
        self.imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        self.imap.login(self.user, self.password)
        typ, data = self.imap.select("INBOX")
        if typ != "OK":
            raise AssertionError(f"{self.name}: SELECT INBOX: {typ} {data}")
        return int(data[0])

    def close(self):
        if self.imap is not None:
            try:
                self.imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            self.imap = None

    def drop(self):
        try:
            self.imap.shutdown()
        except OSError:
            pass
        self.imap = None

    def fetch(self, seq, items):
        """('OK', {ITEM: value}) | ('NO'|'BAD', response code) | ('BYE', text): the session is
        then reopened."""
        try:
            typ, data = self.imap.fetch(str(seq), f"({items})")
        except imaplib.IMAP4.abort as e:  # BYE or a dropped connection
            self.drop()
            try:
                self.connect()
            except (imaplib.IMAP4.error, OSError) as again:
                raise AssertionError(f"{self.name}: cannot log in again after {e}: {again}")
            return "BYE", str(e)
        except imaplib.IMAP4.error as e:  # BAD
            return "BAD", _code(str(e).encode())
        except (OSError, socket.timeout) as e:
            self.drop()
            self.connect()
            return "BYE", f"connection lost: {e}"
        if typ != "OK":
            return typ, _code(data[0] if data and isinstance(data[0], bytes) else b"")
        by_seq = ip.fetch_items([d for d in data if d is not None])
        if set(by_seq) != {seq}:
            # Unsolicited FETCH of other messages (flag changes) are allowed; ours must be there.
            if seq not in by_seq:
                raise AssertionError(f"{self.name}: FETCH {seq} ({items}) answered {data!r}")
        return "OK", by_seq[seq]


def _code(text):
    """The response code of a NO or BAD ('[UNKNOWN-CTE]'), or '' when there is none."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    text = text.split("=>", 1)[-1].strip()
    if text.startswith("["):
        end = text.find("]")
        return text[:end + 1].split(" ")[0].rstrip("]") + "]" if end > 0 else ""
    return ""


# --- normalization of what RFC 2045 makes case-insensitive ----------------------------------

def _ci(v):
    return v.lower() if isinstance(v, bytes) else v


def _params(v):
    if isinstance(v, list):
        return [_ci(x) if i % 2 == 0 else x for i, x in enumerate(v)]
    return v


def _disposition(v):
    if isinstance(v, list) and len(v) == 2:
        return [_ci(v[0]), _params(v[1])]
    return v


def normalize_body(body):
    if not isinstance(body, list) or not body:
        return body
    if ip.is_multipart(body):
        children = []
        i = 0
        while i < len(body) and isinstance(body[i], list):
            children.append(normalize_body(body[i]))
            i += 1
        rest = list(body[i:])
        if rest:
            rest[0] = _ci(rest[0])  # subtype
        if len(rest) > 1:
            rest[1] = _params(rest[1])
        if len(rest) > 2:
            rest[2] = _disposition(rest[2])
        return children + rest
    out = list(body)
    names = [n for n, _ in ip.body_fields(body)]
    for k, name in enumerate(names):
        if name in ("type", "subtype", "encoding"):
            out[k] = _ci(out[k])
        elif name == "params":
            out[k] = _params(out[k])
        elif name == "disposition":
            out[k] = _disposition(out[k])
        elif name == "body":
            out[k] = normalize_body(out[k])
    return out


def internaldate(value):
    text = value.decode() if isinstance(value, bytes) else str(value)
    return datetime.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()


def normalize(item, value):
    if item in ("BODYSTRUCTURE", "BODY"):
        return normalize_body(value)
    if item == "INTERNALDATE":
        try:
            return internaldate(value)
        except ValueError:
            return value
    return value


# --- the servers ---------------------------------------------------------------------------

def start_sealpost(test):
    mx = harness.Sealpost(extra="[access]\nallow_plaintext_on_loopback = true\n")
    test.addClassCleanup(mx.cleanup)
    port = harness.free_port()
    with open(mx.config) as f:
        text = f.read()
    if "\n[listen]\n" not in "\n" + text:
        raise AssertionError("the harness's config has no [listen] section")
    text = text.replace("[listen]\n", f'[listen]\nimap = "127.0.0.1:{port}"\n', 1)
    with open(mx.config, "w") as f:
        f.write(text)
    mx.cli("domain", "add", "example.com")
    pwfile = os.path.join(mx.dir, "imap-password")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    mx.cli("mailbox", "add", USER, "--password-file", pwfile)
    mx.start()
    harness.wait_for_port(port, proc=mx.proc)
    return mx, port


@unittest.skipUnless(os.path.isdir(MIME_DIR),
                     f"the shared MIME corpus is not there ({os.path.normpath(MIME_DIR)}): "
                     "it sits next to the repository, not in it")
@unittest.skipUnless(dovecot.available(), "Dovecot is not installed (dovecot-core, "
                     "dovecot-imapd: make deps-test installs them)")
class ImapDovecotCompareTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = message_files()
        cls.reference = dovecot.Dovecot(user=USER, password=PASSWORD)
        cls.addClassCleanup(cls.reference.cleanup)
        cls.reference.start()
        cls.peer_is_dovecot = os.environ.get("IMAP_COMPARE_PEER") == "dovecot"
        if cls.peer_is_dovecot:
            cls.other = dovecot.Dovecot(user=USER, password=PASSWORD)
            cls.addClassCleanup(cls.other.cleanup)
            cls.other.start()
            other_port, cls.other_name = cls.other.imap_port, "dovecot#2"
        else:
            cls.other, other_port = start_sealpost(cls)
            cls.other_name = "sealpost"
        cls.ref = Session("dovecot", cls.reference.imap_port, USER, PASSWORD)
        cls.addClassCleanup(cls.ref.close)
        cls.sp = Session(cls.other_name, other_port, USER, PASSWORD)
        cls.addClassCleanup(cls.sp.close)
        for rel in cls.files:
            with open(os.path.join(MIME_DIR, rel), "rb") as f:
                data = f.read()
            for s in (cls.ref, cls.sp):
                typ, resp = s.imap.append("INBOX", APPEND_FLAGS, APPEND_DATE, data)
                if typ != "OK":
                    raise AssertionError(f"{s.name}: APPEND {rel}: {typ} {resp}")
        cls.counts = (cls.ref.connect(), cls.sp.connect())

    def test_both_hold_every_message(self):
        self.assertEqual(len(self.files), 150, "the corpus README promises 150 messages")
        self.assertEqual(self.counts, (len(self.files), len(self.files)))

    def test_fetch_answers_match_dovecot(self):
        seen_known = set()
        compared = 0
        for seq, rel in enumerate(self.files, 1):
            with self.subTest(message=rel):
                problems, items = self.compare_message(seq, rel, seen_known)
                compared += items
                if problems:
                    self.fail(f"{rel} (message {seq}) differs from Dovecot "
                              "(dovecot's value != ours):\n  " + "\n  ".join(problems))
        self.assertGreater(compared, 600, "every message and part was compared")
        if not self.peer_is_dovecot:
            stale = sorted(set(KNOWN_DIFFERENCES) - seen_known)
            stale = [k for k in stale if k[0] != "*"]
            self.assertEqual(stale, [], "KNOWN_DIFFERENCES entries that no longer differ")

    def compare_message(self, seq, rel, seen_known):
        problems = []
        compared = 0

        def known(item):
            for key in ((rel, item), ("*", item)):
                if key in KNOWN_DIFFERENCES:
                    seen_known.add(key)
                    return True
            return False

        def check(item_request, answers):
            nonlocal compared
            compared += 1
            (rt, rv), (st, sv) = answers
            if st == "BYE":
                problems.append(f"{item_request}: {self.other_name} dropped the session: {sv}")
                return
            if rt == "BYE":
                # Dovecot failed (its log says why): nothing to compare against.
                if st not in ("OK", "NO"):
                    problems.append(f"{item_request}: dovecot failed ({rv}); "
                                    f"{self.other_name} answered {st} {sv}")
                return
            if rt != st or (rt != "OK" and rv != sv):
                if not known(item_request):
                    problems.append(f"{item_request}: dovecot {rt} {_short(rv)}, "
                                    f"{self.other_name} {st} {_short(sv)}")
                return
            if rt != "OK":
                return
            names = set(rv) | set(sv)
            for name in sorted(names):
                if name == "UID" or name == "FLAGS":
                    continue  # unsolicited with some servers; not what is compared here
                a, b = rv.get(name, "<absent>"), sv.get(name, "<absent>")
                diffs = ip.describe_differences(name, normalize(name, a), normalize(name, b))
                if diffs and not known(name):
                    problems.extend(diffs)

        first = "RFC822.SIZE ENVELOPE BODYSTRUCTURE INTERNALDATE"
        ra, sa = self.ref.fetch(seq, first), self.sp.fetch(seq, first)
        check(first, (ra, sa))
        secs = {}
        for typ, items in (ra, sa):
            if typ == "OK" and isinstance(items.get("BODYSTRUCTURE"), list):
                for sec, node in ip.sections(items["BODYSTRUCTURE"]):
                    secs.setdefault(sec, ip.is_multipart(node))
        for sec in sorted(secs, key=lambda s: [int(x) for x in s.split(".")]):
            requests = [f"BODY.PEEK[{sec}.MIME]"]
            if not secs[sec]:
                requests.append(f"BINARY.SIZE[{sec}]")
            for req in requests:
                answers = (self.ref.fetch(seq, req), self.sp.fetch(seq, req))
                item = req.replace("BODY.PEEK[", "BODY[")
                check(item, answers)
        return problems, compared


def _short(v, limit=200):
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + "..."


if __name__ == "__main__":
    unittest.main()
