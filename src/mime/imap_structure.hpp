// IMAP's views of a parsed message (RFC 9051 section 7.5.2, compatible with RFC 3501 section
// 7.4.2): ENVELOPE, BODY and BODYSTRUCTURE, computed once at delivery and cached with the
// message, and the part a section number names.
//
// Strings are quoted when they hold only printable ASCII (and tab), else sent as literals
// ("{n}\r\n..."), which IMAP4rev1 clients accept for 8-bit text too; absent values are NIL. NUL
// bytes are dropped. Header values are unfolded but not decoded: clients decode RFC 2047 words.
// Conventions follow Dovecot where the RFCs leave a choice: a text part without a charset gets
// ("charset" "us-ascii"); Content-Transfer-Encoding defaults to "7bit"; a multipart without parts
// is shown with one empty text/plain part; Content-Language is always a list; an RFC 2231 value
// outside ASCII is sent as name* "utf-8'lang'%XX" so IMAP4rev1 clients can read it; a mailbox
// without a domain gets host "" (NIL would mark a group). Sizes are the stored bytes' (the store
// keeps messages with CRLF line ends, as IMAP serves them).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.hpp"

namespace sealpost::mime {

// One element of an ENVELOPE address list: a mailbox, or a group's start (mailbox holds the
// group's name, host is NIL) or end (all NIL).
struct EnvelopeAddress {
  std::optional<std::string> name;  // display name, quotes removed (encoded words kept)
  std::optional<std::string> adl;   // obsolete source route ("@a,@b")
  std::optional<std::string> mailbox;
  std::optional<std::string> host;
};

// An RFC 5322 address list (From, To...) as ENVELOPE presents it, reading broken lists the way
// clients do ("Name user@host" without angle brackets, "user@host (Name)", a group without ';').
// At most `max` mailboxes.
std::vector<EnvelopeAddress> parse_envelope_addresses(std::string_view value,
                                                      std::size_t max = 1000);

// Appends `s` as an IMAP string (quoted or literal) / nstring (NIL when absent).
void append_imap_string(std::string& out, std::string_view s);
void append_imap_nstring(std::string& out, std::optional<std::string_view> s);

// The ENVELOPE of a message: `message` is Message::root or the child of a message/rfc822 part.
std::string imap_envelope(const Part& message);

struct BodyStructureOptions {
  bool extensible = true;  // BODYSTRUCTURE; false gives BODY
  // IMAP4rev2 describes message/global parts like message/rfc822 (envelope, body, lines);
  // IMAP4rev1 clients know only message/rfc822 that way.
  bool imap4rev2 = false;
};

// The BODYSTRUCTURE (or BODY) of `part`, Message::root for the whole message.
std::string imap_body_structure(const Part& part, BodyStructureOptions options = {});

// What a store caches per message at delivery.
struct ImapStructure {
  std::string envelope;
  std::string body;
  std::string body_structure;
};
ImapStructure imap_structure(const Message& message);

// The part a section's part number names ("1", "2.1.3"; RFC 3501 section 6.4.5): a multipart's
// children are numbered from 1; a message that is not multipart has one part, 1, its body (the
// returned part is then the message itself, whose body is meant); "N.M" inside a message/rfc822
// part N counts within the encapsulated message. A multipart without body parts has one empty
// part, 1 (what BODYSTRUCTURE shows; Dovecot serves it alike). nullptr when there is no such
// part or the number is malformed.
const Part* find_part(const Message& message, std::string_view section_path);

}  // namespace sealpost::mime
