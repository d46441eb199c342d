// Message submission (RFC 6409, RFC 8314): what an authenticated session hands over, and the
// decisions that are not the session's to make (who may send as whom, how much, and what
// happens to an accepted message). The session knows nothing of the queue behind it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "smtp/protocol/reply.hpp"

namespace sealpost::store::mailbox {
class OpenMailbox;
}
namespace sealpost::access {
struct AccessContext;
}

namespace sealpost::smtp::server {

struct SubmissionRequest {
  std::string_view owner;   // the authenticated mailbox's address
  std::string_view sender;  // the reverse-path (never null on submission)
  std::vector<std::string> recipients;
  bool smtputf8 = false;
  bool eightbit = false;
  std::string_view content;  // as the client sent it
  // The owner's open mailbox (held by the session since AUTH), for the copy in Sent.
  std::shared_ptr<store::mailbox::OpenMailbox> mailbox;
};

class SubmissionAgent {
 public:
  virtual ~SubmissionAgent() = default;
  // nullopt when `owner` may use `sender` as its reverse-path; otherwise the refusal.
  [[nodiscard]] virtual std::optional<protocol::Reply> check_sender(
      const std::string& owner, std::string_view sender) const = 0;
  // nullopt when `owner` may send one more message now; otherwise the 451 that says why.
  [[nodiscard]] virtual std::optional<protocol::Reply> check_rate(const std::string& owner) = 0;
  // Checks the header (From: must be the owner's too), completes it (Date:, Message-ID:),
  // signs it (DKIM) and queues it durably; the reply is given to the client as it is.
  virtual boost::asio::awaitable<protocol::Reply> submit(const SubmissionRequest& request) = 0;
};

struct SubmissionContext {
  access::AccessContext& access;  // login (Argon2id on the worker pool, throttling)
  SubmissionAgent& agent;
};

}  // namespace sealpost::smtp::server
