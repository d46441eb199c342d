// What the server writes back needs the same grammar the parser reads (RFC 9051 section 9):
// these helpers write strings, atoms, flag lists, sequence sets and section specs so that any
// value, whatever its octets, comes out as valid syntax. Strings reuse mime/imap_structure's
// rules (quoted when printable ASCII, else a literal) and add what UTF8=ACCEPT allows: UTF-8 in
// quoted strings (RFC 6855 section 3, RFC 9051).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imap/protocol/command.hpp"

namespace sealpost::imap::protocol {

// A string: quoted when it can be (printable ASCII, or valid UTF-8 with `utf8`), else a literal.
void append_string(std::string& out, std::string_view s, bool utf8 = false);
// An nstring: NIL when absent.
void append_nstring(std::string& out, std::optional<std::string_view> s, bool utf8 = false);
// An astring: an atom when `s` is one (and not "NIL", which would read as nil), else a string.
// Mailbox names in LIST, STATUS and responses are astrings.
void append_astring(std::string& out, std::string_view s, bool utf8 = false);
// A literal8 (RFC 3516): "~{n}" CRLF and the octets, for BINARY content that holds NUL.
void append_literal8(std::string& out, std::string_view bytes);
// "(" flags separated by spaces ")": flags are atoms or "\" atoms, as the parser accepts them.
void append_flag_list(std::string& out, std::span<const std::string> flags);
// A sequence set for numbers in their order, ascending runs compressed ("1:3,7,9:10"): the
// order matters for COPYUID, where source and destination UIDs correspond (RFC 4315).
void append_sequence_set(std::string& out, std::span<const std::uint32_t> numbers);
// A section spec as the FETCH response names it ("1.2.HEADER.FIELDS (DATE FROM)"), without
// the brackets.
void append_section(std::string& out, const Section& section);

}  // namespace sealpost::imap::protocol
