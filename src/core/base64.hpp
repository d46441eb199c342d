// One base64 decoder (RFC 4648 section 4's alphabet) for every place mail and its protocols use
// base64, each with the leniency its standard asks for. The encoder and the strict form check
// (is_base64) are in core/strings.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost::core {

enum class Base64Mode {
  // RFC 4648 exactly, as SASL exchanges carry it (IMAP, POP3, SMTP AUTH): groups of four
  // characters of the alphabet, "=" padding only at the end; anything else is refused. Decoded
  // without tables indexed by the input, since SASL responses carry passwords.
  kStrict,
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

}  // namespace sealpost::core
