// Text in a MIME charset, converted to UTF-8 (for display, search and IMAP). Never fails: bytes a
// charset cannot decode become U+FFFD. Only the charsets mail really uses are decoded (an
// allowlist, see charset.cpp; the rest of glibc's iconv converters are never opened). A label
// outside it, or one that means "unknown" ("x-unknown", "unknown-8bit"), keeps its bytes: they
// are read as UTF-8 when they are valid UTF-8, else as Latin-1, which every byte sequence is.
// The output is at most `max_output` bytes, cut at a character boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sealpost::mime {

inline constexpr std::size_t kMaxCharsetOutput = std::size_t{64} * 1024 * 1024;

// Appends `bytes`, decoded from `charset`, to `out` as UTF-8, stopping before `out` would exceed
// `max_output` bytes.
void append_utf8(std::string& out, std::string_view bytes, std::string_view charset,
                 std::size_t max_output = kMaxCharsetOutput);

inline std::string to_utf8(std::string_view bytes, std::string_view charset,
                           std::size_t max_output = kMaxCharsetOutput) {
  std::string out;
  append_utf8(out, bytes, charset, max_output);
  return out;
}

// A charset label as this module reads it: lowercase, quotes and an RFC 2231 "*language" suffix
// removed, aliases resolved ("utf8" -> "utf-8", "ks_c_5601-1987" -> "cp949"); "" when the label
// means "unknown" (us-ascii, x-unknown, empty) or is not on the allowlist.
std::string canonical_charset(std::string_view charset);

// True when the label is absent (RFC 2045's default) or on the allowlist. Text in any other
// charset has no reliable reading, so text search skips it rather than match its guessed bytes.
bool is_allowed_charset(std::string_view charset);

}  // namespace sealpost::mime
