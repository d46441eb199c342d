// One UTF-8 decoder (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) for every
// layer that reads or checks UTF-8: MIME, IMAP's mailbox names, DSN and TLS-RPT text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sealpost::core {

constexpr bool is_utf8_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

struct Utf8Sequence {
  // Octets of the well-formed sequence at the front; 0 when there is none.
  std::size_t length = 0;
  char32_t code_point = 0;
  // When there is none: the octets of the maximal ill-formed subpart there (at least 1), which
  // Unicode's recommended practice replaces with one U+FFFD.
  std::size_t ill_formed = 0;
};

// The sequence at the front of `s` (which must not be empty).
Utf8Sequence next_utf8(std::string_view s) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

// The UTF-8 form of `cp` (at most U+10FFFF, not a surrogate) into `out`; returns its length.
std::size_t encode_utf8(char32_t cp, char (&out)[4]) noexcept;
void append_utf8(std::string& out, char32_t cp);

}  // namespace sealpost::core
