// Base64 (RFC 4648 section 4's alphabet, "=" padding): one encoder, one strict form check, and
// one decoder for every place mail and its protocols use base64, each with the leniency its
// standard asks for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::core {

// `bytes` encoded on one line, padded.
std::string base64_encode(std::string_view bytes);
std::string base64_encode(std::span<const std::uint8_t> bytes);

// Whether `s` is base64 as RFC 4648 writes it (and IMAP, POP3 and SMTP's SASL exchanges): groups
// of four, "=" padding only at the end. The empty string is.
bool is_base64(std::string_view s) noexcept;

enum class Base64Mode {
  // RFC 4648 exactly, as SASL exchanges carry it: is_base64(), and the bits a last group leaves
  // over are zero; anything else is refused. Decoded without tables indexed by the input, since
  // SASL responses carry passwords.
  kStrict,
  // DKIM's b=, bh= and p= (RFC 6376 section 3.5): folding whitespace (SP, HTAB, CR, LF) anywhere
  // is skipped; padding may be missing, but "=" only ends the value, at most twice, after a
  // multiple of four characters; a last group of one character is refused.
  kFolded,
  // RFC 2047 section 4.1's "B" encoded words: the alphabet up to the first "=" (padding may be
  // missing); any other character is refused.
  kWord,
  // RFC 2045 section 6.8's bodies: characters outside the alphabet (line breaks, junk) are
  // skipped, decoding stops at the first "="; never refused.
  kLenient,
};

// The octets `text` encodes, at most `max` of them (what passes is cut off); nullopt when the
// mode refuses the text.
std::optional<std::string> base64_decode(std::string_view text, Base64Mode mode,
                                         std::size_t max = SIZE_MAX);
// The same as bytes (signatures, keys).
std::optional<std::vector<std::uint8_t>> base64_decode_bytes(std::string_view text,
                                                             Base64Mode mode);

}  // namespace sealpost::core
