"""A small, strict IMAP response parser: FETCH responses (with literals) into nested Python values,
so tests compare structures and name the item that differs.

Values:
    None          NIL
    int           a number
    bytes         a string: quoted, literal {n} or literal8 ~{n} (the same value either way)
    Atom (a str)  any other atom: \\Seen, BODY[1.MIME], BINARY.SIZE[2], FLAGS, ...
    list          a parenthesized list

Section atoms keep their brackets whole: `BODY[HEADER.FIELDS (FROM SUBJECT)]<0>` is one atom.
"""


class ParseError(ValueError):
    pass


class Atom(str):
    """An IMAP atom (not NIL, not a number). Compares equal to the same str."""

    def __repr__(self):
        return f"Atom({str.__repr__(self)})"


_ATOM_END = b" ()\r\n"


class _Parser:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def error(self, what):
        start = max(0, self.pos - 40)
        raise ParseError(f"{what} at offset {self.pos}: ...{self.data[start:self.pos]!r} "
                         f"<here> {self.data[self.pos:self.pos + 40]!r}")

    def peek(self):
        return self.data[self.pos:self.pos + 1]

    def skip_space(self):
        if self.peek() != b" ":
            self.error("expected SP")
        self.pos += 1

    def value(self):
        c = self.peek()
        if c == b"(":
            return self.list()
        if c == b'"':
            return self.quoted()
        if c == b"{" or (c == b"~" and self.data[self.pos + 1:self.pos + 2] == b"{"):
            return self.literal()
        if c in (b"", b")", b" ", b"\r", b"\n"):
            self.error("expected a value")
        return self.atom()

    def list(self):
        self.pos += 1  # (
        out = []
        if self.peek() == b")":
            self.pos += 1
            return out
        while True:
            out.append(self.value())
            c = self.peek()
            if c == b")":
                self.pos += 1
                return out
            if c == b"(" and isinstance(out[-1], list):
                continue  # body-type-mpart = 1*body SP media-subtype: bodies are adjacent
            if c != b" ":
                self.error("expected SP or ')' in a list")
            self.pos += 1
            # Some servers put a space before ')' (tolerated, as clients do).
            if self.peek() == b")":
                self.pos += 1
                return out

    def quoted(self):
        self.pos += 1
        out = bytearray()
        while True:
            if self.pos >= len(self.data):
                self.error("unterminated quoted string")
            c = self.data[self.pos]
            if c == 0x22:  # "
                self.pos += 1
                return bytes(out)
            if c == 0x5C:  # backslash: quoted-specials only
                nxt = self.data[self.pos + 1:self.pos + 2]
                if nxt not in (b'"', b"\\"):
                    self.error("bad escape in a quoted string")
                out += nxt
                self.pos += 2
                continue
            if c in (0x0D, 0x0A):
                self.error("CR or LF in a quoted string")
            out.append(c)
            self.pos += 1

    def literal(self):
        if self.peek() == b"~":
            self.pos += 1
        end = self.data.find(b"}", self.pos)
        if end < 0:
            self.error("unterminated literal length")
        count = self.data[self.pos + 1:end]
        if not count.isdigit():
            self.error("bad literal length")
        n = int(count)
        if self.data[end + 1:end + 3] != b"\r\n":
            self.pos = end + 1
            self.error("literal length not followed by CRLF")
        start = end + 3
        if start + n > len(self.data):
            self.error(f"literal of {n} octets is truncated")
        self.pos = start + n
        return self.data[start:start + n]

    def atom(self):
        start = self.pos
        depth = 0
        while self.pos < len(self.data):
            c = self.data[self.pos:self.pos + 1]
            if c == b"[":
                depth += 1
            elif c == b"]":
                depth -= 1
            elif depth == 0 and c in (b" ", b"(", b")", b"\r", b"\n"):
                break
            elif c in (b"\r", b"\n"):
                self.error("line end inside a section")
            self.pos += 1
        if depth:
            self.error("unbalanced '[' in an atom")
        text = self.data[start:self.pos].decode("utf-8", "surrogateescape")
        if not text:
            self.error("empty atom")
        if text.upper() == "NIL":
            return None
        if text.isdigit():
            return int(text)
        return Atom(text)


def parse_values(data):
    """Parses SP-separated values to the end of `data` (a trailing CRLF is allowed)."""
    if data.endswith(b"\r\n"):
        data = data[:-2]
    p = _Parser(data)
    out = []
    while p.pos < len(data):
        out.append(p.value())
        if p.pos < len(data):
            p.skip_space()
    return out


def join_imaplib(data):
    """imaplib splits a response at its literals: [(b'1 (BODY[] {5}', b'hello'), b')', ...].
    Returns the responses as whole byte strings (the literal markers kept), one per response.
    A tuple is always followed by the rest of its line; a plain bytes element ends a response."""
    out, cur = [], b""
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            head, literal = item
            cur += head + b"\r\n" + literal
        else:
            out.append(cur + item)
            cur = b""
    if cur:
        out.append(cur)
    return out


def parse_fetch(response):
    """`* 12 FETCH (...)` or imaplib's `12 (...)` -> (12, {ITEM: value}). Item names are upper
    case; a section atom keeps its case inside the brackets as the server sent it, except that
    BODY.PEEK is never echoed (RFC 9051: the reply names BODY[...])."""
    values = parse_values(response)
    if values and values[0] == "*":
        values = values[1:]
    if len(values) == 3 and isinstance(values[1], Atom) and values[1].upper() == "FETCH":
        values = [values[0], values[2]]
    if len(values) != 2 or not isinstance(values[0], int) or not isinstance(values[1], list):
        raise ParseError(f"not a FETCH response: {response[:200]!r}")
    seq, items = values
    if len(items) % 2:
        raise ParseError(f"odd number of FETCH item names and values: {items!r}")
    out = {}
    for i in range(0, len(items), 2):
        name = items[i]
        if not isinstance(name, Atom):
            raise ParseError(f"FETCH item name is not an atom: {name!r}")
        key = _item_key(name)
        if key in out:
            raise ParseError(f"FETCH item {key} twice")
        out[key] = items[i + 1]
    return seq, out


def _item_key(name):
    bracket = name.find("[")
    if bracket < 0:
        return name.upper()
    return name[:bracket].upper() + name[bracket:].upper()


def fetch_items(imaplib_data):
    """imaplib's FETCH data -> {seq: {ITEM: value}}, merging several responses for one message."""
    out = {}
    for response in join_imaplib(imaplib_data):
        seq, items = parse_fetch(response)
        merged = out.setdefault(seq, {})
        for k, v in items.items():
            if k in merged and merged[k] != v:
                raise ParseError(f"message {seq}: {k} sent twice with different values")
            merged[k] = v
    return out


# --- BODYSTRUCTURE and ENVELOPE -------------------------------------------------------------

ENVELOPE_FIELDS = ("date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
                   "in-reply-to", "message-id")
ADDRESS_FIELDS = ("name", "adl", "mailbox", "host")


def is_multipart(body):
    return isinstance(body, list) and bool(body) and isinstance(body[0], list)


def _lower(v):
    return v.decode("latin-1").lower() if isinstance(v, bytes) else (v or "")


def media_type(body):
    """'multipart/mixed', 'text/plain', ... of one BODYSTRUCTURE node (lower case)."""
    if is_multipart(body):
        i = 0
        while i < len(body) and isinstance(body[i], list):
            i += 1
        return "multipart/" + _lower(body[i] if i < len(body) else None)
    return _lower(body[0]) + "/" + _lower(body[1])


def is_message(body):
    """message/rfc822 or message/global: the body carries an envelope and a nested body."""
    return (not is_multipart(body) and media_type(body) in ("message/rfc822", "message/global")
            and len(body) >= 10 and isinstance(body[8], list))


def body_fields(body):
    """Names the fields of one BODYSTRUCTURE node: [(name, value)], children excluded for a
    multipart (they are their own nodes). Names follow RFC 9051's grammar."""
    if is_multipart(body):
        i = 0
        while isinstance(body[i], list):
            i += 1
        names = ["subtype", "params", "disposition", "language", "location"]
        rest = body[i:]
    else:
        names = ["type", "subtype", "params", "id", "description", "encoding", "size"]
        mt = media_type(body)
        if is_message(body):
            names += ["envelope", "body", "lines"]
        elif mt.startswith("text/"):
            names += ["lines"]
        names += ["md5", "disposition", "language", "location"]
        rest = body
    out = []
    for k, v in enumerate(rest):
        name = names[k] if k < len(names) else f"extension{k - len(names) + 1}"
        out.append((name, v))
    return out


def sections(body, prefix=""):
    """The part numbers (RFC 9051 section 6.4.5) of a message with this BODYSTRUCTURE:
    [(section, node)], depth first. A non-multipart message has part 1; a multipart's children
    are 1, 2, ...; a message/rfc822 part n's encapsulated message is numbered below n."""
    out = []
    if is_multipart(body):
        i = 0
        while i < len(body) and isinstance(body[i], list):
            sec = f"{prefix}{i + 1}"
            out.append((sec, body[i]))
            out += _below(body[i], sec)
            i += 1
    else:
        sec = f"{prefix}1"
        out.append((sec, body))
        out += _below(body, sec)
    return out


def _below(node, sec):
    if is_multipart(node):
        return sections(node, sec + ".")
    if is_message(node):
        inner = node[8]
        if is_multipart(inner):
            return sections(inner, sec + ".")
        # A non-multipart encapsulated message: its body is part sec.1.
        return [(f"{sec}.1", inner)] + _below(inner, f"{sec}.1")
    return []


def describe_differences(item, a, b):
    """The differences between two values of one FETCH item, as readable lines naming the
    field: 'BODYSTRUCTURE part 2.1 encoding: b"7bit" != b"base64"'. Empty when equal."""
    out = []
    if item == "BODYSTRUCTURE" or item == "BODY":
        _diff_body(item, a, b, "top", out)
    elif item == "ENVELOPE":
        _diff_envelope(item, a, b, out)
    else:
        _diff_plain(item, a, b, out)
    return out


def _diff_plain(path, a, b, out):
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff_plain(f"{path}[{i}]", x, y, out)
    elif a != b:
        out.append(f"{path}: {_show(a)} != {_show(b)}")


def _diff_envelope(path, a, b, out):
    if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b) == 10):
        _diff_plain(path, a, b, out)
        return
    for name, x, y in zip(ENVELOPE_FIELDS, a, b):
        if name in ("from", "sender", "reply-to", "to", "cc", "bcc") and \
                isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (ax, ay) in enumerate(zip(x, y)):
                if isinstance(ax, list) and isinstance(ay, list) and len(ax) == len(ay) == 4:
                    for fname, fx, fy in zip(ADDRESS_FIELDS, ax, ay):
                        _diff_plain(f"{path} {name}[{i}].{fname}", fx, fy, out)
                else:
                    _diff_plain(f"{path} {name}[{i}]", ax, ay, out)
        else:
            _diff_plain(f"{path} {name}", x, y, out)


def _children(body):
    i = 0
    while i < len(body) and isinstance(body[i], list):
        i += 1
    return body[:i]


def _diff_body(path, a, b, label, out, prefix=None):
    """label names this node ('top', '2', '2.1', '3 (encapsulated)'); prefix numbers its
    children ('' at the top, '2.' below part 2)."""
    where = f"{path} part {label}"
    if prefix is None:
        prefix = "" if label == "top" else label + "."
    if not isinstance(a, list) or not isinstance(b, list) or not a or not b:
        _diff_plain(where, a, b, out)
        return
    if is_multipart(a) != is_multipart(b):
        out.append(f"{where}: {media_type(a)} != {media_type(b)}: {_show(a)} != {_show(b)}")
        return
    if is_multipart(a):
        ca, cb = _children(a), _children(b)
        if len(ca) != len(cb):
            out.append(f"{where}: {len(ca)} != {len(cb)} child parts")
        for i, (x, y) in enumerate(zip(ca, cb)):
            _diff_body(path, x, y, f"{prefix}{i + 1}", out)
    fa, fb = body_fields(a), body_fields(b)
    da, db = dict(fa), dict(fb)
    names = [n for n, _ in fa] + [n for n, _ in fb if n not in da]
    for name in names:
        if name not in da or name not in db:
            out.append(f"{where} {name}: {_show(da.get(name, '<absent>'))} != "
                       f"{_show(db.get(name, '<absent>'))}")
        elif name == "body":
            # The encapsulated message of part n: a multipart's children are n.1, n.2, ...;
            # a single part is n.1.
            x, y = da[name], db[name]
            n = "1" if label == "top" else label
            if is_multipart(x) and is_multipart(y):
                _diff_body(path, x, y, f"{n} (encapsulated)", out, prefix=f"{n}.")
            else:
                _diff_body(path, x, y, f"{n}.1", out)
        elif name == "envelope":
            _diff_envelope(f"{where} envelope", da[name], db[name], out)
        else:
            _diff_plain(f"{where} {name}", da[name], db[name], out)


def _show(v, limit=300):
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"
