#include "smtp/protocol/address.hpp"

namespace sealpost::smtp::protocol {
namespace {

bool is_atext(unsigned char c, bool allow_utf8) {
  if (c >= 0x80) return allow_utf8;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_let_dig(unsigned char c, bool allow_utf8) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c >= 0x80 && allow_utf8);
}

// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
bool is_domain(std::string_view d, bool allow_utf8) {
  if (d.empty() || d.size() > kMaxDomain) return false;
  std::size_t label_len = 0;
  unsigned char prev = '.';
  for (unsigned char c : d) {
    if (c == '.') {
      if (label_len == 0 || prev == '-') return false;
      label_len = 0;
    } else if (c == '-') {
      if (label_len == 0) return false;
      ++label_len;
    } else if (is_let_dig(c, allow_utf8)) {
      ++label_len;
    } else {
      return false;
    }
    if (label_len > 63 && !allow_utf8) return false;
    prev = c;
  }
  return label_len > 0 && prev != '-';
}

bool is_address_literal(std::string_view d) {
  if (d.size() < 3 || d.front() != '[' || d.back() != ']') return false;
  for (unsigned char c : d.substr(1, d.size() - 2)) {
    // dcontent = %d33-90 / %d94-126 (RFC 5321 General-address-literal); IPv4/IPv6 are subsets.
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return false;
  }
  return true;
}

bool has_high_bit(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return true;
  }
  return false;
}

}  // namespace

bool is_dot_string(std::string_view local, bool allow_utf8) noexcept {
  if (local.empty() || local.front() == '.' || local.back() == '.') return false;
  char prev = 0;
  for (char c : local) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(static_cast<unsigned char>(c), allow_utf8)) {
      return false;
    }
    prev = c;
  }
  return true;
}

std::string Mailbox::to_string() const {
  std::string out;
  if (is_dot_string(local, true)) {
    out = local;
  } else {
    out.reserve(local.size() + 2);
    out += '"';
    for (char c : local) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  if (!domain.empty()) {
    out += '@';
    out += domain;
  }
  return out;
}

Result<Path, PathError> parse_path(std::string_view text, bool allow_utf8) {
  if (text.size() > kMaxPath + 2) return unexpected(PathError::kTooLong);
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    return unexpected(PathError::kSyntax);
  }
  std::string_view inner = text.substr(1, text.size() - 2);
  Path path;
  if (inner.empty()) {
    path.null = true;
    return path;
  }
  if (!allow_utf8 && has_high_bit(inner)) return unexpected(PathError::kUtf8NotAllowed);

  // A-d-l = At-domain *( "," At-domain ) ":" ; At-domain = "@" Domain. Parsed so it can be
  // refused by the caller (source routing is how old open relays were abused).
  if (inner.front() == '@') {
    const auto colon = inner.find(':');
    if (colon == std::string_view::npos) return unexpected(PathError::kSyntax);
    std::string_view adl = inner.substr(0, colon);
    while (!adl.empty()) {
      if (adl.front() != '@') return unexpected(PathError::kSyntax);
      adl.remove_prefix(1);
      const auto comma = adl.find(',');
      const std::string_view dom = adl.substr(0, comma);
      if (!is_domain(dom, allow_utf8)) return unexpected(PathError::kSyntax);
      adl = comma == std::string_view::npos ? std::string_view{} : adl.substr(comma + 1);
      if (comma != std::string_view::npos && adl.empty()) return unexpected(PathError::kSyntax);
    }
    path.had_source_route = true;
    inner.remove_prefix(colon + 1);
  }

  Mailbox& mb = path.mailbox;
  std::size_t pos = 0;
  if (!inner.empty() && inner.front() == '"') {
    mb.local_quoted = true;
    pos = 1;
    bool closed = false;
    while (pos < inner.size()) {
      const auto c = static_cast<unsigned char>(inner[pos]);
      if (c == '"') {
        closed = true;
        ++pos;
        break;
      }
      if (c == '\\') {
        if (pos + 1 >= inner.size()) return unexpected(PathError::kSyntax);
        const auto q = static_cast<unsigned char>(inner[pos + 1]);
        if (q < 32 || (q > 126 && !(allow_utf8 && q >= 0x80)))
          return unexpected(PathError::kSyntax);
        mb.local += static_cast<char>(q);
        pos += 2;
        continue;
      }
      // qtextSMTP = %d32-33 / %d35-91 / %d93-126, plus UTF-8 with SMTPUTF8
      if (c < 32 || (c > 126 && !(allow_utf8 && c >= 0x80))) return unexpected(PathError::kSyntax);
      mb.local += static_cast<char>(c);
      ++pos;
    }
    if (!closed) return unexpected(PathError::kSyntax);
  } else {
    const auto at = inner.rfind('@');
    const std::string_view local = inner.substr(0, at);
    if (!is_dot_string(local, allow_utf8)) return unexpected(PathError::kSyntax);
    mb.local = std::string(local);
    pos = local.size();
  }
  if (mb.local.size() > kMaxLocalPart) return unexpected(PathError::kTooLong);

  if (pos == inner.size()) {
    // Only "<Postmaster>" may come without a domain (RFC 5321 section 4.1.1.3).
    if (mb.local_quoted || mb.local.size() != 10 || path.had_source_route) {
      return unexpected(PathError::kSyntax);
    }
    std::string lower;
    for (char c : mb.local) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    if (lower != "postmaster") return unexpected(PathError::kSyntax);
    return path;
  }
  if (inner[pos] != '@') return unexpected(PathError::kSyntax);
  const std::string_view domain = inner.substr(pos + 1);
  if (domain.size() > kMaxDomain) return unexpected(PathError::kTooLong);
  if (!domain.empty() && domain.front() == '[') {
    if (!is_address_literal(domain)) return unexpected(PathError::kSyntax);
    mb.domain_is_literal = true;
  } else if (!is_domain(domain, allow_utf8)) {
    return unexpected(PathError::kSyntax);
  }
  mb.domain = std::string(domain);
  mb.has_utf8 = has_high_bit(mb.local) || has_high_bit(mb.domain);
  return path;
}

}  // namespace sealpost::smtp::protocol
