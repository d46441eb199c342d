#include "mime/params.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "mime/charset.hpp"

namespace sealpost::mime {

namespace {

// RFC 2231 sections beyond this are dropped: no real value needs a thousand pieces.
constexpr std::size_t kMaxSection = 999;

// RFC 2045 section 5.1 token characters; 8-bit bytes are let through (seen in the wild).
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  [[nodiscard]] bool done() const { return i_ >= s_.size(); }
  [[nodiscard]] std::size_t pos() const { return i_; }
  [[nodiscard]] char peek() const { return s_[i_]; }
  void advance() { ++i_; }

  // Whitespace, folding and (nested) comments.
  void skip_cfws() {
    while (i_ < s_.size()) {
      if (is_fws(s_[i_])) {
        ++i_;
      } else if (s_[i_] == '(') {
        skip_comment();
      } else {
        break;
      }
    }
  }

  void skip_comment() {
    std::size_t depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '\\') {
        ++i_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return;
      }
    }
    i_ = std::min(i_, s_.size());
  }

  std::string_view token() {
    const std::size_t begin = i_;
    while (i_ < s_.size() && is_token_char(s_[i_])) ++i_;
    return s_.substr(begin, i_ - begin);
  }

  // A quoted string at '"', unescaped, its line breaks removed (unfolding). An unterminated one
  // runs to the end.
  std::string quoted() {
    std::string out;
    ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') break;
      if (c == '\\' && i_ < s_.size()) {
        out += s_[i_++];
      } else if (c != '\r' && c != '\n') {
        out += c;
      }
    }
    return out;
  }

  // An unquoted value: a word of anything but whitespace, ';', '"' and '(' (tspecials included:
  // "boundary=----=_Part" is common), then, if no other "name=" follows before the next ';', the
  // rest up to that ';' too ("name=my file.pdf"). Comments are dropped.
  std::string unquoted() {
    std::string out;
    while (i_ < s_.size() && !is_fws(s_[i_]) && s_[i_] != ';' && s_[i_] != '"' && s_[i_] != '(') {
      out += s_[i_++];
    }
    std::size_t end = i_;
    bool has_equals = false;
    std::size_t depth = 0;
    for (; end < s_.size(); ++end) {
      const char c = s_[end];
      if (depth > 0) {
        if (c == '\\') {
          ++end;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')') {
          --depth;
        }
        continue;
      }
      if (c == ';') break;
      if (c == '(') ++depth;
      if (c == '=' || c == '"') {  // stopping here keeps "a=b c=d e=f..." linear
        has_equals = true;
        break;
      }
    }
    if (has_equals) return out;
    end = std::min(end, s_.size());
    while (i_ < end) {
      if (s_[i_] == '(') {
        skip_comment();
        out += ' ';
      } else {
        const char c = s_[i_++];
        out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }

  // Past the next ';' (quotes and comments respected), or to the end.
  void skip_to_semicolon() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ';') {
        ++i_;
        return;
      }
      if (c == '"') {
        quoted();
      } else if (c == '(') {
        skip_comment();
      } else {
        ++i_;
      }
    }
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

struct RawParameter {
  std::string name;  // lowercase, without the RFC 2231 suffix
  std::string value;
  std::size_t section = 0;
  bool sectioned = false;  // name*N or name*N*
  bool encoded = false;    // a trailing '*': charset'language'%XX (only in section 0) or %XX
};

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    const char l = ascii_lower(c);
    return (l >= 'a' && l <= 'f') ? l - 'a' + 10 : -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Splits RFC 2231's "charset'language'rest"; without both quotes the whole is the rest.
void split_extended(std::string_view v, std::string_view& charset, std::string_view& language,
                    std::string_view& rest) {
  const auto q1 = v.find('\'');
  const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    charset = {};
    language = {};
    rest = v;
    return;
  }
  charset = v.substr(0, q1);
  language = v.substr(q1 + 1, q2 - q1 - 1);
  rest = v.substr(q2 + 1);
}

bool read_raw(std::string_view name_token, std::string value, RawParameter& raw) {
  const auto star = name_token.find('*');
  raw.name = to_lower_ascii(name_token.substr(0, star));
  raw.value = std::move(value);
  if (raw.name.empty()) return false;
  if (star == std::string_view::npos) return true;
  std::string_view suffix = name_token.substr(star + 1);
  if (suffix.empty()) {  // name*=
    raw.encoded = true;
    return true;
  }
  if (suffix.back() == '*') {
    raw.encoded = true;
    suffix.remove_suffix(1);
  }
  const auto section = parse_decimal(suffix, 3);
  if (!section || *section > kMaxSection) return false;
  raw.sectioned = true;
  raw.section = static_cast<std::size_t>(*section);
  return true;
}

// Joins the sections of `name` (from `raws`, first occurrence of each number) starting at 0 and
// stopping at the first gap.
Parameter join_sections(const std::vector<RawParameter>& raws, const std::string& name) {
  std::vector<const RawParameter*> sections;
  for (const auto& r : raws) {
    if (!r.sectioned || r.name != name) continue;
    if (r.section >= sections.size()) sections.resize(r.section + 1, nullptr);
    if (sections[r.section] == nullptr) sections[r.section] = &r;
  }
  Parameter p;
  p.name = name;
  std::string bytes;
  std::string_view charset;
  for (std::size_t i = 0; i < sections.size() && sections[i] != nullptr; ++i) {
    const RawParameter& r = *sections[i];
    std::string_view v = r.value;
    if (i == 0 && r.encoded) {
      std::string_view language;
      split_extended(v, charset, language, v);
      p.language = std::string(language);
      p.extended = true;
    }
    bytes += r.encoded ? percent_decode(v) : std::string(v);
  }
  p.value = to_utf8(bytes, p.extended ? charset : std::string_view());
  return p;
}

Parameter single(const RawParameter& r) {
  Parameter p;
  p.name = r.name;
  if (r.encoded) {
    std::string_view charset, language, rest;
    split_extended(r.value, charset, language, rest);
    p.language = std::string(language);
    p.extended = true;
    p.value = to_utf8(percent_decode(rest), charset);
  } else {
    p.value = to_utf8(r.value, {});
  }
  return p;
}

}  // namespace

const Parameter* find_parameter(const Parameters& params, std::string_view name) noexcept {
  for (const auto& p : params) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

Parameters parse_parameters(std::string_view text, std::size_t max_params) {
  // Continuations make one parameter of several: room for some, without letting a hostile value
  // make the merge below costly.
  const std::size_t max_raw = max_params * 4 + 16;
  std::vector<RawParameter> raws;
  Scanner s(text);
  while (raws.size() < max_raw) {
    s.skip_cfws();
    while (!s.done() && s.peek() == ';') {
      s.advance();
      s.skip_cfws();
    }
    if (s.done()) break;
    const std::string_view name = s.token();
    if (name.empty()) {  // junk ('/', '"', '='...): skip this parameter
      s.skip_to_semicolon();
      continue;
    }
    s.skip_cfws();
    if (s.done() || s.peek() != '=') {
      if (!s.done() && s.peek() != ';' && !is_token_char(s.peek())) s.skip_to_semicolon();
      continue;  // a word without a value; the next word may be a parameter (a lost ';')
    }
    s.advance();
    s.skip_cfws();
    std::string value;
    if (!s.done() && s.peek() == '"') {
      value = s.quoted();
      s.skip_cfws();
      if (!s.done() && s.peek() != ';' && !is_token_char(s.peek())) s.skip_to_semicolon();
    } else {
      value = s.unquoted();
    }
    RawParameter raw;
    if (read_raw(name, std::move(value), raw)) raws.push_back(std::move(raw));
  }

  Parameters out;
  std::vector<bool> from_extended;  // whether out[i] came from an RFC 2231 form
  for (const auto& r : raws) {
    const bool rfc2231 = r.sectioned || r.encoded;
    auto it =
        std::find_if(out.begin(), out.end(), [&](const Parameter& p) { return p.name == r.name; });
    if (it != out.end()) {
      const auto index = static_cast<std::size_t>(it - out.begin());
      if (from_extended[index] || !rfc2231) continue;  // the first wins, RFC 2231 over plain
      *it = r.sectioned ? join_sections(raws, r.name) : single(r);
      from_extended[index] = true;
      continue;
    }
    if (out.size() >= max_params) continue;
    out.push_back(r.sectioned ? join_sections(raws, r.name) : single(r));
    from_extended.push_back(rfc2231);
  }
  return out;
}

std::optional<ContentType> parse_content_type(std::string_view value, std::size_t max_params) {
  Scanner s(value);
  s.skip_cfws();
  const std::string_view type = s.token();
  if (type.empty()) return std::nullopt;
  ContentType ct;
  ct.type = to_lower_ascii(type);
  s.skip_cfws();
  if (!s.done() && s.peek() == '/') {
    s.advance();
    s.skip_cfws();
    ct.subtype = to_lower_ascii(s.token());
  }
  if (ct.subtype.empty()) {
    if (ct.type != "text") return std::nullopt;
    ct.subtype = "plain";
  }
  ct.params = parse_parameters(value.substr(s.pos()), max_params);
  return ct;
}

std::optional<ContentDisposition> parse_content_disposition(std::string_view value,
                                                            std::size_t max_params) {
  Scanner s(value);
  s.skip_cfws();
  const std::string_view type = s.token();
  if (type.empty()) return std::nullopt;
  ContentDisposition cd;
  cd.type = to_lower_ascii(type);
  cd.params = parse_parameters(value.substr(s.pos()), max_params);
  return cd;
}

}  // namespace sealpost::mime
