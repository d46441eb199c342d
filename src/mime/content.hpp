// A message's content as text: Content-Transfer-Encoding undone (base64, quoted-printable),
// RFC 5322 dates read, and the words a search looks through (the text parts, decoded to UTF-8).
// All tolerant of the broken input real mail carries, and bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mime/message.hpp"

namespace sealpost::mime {

// Base64 (characters outside the alphabet skipped, padding optional) and quoted-printable (soft
// line breaks removed, malformed "=" kept as written); other encodings (7bit, 8bit, binary,
// unknown) as they are. At most `max_output` bytes.
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding,
                                     std::size_t max_output);

// An RFC 5322 date-time (section 3.3, with the obsolete forms of 4.3: two-digit years, zone
// names, comments, missing seconds) as Unix time; nullopt when it cannot be read.
std::optional<std::int64_t> parse_rfc5322_date(std::string_view value);
// Unix time as an RFC 5322 date-time in UTC: "Fri, 04 Dec 2026 22:10:00 +0000" (times before
// 1970 or after 9999 are clamped to those years' ends).
std::string format_rfc5322_date(std::int64_t unix_time);

// A text part's body as UTF-8, as the text search reads it: Content-Transfer-Encoding undone and
// the part's charset converted (HTML stays markup); nullopt when the charset is not on the
// allowlist (charset.hpp). `raw` is the message the part belongs to. At most `max_output` bytes.
std::optional<std::string> decoded_text(const Part& part, std::string_view raw,
                                        std::size_t max_output);

// The text a search looks through: each text/plain and text/html part that is not an
// attachment and whose charset is on the allowlist (charset.hpp), decoded to UTF-8 (HTML tags
// and entities reduced to text), parts separated by a line break. At most `max_output` bytes.
std::string searchable_text(const Message& message, std::size_t max_output);

// The pieces of searchable_text, for a reader that has some parts' text already (the content
// filter takes an HTML part's from its own parse):
// - whether `part` is one of the parts it reads (a text/plain or text/html leaf, not an
//   attachment);
bool is_searchable_text(const Part& part);
// - HTML reduced to text: a space for each tag, the common entities decoded;
std::string html_to_text(std::string_view html, std::size_t max_output);
// - a part's text added: after a line break when `out` has text already, all of `out` at most
//   `max_output` bytes.
void append_searchable_text(std::string& out, std::string_view text, std::size_t max_output);

}  // namespace sealpost::mime
