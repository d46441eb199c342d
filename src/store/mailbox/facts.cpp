#include "store/mailbox/facts.hpp"

#include <algorithm>

#include "mime/content.hpp"
#include "mime/encoded_word.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr std::size_t kMaxSearchText = std::size_t{1} << 20;
constexpr std::size_t kMaxParents = 50;
constexpr std::size_t kMaxIdSize = 250;

// The "<id>" message ids of a field, without their angle brackets.
std::vector<std::string> message_ids(std::string_view value, std::size_t max) {
  std::vector<std::string> out;
  while (out.size() < max) {
    const auto open = value.find('<');
    if (open == std::string_view::npos) break;
    const auto close = value.find('>', open);
    if (close == std::string_view::npos) break;
    const auto id = value.substr(open + 1, close - open - 1);
    const bool clean = !id.empty() && id.size() <= kMaxIdSize &&
                       id.find_first_of(" \t\r\n<") == std::string_view::npos;
    if (clean) out.emplace_back(id);
    value.remove_prefix(close + 1);
  }
  return out;
}

std::string decoded(const mime::Part& part, std::string_view name) {
  const auto* field = mime::find_field(part, name);
  return field ? mime::decode_header_value(field->value) : std::string();
}

}  // namespace

std::optional<MessageFacts> message_facts(std::string_view raw) {
  auto parsed = mime::parse_message(raw);
  if (!parsed) return std::nullopt;
  const mime::Message& m = parsed.value();
  const mime::Part& root = m.root;
  MessageFacts f;
  auto imap = mime::imap_structure(m);
  f.envelope = std::move(imap.envelope);
  f.bodystructure = std::move(imap.body_structure);
  f.body = std::move(imap.body);
  if (const auto* id = mime::find_field(root, "Message-ID")) {
    const auto ids = message_ids(id->value, 1);
    if (!ids.empty()) f.message_id = ids.front();
  }
  if (const auto* refs = mime::find_field(root, "References")) {
    f.parents = message_ids(refs->value, kMaxParents);
  }
  if (const auto* reply = mime::find_field(root, "In-Reply-To")) {
    for (auto& id : message_ids(reply->value, 1)) {
      if (std::find(f.parents.begin(), f.parents.end(), id) == f.parents.end()) {
        f.parents.push_back(std::move(id));
      }
    }
  }
  if (const auto* date = mime::find_field(root, "Date")) {
    f.sent_date = mime::parse_rfc5322_date(mime::unfold(date->value)).value_or(0);
  }
  f.subject = decoded(root, "Subject");
  f.from = decoded(root, "From");
  f.to = decoded(root, "To");
  f.cc = decoded(root, "Cc");
  f.bcc = decoded(root, "Bcc");
  f.text = mime::searchable_text(m, kMaxSearchText);
  return f;
}

}  // namespace sealpost::store::mailbox
