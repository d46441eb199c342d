#include "mime/address_list.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace sealpost::mime {

namespace {

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_fws);
}

// The mailbox of one element's address text ("local@domain"), or nullopt. Strictly, an unquoted
// local part holding whitespace ("Alice alice@example.com") is not one address.
std::optional<Mailbox> read_mailbox(std::string_view text, bool strict) {
  const std::string_view addr = trim_view(text);
  const auto at = addr.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  Mailbox m;
  const std::string_view local = trim_view(addr.substr(0, at));
  std::string domain(trim_view(addr.substr(at + 1)));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty() || local.empty()) return std::nullopt;
  const bool quoted = local.size() >= 2 && local.front() == '"' && local.back() == '"';
  if (strict && !quoted && std::any_of(local.begin(), local.end(), is_fws)) return std::nullopt;
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (is_fws(c) || (strict && (c == '@' || c == '"'))) return std::nullopt;
  }
  m.local = std::string(local);
  m.domain = std::move(domain);
  return m;
}

struct Scan {
  std::vector<Mailbox> mailboxes;
  bool unreadable = false;
  bool too_many = false;
};

// One pass over an address list. Lenient: what cannot be read is skipped and at most `max`
// mailboxes are kept. Strict: anything that is not a clean list of mailboxes is reported.
Scan scan(std::string_view value, std::size_t max, bool strict) {
  Scan s;
  std::string token;  // the current mailbox's text outside comments and <>
  std::string angle;  // the text inside <>, when the mailbox has one
  bool has_angle = false;
  bool in_angle = false;
  bool after_angle = false;  // strict: only whitespace may follow the closing ">"
  const auto finish = [&] {
    const std::string_view text = has_angle ? std::string_view(angle) : std::string_view(token);
    if (!has_angle && blank(token)) {
      // An empty element ("a@b, , c@d" is obsolete syntax, RFC 5322 section 4.4): nothing to read.
    } else if (auto m = read_mailbox(text, strict)) {
      if (s.mailboxes.size() < max) {
        s.mailboxes.push_back(std::move(*m));
      } else {
        s.too_many = true;
      }
    } else {
      s.unreadable = true;
    }
    token.clear();
    angle.clear();
    has_angle = false;
    in_angle = false;
    after_angle = false;
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"') {  // a quoted string: kept, with its escapes, as written
      std::string& target = in_angle ? angle : token;
      if (after_angle) s.unreadable = true;
      target += c;
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) target += value[i++];
        target += value[i];
      }
      if (i >= value.size()) s.unreadable = true;  // unterminated
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
      if (depth > 0) s.unreadable = true;  // unterminated
      --i;
      token += ' ';
      continue;
    }
    if (in_angle) {
      if (c == '>') {
        in_angle = false;
        after_angle = true;
      } else {
        angle += c;
      }
      continue;
    }
    if (c == '<') {
      if (has_angle) s.unreadable = true;  // two addresses in one element
      in_angle = true;
      has_angle = true;
      angle.clear();
    } else if (c == ',') {
      finish();
    } else if (c == ';' || c == ':') {
      // A group ("friends: a@b, c@d;"). Its members are read; strictly, a mailbox-list (From:,
      // Resent-From:) has no groups.
      if (strict) s.unreadable = true;
      if (c == ';') {
        finish();
      } else {
        token.clear();  // the group's display name ends here
      }
    } else {
      if (after_angle && !is_fws(c)) s.unreadable = true;
      token += c;
    }
  }
  if (in_angle) s.unreadable = true;
  finish();
  return s;
}

}  // namespace

std::vector<Mailbox> parse_address_list(std::string_view value, std::size_t max) {
  return scan(value, max, /*strict=*/false).mailboxes;
}

Result<std::vector<Mailbox>, AddressListError> parse_mailbox_list(std::string_view value,
                                                                  std::size_t max) {
  Scan s = scan(value, max, /*strict=*/true);
  if (s.unreadable) return unexpected(AddressListError::kUnreadable);
  if (s.too_many) return unexpected(AddressListError::kTooMany);
  if (s.mailboxes.empty()) return unexpected(AddressListError::kEmpty);
  return std::move(s.mailboxes);
}

}  // namespace sealpost::mime
