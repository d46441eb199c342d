// Test helper: test data written with LF line ends, as the CRLF text SMTP carries (bare LFs
// become CRLF; existing CRLFs stay).
#pragma once

#include <string>
#include <string_view>

namespace sealpost::testing {

inline std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

}  // namespace sealpost::testing
