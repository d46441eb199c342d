#include "core/base64.hpp"

#include <algorithm>
#include <cstdint>

namespace sealpost::core {

namespace {

// -1 when lo <= c <= hi, else 0, without a branch (c is an octet: every difference fits).
constexpr int in_range(int c, int lo, int hi) noexcept {
  return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

// The 6-bit value of a base64 character, or -1; constant time in `c` (no branch, no table).
constexpr int value_of(char ch) noexcept {
  const int c = static_cast<unsigned char>(ch);
  const int upper = in_range(c, 'A', 'Z');
  const int lower = in_range(c, 'a', 'z');
  const int digit = in_range(c, '0', '9');
  const int plus = in_range(c, '+', '+');
  const int slash = in_range(c, '/', '/');
  const int value = (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) |
                    (plus & 62) | (slash & 63);
  const int valid = upper | lower | digit | plus | slash;
  return value | ~valid;
}

static_assert(value_of('A') == 0 && value_of('Z') == 25 && value_of('a') == 26 &&
              value_of('z') == 51 && value_of('0') == 52 && value_of('9') == 61 &&
              value_of('+') == 62 && value_of('/') == 63);
static_assert(value_of('=') == -1 && value_of('-') == -1 && value_of('\0') == -1 &&
              value_of('\xff') == -1 && value_of('@') == -1 && value_of('[') == -1);

// Strict RFC 4648: a multiple of four characters, at most two "=" and only at the end.
bool strict_form(std::string_view text) noexcept {
  if (text.size() % 4 != 0) return false;
  std::size_t body = text.size();
  if (body > 0 && text[body - 1] == '=') --body;
  if (body > 0 && text[body - 1] == '=') --body;
  for (std::size_t i = 0; i < body; ++i) {
    if (value_of(text[i]) < 0) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text, Base64Mode mode, std::size_t max) {
  if (mode == Base64Mode::kStrict && !strict_form(text)) return std::nullopt;
  std::string out;
  out.reserve(std::min(max, text.size() / 4 * 3 + 3));
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=') break;
    const int v = value_of(c);
    if (v < 0) {
      if (mode == Base64Mode::kLenient) continue;
      return std::nullopt;  // kWord; kStrict's form was checked
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() >= max) break;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // RFC 4648 section 3.5: the bits a final group leaves over must be zero, so that every octet
  // string has one strict encoding.
  if (mode == Base64Mode::kStrict && (acc & ((1U << bits) - 1U)) != 0) return std::nullopt;
  return out;
}

}  // namespace sealpost::core
