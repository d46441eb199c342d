// Decides, for one RCPT, whether we take the mail and where it goes: an alias's destinations,
// the original sender behind one of our SRS addresses (a bounce), or a refusal with the reply
// that explains it. The table is an immutable snapshot swapped atomically when the store
// changes, so a lookup on the RCPT path never waits for the disk or a lock.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "smtp/protocol/address.hpp"
#include "smtp/protocol/reply.hpp"
#include "store/mailbox/local_mailbox.hpp"

namespace sealpost::auth::srs {
class Srs;
}

namespace sealpost::routing {

struct RoutingTable {
  std::set<std::string> domains;                                  // A-labels
  std::map<std::string, std::vector<std::string>> aliases;        // "local@domain" -> destinations
  std::map<std::string, store::mailbox::LocalMailbox> mailboxes;  // "local@domain" -> mailbox
};

struct Route {
  enum class Kind { kForward, kBounce, kRejected };
  Kind kind = Kind::kRejected;
  std::vector<std::string> destinations;  // kForward / kBounce: where the message is relayed
  // kForward: also stored in these: the address's own mailbox, and the mailboxes its alias
  // forwards to on this server (delivered here, not relayed to ourselves over port 25).
  std::vector<store::mailbox::LocalMailbox> mailboxes;
  smtp::protocol::Reply rejection;  // kRejected
};

class Router {
 public:
  // `srs` may be null (no bounce handling); `hostname` answers the bare "<Postmaster>".
  Router(std::string hostname, const auth::srs::Srs* srs);

  void update(std::shared_ptr<const RoutingTable> table);
  [[nodiscard]] Route route(const smtp::protocol::Mailbox& rcpt, bool had_source_route) const;
  [[nodiscard]] bool hosts(const std::string& a_label_domain) const;
  // Submission (RFC 6409 section 8.1 leaves who may send as whom to the server): `owner`, a
  // mailbox's normalised address, may use `address` when it resolves, as RCPT would resolve it
  // (exact, then plus-addressing, then the catch-all), to that mailbox or to an alias that
  // delivers to it.
  [[nodiscard]] bool may_send_as(const std::string& owner, std::string_view address) const;

 private:
  std::string hostname_;
  const auth::srs::Srs* srs_;
  std::atomic<std::shared_ptr<const RoutingTable>> table_;
};

}  // namespace sealpost::routing
