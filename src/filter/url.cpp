#include "filter/url.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <arpa/inet.h>

#include "core/domain.hpp"
#include "core/strings.hpp"

namespace sealpost::filter {
namespace {

// WHATWG percent-decode: "%" and two hex digits become the octet; anything else stays.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_digit_value(s[i + 1]);
      const int lo = hex_digit_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// One part of an IPv4 host (WHATWG "IPv4 number parser"): decimal, octal after a leading 0,
// hexadecimal after 0x. nullopt when it is not a number or passes 2^32.
std::optional<std::uint64_t> ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  unsigned radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (const char c : part) {
    const int d = hex_digit_value(c);
    if (d < 0 || static_cast<unsigned>(d) >= radix) return std::nullopt;
    value = value * radix + static_cast<unsigned>(d);
    if (value > 0xFFFFFFFFULL) return std::nullopt;
  }
  return value;
}

// Whether a host "ends in a number" (WHATWG): its last label is decimal digits or "0x" and hex
// digits. Then it is an IPv4 address, or no host at all (it never goes to DNS).
bool ends_in_number(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string_view last = host.substr(host.rfind('.') + 1);
  if (last.empty()) return false;
  const auto all = [](std::string_view s, auto pred) {
    return std::all_of(s.begin(), s.end(), pred);
  };
  if (all(last, is_ascii_digit)) return true;
  if (last.size() < 2 || last[0] != '0' || (last[1] != 'x' && last[1] != 'X')) return false;
  last.remove_prefix(2);
  return all(last, [](char c) { return hex_digit_value(c) >= 0; });
}

// The WHATWG IPv4 parser: one to four parts, the last filling the rest of the 32 bits.
std::optional<std::string> parse_ipv4(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::array<std::uint64_t, 4> parts{};
  std::size_t n = 0;
  for (;;) {
    const std::size_t dot = host.find('.');
    if (n == parts.size()) return std::nullopt;
    const auto v = ipv4_number(host.substr(0, dot));
    if (!v) return std::nullopt;
    parts[n++] = *v;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (parts[i] > 255) return std::nullopt;
  }
  const unsigned last_bits = static_cast<unsigned>(8 * (5 - n));
  if (last_bits < 32 && parts[n - 1] >= (std::uint64_t{1} << last_bits)) return std::nullopt;
  std::uint64_t address = parts[n - 1];
  for (std::size_t i = 0; i + 1 < n; ++i) address += parts[i] << (8 * (3 - i));
  return std::to_string((address >> 24) & 0xFF) + '.' + std::to_string((address >> 16) & 0xFF) +
         '.' + std::to_string((address >> 8) & 0xFF) + '.' + std::to_string(address & 0xFF);
}

bool is_ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

}  // namespace

std::optional<Url> parse_url(std::string_view in) {
  // WHATWG: leading and trailing C0 controls and spaces go, tabs and line ends anywhere.
  while (!in.empty() && static_cast<unsigned char>(in.front()) <= 0x20) in.remove_prefix(1);
  while (!in.empty() && static_cast<unsigned char>(in.back()) <= 0x20) in.remove_suffix(1);
  std::string s;
  s.reserve(in.size());
  for (const char c : in) {
    if (c != '\t' && c != '\n' && c != '\r') s += c;
  }
  const std::size_t colon = s.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string scheme = to_lower_ascii(std::string_view(s).substr(0, colon));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = std::string_view(s).substr(colon + 1);

  Url u;
  std::size_t slashes = 0;
  bool backslash = false;
  while (slashes < rest.size() && (rest[slashes] == '/' || rest[slashes] == '\\')) {
    backslash = backslash || rest[slashes] == '\\';
    ++slashes;
  }
  if (backslash || slashes != 2) u.obfuscated = true;
  rest.remove_prefix(slashes);
  std::string_view authority = rest.substr(0, rest.find_first_of("/\\?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = to_lower_ascii(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }

  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string inside(host.substr(1, close - 1));
    in6_addr a6{};
    if (inet_pton(AF_INET6, inside.c_str(), &a6) != 1) return std::nullopt;
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &a6, text, sizeof text) == nullptr) return std::nullopt;
    u.host = '[';
    u.host += text;
    u.host += ']';
    u.ip_host = true;
    return u;
  }
  if (const std::size_t port = host.rfind(':'); port != std::string_view::npos) {
    const std::string_view digits = host.substr(port + 1);
    if (!std::all_of(digits.begin(), digits.end(), is_ascii_digit)) {
      return std::nullopt;
    }
    host = host.substr(0, port);
  }
  const std::string decoded = percent_decode(host);
  if (decoded != host) u.obfuscated = true;
  if (decoded.empty()) return std::nullopt;

  if (is_ascii(decoded) && ends_in_number(decoded)) {
    auto v4 = parse_ipv4(decoded);
    if (!v4) return std::nullopt;
    if (*v4 != decoded) u.obfuscated = true;
    u.host = std::move(*v4);
    u.ip_host = true;
    return u;
  }
  auto a_label = core::to_a_label(decoded);
  if (!a_label || a_label->empty()) return std::nullopt;
  // UTS #46 maps full-width dots and digits: a host that was a number in disguise is one now.
  if (ends_in_number(*a_label)) {
    auto v4 = parse_ipv4(*a_label);
    if (!v4) return std::nullopt;
    u.host = std::move(*v4);
    u.ip_host = true;
    u.obfuscated = true;
    return u;
  }
  u.host = std::move(*a_label);
  return u;
}

namespace {

// Where the next link a mail client makes of text starts, at or after `from`: "http://" or
// "https://" (any case; anywhere, as clients take them), or "www." at the start of a word.
// Found by searching for "://" and ".", which text has few of, rather than looking at each
// octet. `web` says which kind it is.
struct LinkStarts {
  explicit LinkStarts(std::string_view t) : text(t) {}

  std::size_t next(std::size_t from, bool& web) {
    if (next_web < from || next_web == kUnknown) next_web = find_web(from);
    if (next_www < from || next_www == kUnknown) next_www = find_www(from);
    web = next_web <= next_www;
    return std::min(next_web, next_www);
  }

  static constexpr std::size_t kNone = std::string_view::npos;
  static constexpr std::size_t kUnknown = kNone - 1;

 private:
  std::size_t find_web(std::size_t from) const {
    for (std::size_t j = text.find("://", from); j != kNone; j = text.find("://", j + 1)) {
      if (j >= from + 5 && iequals(text.substr(j - 5, 5), "https")) return j - 5;
      if (j >= from + 4 && iequals(text.substr(j - 4, 4), "http")) return j - 4;
    }
    return kNone;
  }

  std::size_t find_www(std::size_t from) const {
    for (std::size_t dot = text.find('.', from + 3); dot != kNone; dot = text.find('.', dot + 1)) {
      const std::size_t i = dot - 3;
      if (!iequals(text.substr(i, 3), "www")) continue;
      const bool word_start =
          i == 0 || (!is_ascii_alpha(text[i - 1]) && !is_ascii_digit(text[i - 1]) &&
                     text[i - 1] != '.' && text[i - 1] != '-' && text[i - 1] != '@');
      if (word_start) return i;
    }
    return kNone;
  }

  std::string_view text;
  std::size_t next_web = kUnknown;
  std::size_t next_www = kUnknown;
};

}  // namespace

std::vector<Url> extract_text_urls(std::string_view text, const UrlLimits& limits) {
  std::vector<Url> out;
  const auto ends_link = [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == 0x7F;
  };
  LinkStarts starts(text);
  std::size_t i = 0;
  while (i < text.size() && out.size() < limits.max_urls) {
    bool web = false;
    i = starts.next(i, web);
    if (i == LinkStarts::kNone) break;
    const bool www = !web;
    std::size_t end = i;
    while (end < text.size() && end - i < limits.max_url_length && !ends_link(text[end])) ++end;
    std::string_view candidate = text.substr(i, end - i);
    i = end;
    // Punctuation that ends a sentence is not part of the link, nor a closing bracket the link
    // did not open.
    while (!candidate.empty()) {
      const char last = candidate.back();
      const auto opened = [&](char open) { return candidate.find(open) != std::string_view::npos; };
      if (std::string_view(".,;:!?'*").find(last) != std::string_view::npos ||
          (last == ')' && !opened('(')) || (last == ']' && !opened('[')) ||
          (last == '}' && !opened('{'))) {
        candidate.remove_suffix(1);
      } else {
        break;
      }
    }
    auto url = parse_url(www ? "http://" + std::string(candidate) : std::string(candidate));
    if (!url) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const Url& o) {
      return o.host == url->host && o.userinfo == url->userinfo;
    });
    if (!seen) out.push_back(std::move(*url));
  }
  return out;
}

}  // namespace sealpost::filter
