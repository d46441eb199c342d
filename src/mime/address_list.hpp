// The addresses of an RFC 5322 address list (From:, To:...), enough for authentication: each
// mailbox's domain. Display names, quoted strings, comments and groups are understood; a list
// that cannot be read yields what could be (callers treat "no domain" as failure).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sealpost::mime {

struct Mailbox {
  std::string local;   // as written, quotes kept
  std::string domain;  // lowercase; a trailing dot removed
};

// At most `max` mailboxes are returned.
std::vector<Mailbox> parse_address_list(std::string_view value, std::size_t max = 64);

}  // namespace sealpost::mime
