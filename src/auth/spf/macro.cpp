#include "auth/spf/macro.hpp"

#include <algorithm>
#include <vector>

#include "core/strings.hpp"

namespace sealpost::auth::spf {

namespace {

constexpr std::string_view kDelimiters = ".-+,/_=";
constexpr std::size_t kMaxExpansion = 8192;  // an explanation may not grow past this

bool is_macro_letter(char c, bool explanation) {
  switch (ascii_lower(c)) {
    case 's':
    case 'l':
    case 'o':
    case 'd':
    case 'i':
    case 'p':
    case 'h':
    case 'v':
      return true;
    case 'c':
    case 'r':
    case 't':
      return explanation;
    default:
      return false;
  }
}

struct Expand {
  char letter = 0;    // as written; uppercase means URL-escape
  unsigned keep = 0;  // 0: all parts
  bool reverse = false;
  std::string delimiters;
};

// Walks a macro-string, calling `literal(text)` and `expand(Expand)`. Returns false on a syntax
// error. `ended_with_expand` says whether the last token was a macro-expand (domain-end).
template <class Literal, class OnExpand>
bool walk(std::string_view s, bool explanation, Literal&& literal, OnExpand&& on_expand,
          bool* ended_with_expand = nullptr) {
  bool last_expand = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c != '%') {
      const auto u = static_cast<unsigned char>(c);
      const bool ok = explanation ? (u >= 0x20 && u <= 0x7e) : (u >= 0x21 && u <= 0x7e);
      if (!ok) return false;
      literal(std::string_view(&s[i], 1));
      last_expand = false;
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return false;
    const char n = s[i + 1];
    if (n == '%') {
      literal("%");
    } else if (n == '_') {
      literal(" ");
    } else if (n == '-') {
      literal("%20");
    } else if (n == '{') {
      std::size_t j = i + 2;
      if (j >= s.size() || !is_macro_letter(s[j], explanation)) return false;
      Expand e;
      e.letter = s[j++];
      std::size_t digits_start = j;
      while (j < s.size() && is_ascii_digit(s[j]) && j - digits_start < 4) ++j;
      if (j > digits_start) {
        const auto n_keep = parse_decimal(s.substr(digits_start, j - digits_start), 4);
        if (!n_keep || *n_keep == 0) return false;  // section 7.3: the DIGIT must be nonzero
        e.keep = static_cast<unsigned>(std::min<std::uint64_t>(*n_keep, 128));
      }
      if (j < s.size() && ascii_lower(s[j]) == 'r') {
        e.reverse = true;
        ++j;
      }
      while (j < s.size() && kDelimiters.find(s[j]) != std::string_view::npos)
        e.delimiters += s[j++];
      if (j >= s.size() || s[j] != '}') return false;
      on_expand(e);
      i = j + 1;
      last_expand = true;
      continue;
    } else {
      return false;
    }
    last_expand = true;  // %%, %_ and %- are macro-expands too
    i += 2;
  }
  if (ended_with_expand) *ended_with_expand = last_expand;
  return true;
}

std::string url_escape(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (is_ascii_alpha(c) || is_ascii_digit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string dotted_nibbles(const Ip& ip) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (!out.empty()) out += '.';
    out += kHex[ip.bytes[i] >> 4];
    out += '.';
    out += kHex[ip.bytes[i] & 0xf];
  }
  return out;
}

std::string value_of(char letter, const MacroContext& c) {
  switch (ascii_lower(letter)) {
    case 's':
      return c.local_part + "@" + c.sender_domain;
    case 'l':
      return c.local_part;
    case 'o':
      return c.sender_domain;
    case 'd':
      return c.domain;
    case 'i':
      return c.ip.v6 ? dotted_nibbles(c.ip) : c.ip.to_string();
    case 'p':
      return c.validated;
    case 'v':
      return c.ip.v6 ? "ip6" : "in-addr";
    case 'h':
      return c.helo;
    case 'c':
      return c.ip.to_string();
    case 'r':
      return c.receiver;
    case 't':
      return std::to_string(c.timestamp);
    default:
      return {};
  }
}

std::string transform(const std::string& value, const Expand& e) {
  const std::string_view delims = e.delimiters.empty() ? std::string_view(".") : e.delimiters;
  std::vector<std::string_view> parts;
  std::string_view rest = value;
  while (true) {
    const auto at = rest.find_first_of(delims);
    parts.push_back(rest.substr(0, at));
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + 1);
  }
  if (e.reverse) std::reverse(parts.begin(), parts.end());
  std::size_t first = 0;
  if (e.keep != 0 && e.keep < parts.size()) first = parts.size() - e.keep;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i != first) out += '.';
    out += parts[i];
  }
  return out;
}

bool valid_toplabel(std::string_view label) {
  // toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
  if (label.empty()) return false;
  bool alpha = false;
  bool dash = false;
  for (char c : label) {
    if (is_ascii_alpha(c)) {
      alpha = true;
    } else if (c == '-') {
      dash = true;
    } else if (!is_ascii_digit(c)) {
      return false;
    }
  }
  if (!dash) return alpha;
  return label.front() != '-' && label.back() != '-';
}

}  // namespace

bool valid_macro_string(std::string_view s, bool explanation) noexcept {
  return walk(
      s, explanation, [](std::string_view) {}, [](const Expand&) {});
}

bool valid_domain_spec(std::string_view s) noexcept {
  bool ended_with_expand = false;
  if (s.empty() ||
      !walk(
          s, false, [](std::string_view) {}, [](const Expand&) {}, &ended_with_expand)) {
    return false;
  }
  if (ended_with_expand) return true;
  // domain-end = "." toplabel [ "." ], with the dot and the label literal text.
  std::string_view tail = s;
  if (tail.back() == '.') tail.remove_suffix(1);
  const auto dot = tail.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view label = tail.substr(dot + 1);
  if (label.find('%') != std::string_view::npos || label.find('}') != std::string_view::npos) {
    return false;
  }
  return valid_toplabel(label);
}

bool uses_validated_name(std::string_view s) noexcept {
  bool uses = false;
  (void)walk(
      s, true, [](std::string_view) {},
      [&](const Expand& e) {
        if (ascii_lower(e.letter) == 'p') uses = true;
      });
  return uses;
}

Result<std::string, MacroError> expand(std::string_view s, const MacroContext& context,
                                       bool explanation) {
  std::string out;
  bool too_long = false;
  const bool ok = walk(
      s, explanation,
      [&](std::string_view text) {
        out += text;
        if (out.size() > kMaxExpansion) too_long = true;
      },
      [&](const Expand& e) {
        std::string v = transform(value_of(e.letter, context), e);
        if (e.letter >= 'A' && e.letter <= 'Z') v = url_escape(v);
        out += v;
        if (out.size() > kMaxExpansion) too_long = true;
      });
  if (!ok || too_long) return unexpected(MacroError::kSyntax);
  return out;
}

std::string target_name(std::string expanded) {
  if (!expanded.empty() && expanded.back() == '.') expanded.pop_back();
  while (expanded.size() > 253) {
    const auto dot = expanded.find('.');
    if (dot == std::string::npos) return {};
    expanded.erase(0, dot + 1);
  }
  if (expanded.empty()) return {};
  std::size_t label = 0;
  for (char c : expanded) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return {};
      label = 0;
    } else if (++label > 63 || u < 0x20 || u >= 0x7f) {
      return {};
    }
  }
  return expanded;
}

}  // namespace sealpost::auth::spf
