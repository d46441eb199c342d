// The MIME structure of a message (RFC 2045/2046), parsed once at delivery without copying: every
// part is a set of byte ranges into the raw message (header, body, and for multiparts the
// preamble, the delimiter lines and the epilogue), so a part's bytes are served straight from the
// stored message (IMAP BODY[1.2], BODY[1.2.MIME]) and the ranges of the tree, concatenated by
// serialize(), give back the message byte for byte.
//
// Boundaries are found the way Dovecot's message parser finds them: a line starting with "--"
// and a boundary of an open multipart (its prefix: RFC 2046 section 5.1.1 lets padding follow),
// the longest match winning and the innermost among equals, so a nested multipart may reuse its
// parent's boundary. A parent's boundary ends every part open inside it; a missing final
// delimiter ends the multipart at the end of its parent (or of the input); a multipart whose
// delimiter never appears is a leaf. The line break before a delimiter belongs to the delimiter.
// A boundary line ends a part's header too. Lines end in CRLF or a bare LF.
//
// Bounded: past Limits::max_depth, max_parts or max_message_size the rest is an opaque leaf body
// (Message::truncated tells), header fields past max_header_fields are not kept. Work is linear
// in the input (times the nesting depth, for boundary comparisons); there is no unbounded
// recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "mime/header.hpp"
#include "mime/params.hpp"

namespace sealpost::mime {

struct Limits {
  // Structure is looked for in the first max_message_size bytes; the part open there runs to
  // the end.
  std::size_t max_message_size = std::size_t{64} * 1024 * 1024;
  // Nesting of multiparts and message/rfc822 parts; deeper containers are leaves.
  std::size_t max_depth = 32;
  // Parts in the whole tree (the message itself counts).
  std::size_t max_parts = 10'000;
  // Header fields kept per part (the header is still read to its end).
  std::size_t max_header_fields = 1'000;
  // Parameters kept per Content-Type and Content-Disposition.
  std::size_t max_params = kMaxParams;
  // Longer boundary parameters are ignored (RFC 2046 allows 70 characters).
  std::size_t max_boundary_size = 200;
};

struct Range {
  std::size_t offset = 0;
  std::size_t size = 0;

  [[nodiscard]] constexpr std::size_t end() const noexcept { return offset + size; }
  [[nodiscard]] std::string_view in(std::string_view raw) const { return raw.substr(offset, size); }
};

enum class PartKind : std::uint8_t {
  kLeaf,       // a body without structure (also a multipart whose boundary never appears)
  kMultipart,  // children: the body parts between the delimiters (maybe none: "--b--" at once)
  kMessage,    // message/rfc822 or message/global: one child, the encapsulated message
};

struct Part {
  PartKind kind = PartKind::kLeaf;
  std::size_t depth = 0;  // 0 for the message itself

  Range header;  // the header fields and the empty line that ends them, when there is one
  Range body;    // after the header, up to (not including) the line break before a delimiter
  std::size_t body_lines = 0;  // line feeds in the body (IMAP's body-fld-lines)
  std::vector<HeaderField> fields;

  // Content-Type as given, or RFC 2045's default: text/plain; charset=us-ascii (message/rfc822
  // inside multipart/digest, RFC 2046 section 5.1.5). An invalid one counts as absent.
  ContentType content_type;
  bool has_content_type = false;
  std::string transfer_encoding;  // Content-Transfer-Encoding token, lowercase; "" when absent
  // The field is there but names no mechanism ("", "quoted printable", "text/html"): shown as
  // 7bit, and nothing can undo it (IMAP BINARY answers [UNKNOWN-CTE]).
  bool transfer_encoding_invalid = false;
  // The first of each field, as written (trimmed; folding kept), "" when absent.
  std::string_view content_id;
  std::string_view description;
  std::string_view md5;
  std::string_view language;
  std::string_view location;
  bool has_disposition = false;
  ContentDisposition disposition;

  // The delimiter line before this part in its multipart parent ("[CR]LF--boundary[...]CRLF").
  Range delimiter;
  // kMultipart only: before the first delimiter, the close delimiter ("[CR]LF--boundary--...",
  // empty when missing) and what follows it.
  Range preamble;
  Range close_delimiter;
  Range epilogue;

  std::vector<Part> children;

  [[nodiscard]] bool is_text() const { return content_type.type == "text"; }
  [[nodiscard]] bool is(std::string_view type, std::string_view subtype) const {
    return content_type.type == type && content_type.subtype == subtype;
  }
  // The part's bytes, header included.
  [[nodiscard]] Range extent() const { return {header.offset, body.end() - header.offset}; }
};

struct Message {
  std::string_view raw;
  Part root;
  std::size_t part_count = 0;
  bool truncated = false;  // a limit left some of the structure unparsed
};

enum class MessageError {
  kTooLarge,  // 4 GiB or more: IMAP's sizes are 32-bit numbers
};

Result<Message, MessageError> parse_message(std::string_view raw, const Limits& limits = {});

// The first field called `name` (ASCII case-insensitive), or nullptr.
const HeaderField* find_field(const Part& part, std::string_view name) noexcept;

// Concatenates the tree's ranges: equals the raw message for any parsed message.
std::string serialize(const Message& message);

}  // namespace sealpost::mime
