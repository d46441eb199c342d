// The addresses of an RFC 5322 address list (From:, To:...). Display names, quoted strings,
// comments and groups are understood.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::mime {

struct Mailbox {
  std::string local;   // as written, quotes kept
  std::string domain;  // lowercase; a trailing dot removed
};

// Enough for authentication (each mailbox's domain): a list that cannot be read yields what
// could be (callers treat "no domain" as failure). At most `max` mailboxes are returned.
std::vector<Mailbox> parse_address_list(std::string_view value, std::size_t max = 64);

enum class AddressListError {
  kUnreadable,  // an element that is not one clean mailbox, a group, an unterminated quote,
                // comment or <>
  kTooMany,     // more than `max` mailboxes
  kEmpty,       // no mailbox at all
};

// Every mailbox of a mailbox-list (From:, Sender:, Resent-From:; RFC 5322 sections 3.4 and
// 3.6.2), for decisions that must see all of them (who may send as whom): nothing is skipped and
// nothing is cut off; what cannot be read whole is an error.
Result<std::vector<Mailbox>, AddressListError> parse_mailbox_list(std::string_view value,
                                                                  std::size_t max);

}  // namespace sealpost::mime
