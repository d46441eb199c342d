#include "core/utf8.hpp"

namespace sealpost::core {

Utf8Sequence next_utf8(std::string_view s) noexcept {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (lead < 0x80) return {1, lead, 0};
  std::size_t need = 0;  // continuation octets
  char32_t cp = 0;
  unsigned char lo = 0x80;  // the second octet's range: what keeps out overlong forms,
  unsigned char hi = 0xBF;  // surrogates and code points past U+10FFFF
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {0, 0, 1};
  }
  for (std::size_t k = 1; k <= need; ++k) {
    const auto c = k < s.size() ? static_cast<unsigned char>(s[k]) : 0;
    const bool ok = k < s.size() && (k == 1 ? (c >= lo && c <= hi) : is_utf8_continuation(c));
    if (!ok) return {0, 0, k};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {need + 1, cp, 0};
}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto seq = next_utf8(s.substr(i));
    if (seq.length == 0) return false;
    i += seq.length;
  }
  return true;
}

std::size_t encode_utf8(char32_t cp, char (&out)[4]) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

void append_utf8(std::string& out, char32_t cp) {
  char buf[4];
  out.append(buf, encode_utf8(cp, buf));
}

}  // namespace sealpost::core
