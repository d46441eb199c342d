// What an SMTP session hands over once a message is complete, and the one answer it gets back.
// The session knows nothing of how delivery happens: the SMTP client's forwarder implements this,
// and so does the dispatcher above it that also stores into mailboxes (delivery/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "smtp/protocol/reply.hpp"
#include "store/mailbox/local_mailbox.hpp"

namespace sealpost::smtp {

struct DeliveryRequest {
  std::string_view sender;                // the reverse-path as received; empty for <>
  std::vector<std::string> destinations;  // distinct, normalised addresses to relay to
  std::vector<store::mailbox::LocalMailbox> mailboxes;  // distinct mailboxes to store into
  bool smtputf8 = false;
  bool eightbit = false;
  std::string_view trace;     // our Received: and Authentication-Results: header fields
  bool quarantine = false;    // DMARC says quarantine, or the filter junk: a mailbox files it as Junk
  std::int64_t received = 0;  // Unix time the message was received (INTERNALDATE)
  std::string_view content;   // the message as received
};

struct DeliveryReport {
  protocol::Reply reply;  // what the client is told
  std::uint32_t accepted = 0;
  std::uint32_t deferred = 0;
  std::uint32_t rejected = 0;
  std::uint32_t already_delivered = 0;  // skipped: accepted on an earlier attempt
};

class DeliveryAgent {
 public:
  virtual ~DeliveryAgent() = default;
  virtual boost::asio::awaitable<DeliveryReport> deliver(const DeliveryRequest& request) = 0;
};

}  // namespace sealpost::smtp
