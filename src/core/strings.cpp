#include "core/strings.hpp"

#include <algorithm>
#include <limits>

namespace sealpost {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool is_same_or_subdomain(std::string_view name, std::string_view domain) noexcept {
  if (iequals(name, domain)) return true;
  return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
         iequals(name.substr(name.size() - domain.size()), domain);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::size_t max_digits) noexcept {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (!is_ascii_digit(c)) return std::nullopt;
    // A value past 2^64 - 1 is refused, never wrapped: callers compare it against limits.
    if (__builtin_mul_overflow(value, std::uint64_t{10}, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::optional<std::uint64_t> parse_decimal_saturating(std::string_view s,
                                                      std::size_t max_digits) noexcept {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), is_ascii_digit)) return std::nullopt;
  return parse_decimal(s, max_digits).value_or(std::numeric_limits<std::uint64_t>::max());
}

int hex_digit_value(char c) noexcept {
  if (is_ascii_digit(c)) return c - '0';
  const char l = ascii_lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

std::optional<std::string> decode_mailto_address(std::string_view path) {
  std::string address;
  address.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      const int hi = hex_digit_value(path[i + 1]);
      const int lo = hex_digit_value(path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ',' || c == '<' || c == '>') return std::nullopt;
    address += c;
  }
  const auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  return address;
}

}  // namespace sealpost
