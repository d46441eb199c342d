#include "store/mailbox/facts.hpp"

namespace sealpost::store::mailbox {

// Filled in from the MIME parser (src/mime/) once it lands.
std::optional<MessageFacts> message_facts(std::string_view /*raw*/) {
  return std::nullopt;
}

}  // namespace sealpost::store::mailbox
