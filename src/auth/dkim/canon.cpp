#include "auth/dkim/canon.hpp"

#include "core/strings.hpp"

namespace sealpost::auth::dkim {

namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

// Appends `line` with runs of WSP reduced to one space and trailing WSP removed.
void relaxed_line(std::string_view line, std::string& out) {
  bool space = false;
  for (char c : line) {
    if (is_wsp(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
}

}  // namespace

void canonical_header(Canon c, std::string_view name, std::string_view raw, std::string& out) {
  if (c == Canon::kSimple) {
    out += raw;
    return;
  }
  out += to_lower_ascii(name);
  out += ':';
  std::string_view value = raw.substr(raw.find(':') + 1);
  if (value.ends_with("\r\n")) value.remove_suffix(2);
  // Unfold, reduce whitespace, and drop it at both ends of the value (section 3.4.2).
  std::string unfolded;
  unfolded.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    unfolded += value[i];
  }
  std::string_view v = unfolded;
  while (!v.empty() && is_wsp(v.front())) v.remove_prefix(1);
  relaxed_line(v, out);
  out += "\r\n";
}

std::string canonical_body(Canon c, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 2);
  if (c == Canon::kSimple) {
    out.assign(body);
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  } else {
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto end = body.find("\r\n", pos);
      const bool last = end == std::string_view::npos;
      if (last) end = body.size();
      relaxed_line(body.substr(pos, end - pos), out);
      out += "\r\n";
      pos = last ? body.size() : end + 2;
    }
  }
  // Both: no empty lines at the end (sections 3.4.3, 3.4.4).
  while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (c == Canon::kSimple && out.empty()) out = "\r\n";
  return out;
}

}  // namespace sealpost::auth::dkim
