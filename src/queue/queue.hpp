// The outbound queue as the rest of the server sees it (DESIGN.md "Submission"): messages with
// their envelopes, in the clear only in memory. Before anything reaches the metadata store, the
// envelope (who wrote to whom), the content and each remote answer are sealed under a queue key
// derived from the server key, each bound to its entry so no sealed value can move to another.
//
// Every call blocks (SQLite with fsync): run it on the worker pool.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::queue {

struct Envelope {
  std::string owner;   // the authenticated address that submitted it; empty for our own mail
  std::string sender;  // the reverse-path; empty for the null sender (DSNs)
  std::vector<std::string> recipients;
  bool smtputf8 = false;
  bool eightbit = false;
};

// What a redacted entry's content becomes (the wording, kept verbatim for users).
inline constexpr std::string_view kRedactionNotice =
    "This message was successfully sent. It has been redacted and purged for your security and "
    "privacy.";

struct Recipient {
  std::string address;
  store::QueueRecipientRecord record;  // detail_sealed left as stored
  std::string detail;                  // the opened detail ("host\nreply"), empty when none
};

struct Entry {
  store::QueueEntryRecord record;  // sealed fields cleared
  Envelope envelope;
  std::string content;  // the message, or the redaction notice
  std::vector<Recipient> recipients;
};

class Queue {
 public:
  // `server_key`: the 32-byte server key; the queue derives its own key from it.
  Queue(store::MetadataStore& store, std::span<const unsigned char> server_key);

  struct Added {
    std::int64_t id = 0;
    std::string token;
  };
  // Seals and commits durably. `kind`: "mail", "dsn", "report".
  Added add(const Envelope& envelope, std::string_view content, std::string_view kind,
            std::int64_t now);
  // add() in two steps, so that many entries can share one commit (queue::Committer): seal
  // needs no store; commit stores them all in one transaction, all or none, in order.
  [[nodiscard]] store::NewQueueEntry seal(const Envelope& envelope, std::string_view content,
                                          std::string_view kind, std::int64_t now) const;
  std::vector<Added> commit(std::span<const store::NewQueueEntry> entries);

  // Opens an entry (envelope, content, recipients). nullopt when it is gone; throws when the
  // sealed values do not open (a wrong server key, or tampering).
  std::optional<Entry> load(std::int64_t id, bool with_content = true);
  std::optional<std::int64_t> id_of(const std::string& token);

  // Seals a recipient's detail ("remote host" LF "reply text") for store::queue_update.
  std::vector<unsigned char> seal_detail(const store::QueueEntryRecord& entry, int index,
                                         std::string_view detail) const;
  // Replaces the content by kRedactionNotice.
  void redact(const store::QueueEntryRecord& entry);

  [[nodiscard]] store::MetadataStore& store() { return store_; }

 private:
  store::MetadataStore& store_;
  crypto::SecretBytes key_;
};

// "local@domain" -> "domain", lowercase; empty when there is no '@'.
std::string domain_of(std::string_view address);

}  // namespace sealpost::queue
