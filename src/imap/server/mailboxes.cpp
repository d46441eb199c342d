// Mailbox names as clients send and receive them: modified UTF-7 (RFC 3501 section 5.1.3) or,
// once UTF8=ACCEPT is enabled, UTF-8 (RFC 6855); INBOX in any case. And the response code of a
// store error that the mailbox commands (CREATE, DELETE, RENAME) report.
#include "core/strings.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;

// INBOX is case-insensitive, also as the first level of a pattern ("inbox/%").
std::string canonical_inbox(std::string name) {
  if (name.size() >= 5 && iequals(std::string_view(name).substr(0, 5), "INBOX") &&
      (name.size() == 5 || name[5] == kDelimiter)) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

std::string_view store_error_code(std::string_view what) {
  if (what.find("exists") != std::string_view::npos) return "[ALREADYEXISTS] ";
  if (what.find("no such") != std::string_view::npos) return "[NONEXISTENT] ";
  if (what.find("INBOX") != std::string_view::npos) return "[CANNOT] ";
  return "[CANNOT] ";
}

std::optional<std::string> Session::decode_name(std::string_view name) const {
  std::optional<std::string> decoded;
  if (utf8_) {
    decoded = std::string(name);
  } else {
    decoded = decode_mutf7(name);
  }
  if (!decoded || decoded->empty()) return std::nullopt;
  return canonical_inbox(std::move(*decoded));
}

void Session::append_name(std::string& out, std::string_view stored) const {
  if (utf8_) {
    append_astring(out, stored, true);
    return;
  }
  const auto encoded = encode_mutf7(stored);
  append_astring(out, encoded ? *encoded : std::string(stored));
}

}  // namespace sealpost::imap::server
