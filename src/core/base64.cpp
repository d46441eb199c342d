#include "core/base64.hpp"

#include <algorithm>
#include <array>

#include "core/strings.hpp"

namespace sealpost::core {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// -1 when lo <= c <= hi, else 0, without a branch (c is an octet: every difference fits).
constexpr int in_range(int c, int lo, int hi) noexcept {
  return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

// The 6-bit value of a base64 character, or -1; constant time in `c` (no branch, no table).
constexpr int secret_value(char ch) noexcept {
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

static_assert(secret_value('A') == 0 && secret_value('Z') == 25 && secret_value('a') == 26 &&
              secret_value('z') == 51 && secret_value('0') == 52 && secret_value('9') == 61 &&
              secret_value('+') == 62 && secret_value('/') == 63);
static_assert(secret_value('=') == -1 && secret_value('-') == -1 && secret_value('\0') == -1 &&
              secret_value('\xff') == -1 && secret_value('@') == -1 && secret_value('[') == -1);

// The same by table, for the public texts (DKIM values run to hundreds of characters).
constexpr auto kValues = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}();

// Decodes into `out` (string or byte vector) per `mode`; false when the mode refuses the text.
template <typename Out>
bool decode(std::string_view text, Base64Mode mode, std::size_t max, Out& out) {
  if (mode == Base64Mode::kStrict && !is_base64(text)) return false;
  out.resize(std::min(max, text.size() / 4 * 3 + 3));
  std::size_t n = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t chars = 0;  // kFolded: the characters counted for its padding rules
  std::size_t pad = 0;
  const auto value = [](char c) { return kValues[static_cast<unsigned char>(c)]; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    // The table modes take four alphabet characters (three octets) at once while the text holds
    // nothing else, as DKIM's b= and p= do for hundreds of characters; whitespace, padding, junk
    // and the end go through the character-at-a-time step below, which decides as it always did.
    if (mode != Base64Mode::kStrict) {
      while (pad == 0 && text.size() - i >= 4 && max - n >= 3) {
        const int a = value(text[i]);
        const int b = value(text[i + 1]);
        const int c = value(text[i + 2]);
        const int d = value(text[i + 3]);
        if ((a | b | c | d) < 0) break;
        acc = (acc << 24) | static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
        out[n++] = static_cast<typename Out::value_type>((acc >> (bits + 16)) & 0xff);
        out[n++] = static_cast<typename Out::value_type>((acc >> (bits + 8)) & 0xff);
        out[n++] = static_cast<typename Out::value_type>((acc >> bits) & 0xff);
        chars += 4;
        i += 4;
      }
      if (i == text.size()) break;
    }
    const char c = text[i];
    const int v =
        mode == Base64Mode::kStrict ? secret_value(c) : kValues[static_cast<unsigned char>(c)];
    if (v < 0) {
      if (mode == Base64Mode::kFolded) {
        if (is_fws(c)) continue;
        if (c != '=') return false;
        ++pad;
        ++chars;
        continue;
      }
      if (c == '=') break;
      if (mode == Base64Mode::kLenient) continue;
      return false;  // kWord (kStrict's form was checked)
    }
    if (pad > 0) return false;  // kFolded: nothing but whitespace after the padding
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    ++chars;
    if (bits >= 8) {
      bits -= 8;
      if (n >= max) break;
      out[n++] = static_cast<typename Out::value_type>((acc >> bits) & 0xff);
    }
  }
  out.resize(n);
  if (mode == Base64Mode::kFolded) {
    return pad <= 2 && (pad == 0 || chars % 4 == 0) && chars % 4 != 1;
  }
  // RFC 4648 section 3.5: in strict form the bits a last group leaves over are zero, so every
  // octet string has one encoding.
  return mode != Base64Mode::kStrict || (acc & ((1U << bits) - 1U)) == 0;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  const auto byte = [bytes](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const std::uint32_t n = byte(i) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool is_base64(std::string_view s) noexcept {
  if (s.size() % 4 != 0) return false;
  std::size_t body = s.size();
  if (body > 0 && s[body - 1] == '=') --body;
  if (body > 0 && s[body - 1] == '=') --body;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(body),
                     [](char c) { return secret_value(c) >= 0; });
}

std::optional<std::string> base64_decode(std::string_view text, Base64Mode mode, std::size_t max) {
  std::string out;
  if (!decode(text, mode, max, out)) return std::nullopt;
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode_bytes(std::string_view text,
                                                             Base64Mode mode) {
  std::vector<std::uint8_t> out;
  if (!decode(text, mode, SIZE_MAX, out)) return std::nullopt;
  return out;
}

}  // namespace sealpost::core
