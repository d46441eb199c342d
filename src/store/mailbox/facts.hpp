// What a stored message keeps besides its bytes, computed once at delivery with the MIME
// parser: the IMAP ENVELOPE and BODYSTRUCTURE, the threading ids, and the decoded text for SEARCH.
#pragma once

#include <optional>
#include <string_view>

#include "store/mailbox/message_store.hpp"

namespace sealpost::store::mailbox {

std::optional<MessageFacts> message_facts(std::string_view raw);

}  // namespace sealpost::store::mailbox
