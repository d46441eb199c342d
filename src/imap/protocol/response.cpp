#include "imap/protocol/response.hpp"

#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "mime/charset.hpp"
#include "mime/imap_structure.hpp"

namespace sealpost::imap::protocol {
namespace {

bool is_atom_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

// Quoted-string text under UTF8=ACCEPT: valid UTF-8 without CR, LF or NUL.
bool quotable_utf8(std::string_view s) noexcept {
  for (char c : s) {
    if (c == '\0' || c == '\r' || c == '\n') return false;
  }
  return core::is_valid_utf8(s);
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

bool has_8bit(std::string_view s) noexcept {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

void append_string(std::string& out, std::string_view s, bool utf8) {
  if (utf8 && has_8bit(s) && quotable_utf8(s)) {
    append_quoted(out, s);
    return;
  }
  mime::append_imap_string(out, s);
}

void append_nstring(std::string& out, std::optional<std::string_view> s, bool utf8) {
  if (s) {
    append_string(out, *s, utf8);
  } else {
    out += "NIL";
  }
}

void append_astring(std::string& out, std::string_view s, bool utf8) {
  bool atom = !s.empty() && !iequals(s, "NIL");
  for (char c : s) {
    if (!is_atom_char(c) && c != ']') {
      atom = false;
      break;
    }
  }
  if (atom) {
    out += s;
  } else {
    append_string(out, s, utf8);
  }
}

void append_literal8(std::string& out, std::string_view bytes) {
  out += "~{";
  out += std::to_string(bytes.size());
  out += "}\r\n";
  out += bytes;
}

void append_flag_list(std::string& out, std::span<const std::string> flags) {
  out += '(';
  bool first = true;
  for (const std::string& f : flags) {
    if (!first) out += ' ';
    first = false;
    out += f;
  }
  out += ')';
}

void append_sequence_set(std::string& out, std::span<const std::uint32_t> numbers) {
  std::size_t i = 0;
  while (i < numbers.size()) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j] != UINT32_MAX && numbers[j + 1] == numbers[j] + 1) {
      ++j;
    }
    if (i > 0) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) {
      out += ':';
      out += std::to_string(numbers[j]);
    }
    i = j + 1;
  }
}

void append_section(std::string& out, const Section& section) {
  bool first = true;
  for (std::uint32_t p : section.part) {
    if (!first) out += '.';
    first = false;
    out += std::to_string(p);
  }
  std::string_view text;
  switch (section.text) {
    case SectionText::kNone:
      return;
    case SectionText::kHeader:
      text = "HEADER";
      break;
    case SectionText::kHeaderFields:
      text = "HEADER.FIELDS";
      break;
    case SectionText::kHeaderFieldsNot:
      text = "HEADER.FIELDS.NOT";
      break;
    case SectionText::kText:
      text = "TEXT";
      break;
    case SectionText::kMime:
      text = "MIME";
      break;
  }
  if (!section.part.empty()) out += '.';
  out += text;
  if (section.text == SectionText::kHeaderFields || section.text == SectionText::kHeaderFieldsNot) {
    out += " (";
    bool first_field = true;
    for (const std::string& f : section.fields) {
      if (!first_field) out += ' ';
      first_field = false;
      append_astring(out, f);
    }
    out += ')';
  }
}

}  // namespace sealpost::imap::protocol
