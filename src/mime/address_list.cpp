#include "mime/address_list.hpp"

namespace sealpost::mime {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string trim_copy(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

void add_mailbox(std::string_view text, std::vector<Mailbox>& out, std::size_t max) {
  if (out.size() >= max) return;
  std::string addr = trim_copy(text);
  const auto at = addr.rfind('@');
  if (at == std::string::npos || at == 0) return;
  Mailbox m;
  m.local = trim_copy(std::string_view(addr).substr(0, at));
  std::string domain = trim_copy(std::string_view(addr).substr(at + 1));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty() || m.local.empty()) return;
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (is_space(c)) return;
  }
  m.domain = std::move(domain);
  out.push_back(std::move(m));
}

}  // namespace

std::vector<Mailbox> parse_address_list(std::string_view value, std::size_t max) {
  std::vector<Mailbox> out;
  std::string token;  // the current mailbox's text outside comments
  std::string angle;  // the text inside <>, when the mailbox has one
  bool has_angle = false;
  bool in_angle = false;
  const auto finish = [&] {
    add_mailbox(has_angle ? std::string_view(angle) : std::string_view(token), out, max);
    token.clear();
    angle.clear();
    has_angle = false;
    in_angle = false;
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"') {  // a quoted string: kept, with its escapes, as written
      std::string& target = in_angle ? angle : token;
      target += c;
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) target += value[i++];
        target += value[i];
      }
      target += '"';
      continue;
    }
    if (c == '(') {  // a comment, possibly nested: dropped
      int depth = 1;
      for (++i; i < value.size() && depth > 0; ++i) {
        if (value[i] == '\\') {
          ++i;
        } else if (value[i] == '(') {
          ++depth;
        } else if (value[i] == ')') {
          --depth;
        }
      }
      --i;
      token += ' ';
      continue;
    }
    if (in_angle) {
      if (c == '>') {
        in_angle = false;
      } else {
        angle += c;
      }
      continue;
    }
    if (c == '<') {
      in_angle = true;
      has_angle = true;
      angle.clear();
    } else if (c == ',' || c == ';') {
      finish();
    } else if (c == ':') {
      token.clear();  // a group's display name ends here
    } else {
      token += c;
    }
  }
  finish();
  return out;
}

}  // namespace sealpost::mime
