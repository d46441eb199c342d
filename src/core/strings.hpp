// ASCII string helpers used by the protocol layers. Protocol keywords are ASCII and compared
// case-insensitively; these never depend on the process locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_ascii_alpha(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

constexpr bool is_ascii_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// RFC 5234's WSP: a space or a horizontal tab.
constexpr bool is_wsp(char c) noexcept {
  return c == ' ' || c == '\t';
}

// The characters of folding white space (RFC 5322 section 3.2.2): WSP, CR and LF.
constexpr bool is_fws(char c) noexcept {
  return is_wsp(c) || c == '\r' || c == '\n';
}

bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
std::string to_lower_ascii(std::string_view s);
std::string_view trim(std::string_view s) noexcept;
// Whether `name` is `domain` or below it ("a.example.com" and "example.com"), without case.
bool is_same_or_subdomain(std::string_view name, std::string_view domain) noexcept;

// The value of a hexadecimal digit, or -1.
int hex_digit_value(char c) noexcept;

// The one address of a mailto: URI's path (RFC 6068; the caller has cut off "mailto:", any
// "?hfields" and whatever its own grammar appends), percent-decoded. Reporting URIs (DMARC
// rua/ruf, TLS-RPT rua) carry "," percent-encoded, so a decoded "," would smuggle in a second
// address: refused, as are controls, spaces, non-ASCII, "<", ">", and anything without both a
// local part and a domain.
std::optional<std::string> decode_mailto_address(std::string_view path);

// Parses a non-negative decimal integer of at most `max_digits` digits, nothing else. A value
// that does not fit in 64 bits is refused (nullopt), never wrapped.
std::optional<std::uint64_t> parse_decimal(std::string_view s,
                                           std::size_t max_digits = 19) noexcept;
// The same for a grammar that allows more digits than 64 bits hold (RFC 1870's SIZE and RFC
// 3030's BDAT chunk size are 1*20DIGIT): a well-formed value past 2^64 - 1 reads as 2^64 - 1, so
// the caller's limit check refuses it. nullopt only when `s` is not 1..max_digits digits.
std::optional<std::uint64_t> parse_decimal_saturating(std::string_view s,
                                                      std::size_t max_digits) noexcept;

}  // namespace sealpost
