// The metadata store: hosted domains and aliases (later: credentials' wrapped keys, DKIM keys,
// the outbound queue). An interface, so the embedded SQLite backend can be swapped for
// PostgreSQL without touching sessions or the CLI.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealpost::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AliasRecord {
  std::string local;                  // lowercase; "*" for the domain's catch-all
  std::string domain;                 // A-label, lowercase
  std::vector<std::string> forwards;  // normalised destination addresses

  [[nodiscard]] std::string address() const { return local + "@" + domain; }
};

// A domain's own content-filter settings (`sealpost domain filter`); what is unset follows the
// server's [filter].
struct DomainFilterRecord {
  std::optional<bool> enabled;
  std::optional<std::string> spam_action;  // "reject" or "junk"
  std::optional<bool> adult;               // adult-content protection

  [[nodiscard]] bool empty() const { return !enabled && !spam_action && !adult; }
  bool operator==(const DomainFilterRecord&) const = default;
};

// A domain's DKIM key. The private key is sealed under the server key (crypto/seal.hpp); the
// store never sees it in the clear.
struct DkimKeyRecord {
  std::string domain;
  std::string selector;
  std::string algorithm;  // "rsa-sha256" or "ed25519-sha256"
  std::vector<unsigned char> sealed_private;
  std::string public_record;     // the TXT value to publish
  std::int64_t created = 0;      // unix seconds
  std::int64_t active_from = 0;  // signing starts (after the record had time to spread)
  std::int64_t retire_at = 0;    // 0: not retiring; afterwards the key is deleted
};

// A sealed mailbox (DESIGN.md "Keys and storage"): everything here is public or sealed. The
// database file is named by `file_id`, not by the address.
struct MailboxRecord {
  std::string address;  // local@domain, lowercase, A-label domain
  std::string domain;
  std::string file_id;  // random hex: data_dir/mailboxes/<file_id>.db and .spool
  std::vector<unsigned char> spool_public_key;     // X25519
  std::vector<unsigned char> spool_secret_sealed;  // the X25519 secret, sealed under the master key
  std::int64_t quota_bytes = 0;                    // 0: none
  std::int64_t created = 0;
  // The secret of the key pair the last rekey rotated away from, sealed under the current master
  // key (empty: none): it opens what was sealed to the old public key while the rekey ran.
  std::vector<unsigned char> spool_previous_sealed;
};

// A rekeyed mailbox's new spool key pair: the public key deliveries seal to, and the new and the
// previous secret each sealed under the new master key.
struct SpoolKeyRecord {
  std::vector<unsigned char> public_key;
  std::vector<unsigned char> secret_sealed;
  std::vector<unsigned char> previous_sealed;
};

// One credential's wrapping of a mailbox's master key (crypto::WrappedKey::serialize()).
struct CredentialRecord {
  std::string address;
  std::string name;  // "password", or an app password's label
  std::string wrapped;
  std::int64_t created = 0;
};

// An outbound message (DESIGN.md "Submission"). Everything that tells who wrote to whom, and the
// content, is sealed under the server key by the queue (queue/queue.hpp) before it gets here:
// the store sees ids, times, states and reply codes only.
struct QueueEntryRecord {
  std::int64_t id = 0;
  std::string token;  // the public id `sealpost queue` shows: random hex
  std::string kind;   // "mail", "dsn" (a bounce we send), "report" (TLS-RPT, DMARC)
  std::int64_t created = 0;
  std::int64_t size = 0;  // of the content as queued
  std::vector<unsigned char> envelope_sealed;
  std::vector<unsigned char> content_sealed;
  bool delay_notified = false;
  std::int64_t retain_until = 0;  // 0 while any recipient is pending
  bool redacted = false;
};

enum class RecipientState { kPending, kDelivered, kFailed };

struct QueueRecipientRecord {
  std::int64_t entry_id = 0;
  int index = 0;  // position in the sealed envelope's recipient list
  RecipientState state = RecipientState::kPending;
  int attempts = 0;
  std::int64_t next_attempt = 0;
  int last_code = 0;
  std::string last_enhanced;
  std::string category;                      // queue::BounceCategory's name, empty when none
  std::vector<unsigned char> detail_sealed;  // the remote's reply text and host; may be empty
  std::int64_t updated = 0;
};

// A queue entry not yet stored: its sealed values and its recipients' first records.
struct NewQueueEntry {
  QueueEntryRecord entry;
  std::vector<QueueRecipientRecord> recipients;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Throws StoreError when the domain is already hosted.
  virtual void add_domain(const std::string& domain) = 0;
  // Removes the domain and its aliases; false when it was not hosted.
  virtual bool remove_domain(const std::string& domain) = 0;
  virtual std::vector<std::string> list_domains() = 0;
  // How long a domain's sent mail keeps its sealed content in the queue after delivery; nullopt
  // puts it back to the server's [queue] retention. False when the domain is not hosted.
  virtual bool set_domain_retention(const std::string& domain,
                                    std::optional<std::int64_t> seconds) = 0;
  // The domains that have their own retention, in seconds.
  virtual std::map<std::string, std::int64_t> domain_retentions() = 0;
  // Replaces a domain's filter settings (an empty record: the server's for all). False when the
  // domain is not hosted.
  virtual bool set_domain_filter(const std::string& domain, const DomainFilterRecord& filter) = 0;
  // The domains that have filter settings of their own.
  virtual std::map<std::string, DomainFilterRecord> domain_filters() = 0;

  // Creates the alias, or adds forwards to an existing one. Throws StoreError when the domain
  // is not hosted.
  virtual void add_alias(const AliasRecord& alias) = 0;
  // Removes the whole alias; false when it did not exist.
  virtual bool remove_alias(const std::string& local, const std::string& domain) = 0;
  virtual std::vector<AliasRecord> list_aliases(const std::string& domain) = 0;
  virtual std::vector<AliasRecord> all_aliases() = 0;

  // DKIM keys. Throws StoreError when the domain is not hosted or the selector is taken.
  virtual void add_dkim_key(const DkimKeyRecord& key) = 0;
  // The domain's keys, oldest first.
  virtual std::vector<DkimKeyRecord> dkim_keys(const std::string& domain) = 0;
  virtual std::vector<DkimKeyRecord> all_dkim_keys() = 0;
  virtual void set_dkim_retire_at(const std::string& domain, const std::string& selector,
                                  std::int64_t retire_at) = 0;
  // Deletes keys whose retire_at has passed; returns how many.
  virtual int delete_retired_dkim_keys(std::int64_t now) = 0;

  // Mailboxes. add_mailbox throws StoreError when the domain is not hosted or the address has a
  // mailbox already; it stores the first credential in the same transaction.
  virtual void add_mailbox(const MailboxRecord& mailbox, const CredentialRecord& first) = 0;
  virtual std::optional<MailboxRecord> mailbox(const std::string& address) = 0;
  virtual std::vector<MailboxRecord> list_mailboxes(const std::string& domain) = 0;
  virtual bool remove_mailbox(const std::string& address) = 0;  // and its credentials
  // Adds or replaces the named credential.
  virtual void set_credential(const CredentialRecord& credential) = 0;
  virtual bool remove_credential(const std::string& address, const std::string& name) = 0;
  // A rekeyed mailbox (`mailbox passwd --rekey`): its new spool key pair, and `password` as its
  // only credential (app passwords wrapped the old key: they go), in one transaction. False when
  // there is no such mailbox.
  virtual bool replace_keys(const std::string& address, const SpoolKeyRecord& spool,
                            const CredentialRecord& password) = 0;
  // Sets a mailbox's quota (0: none); false when there is no such mailbox.
  virtual bool set_quota(const std::string& address, std::int64_t bytes) = 0;
  virtual std::vector<CredentialRecord> credentials(const std::string& address) = 0;

  // The outbound queue. queue_add commits the entries and their recipients durably (fsync'd)
  // before it returns, all in one transaction (a group commit: one fsync for many messages), all
  // or none: what it returns is what a 250 may be given for. Returns the entries' ids in order.
  virtual std::vector<std::int64_t> queue_add(std::span<const NewQueueEntry> entries) = 0;
  // The write-ahead log, for tests: checkpoints completed in the background since the store was
  // opened, and the log's pages after the last commit.
  struct WalState {
    std::uint64_t checkpoints = 0;
    int pages = 0;
  };
  [[nodiscard]] virtual WalState wal_state() const = 0;
  virtual std::optional<QueueEntryRecord> queue_entry(std::int64_t id) = 0;
  virtual std::optional<QueueEntryRecord> queue_entry_by_token(const std::string& token) = 0;
  // Entries with a pending recipient due at `now` or earlier, soonest first, at most `limit`.
  virtual std::vector<std::int64_t> queue_due(std::int64_t now, std::size_t limit) = 0;
  virtual std::vector<QueueRecipientRecord> queue_recipients(std::int64_t entry_id) = 0;
  // Every entry, newest first (for `sealpost queue list`), at most `limit`.
  virtual std::vector<QueueEntryRecord> queue_list(std::size_t limit) = 0;
  // Records attempts' outcomes in one transaction, and when no recipient is left pending sets
  // the entry's retain_until.
  virtual void queue_update(std::int64_t entry_id, const std::vector<QueueRecipientRecord>& changed,
                            std::int64_t retain_until_if_done) = 0;
  virtual void queue_set_delay_notified(std::int64_t entry_id) = 0;
  // Makes pending recipients due at `now`: one entry (false when unknown) or every entry.
  virtual bool queue_retry(std::int64_t entry_id, std::int64_t now) = 0;
  virtual std::size_t queue_retry_all(std::int64_t now) = 0;
  virtual bool queue_drop(std::int64_t entry_id) = 0;
  // Finished entries whose retention has passed and that still hold their content.
  virtual std::vector<std::int64_t> queue_due_for_redaction(std::int64_t now,
                                                            std::size_t limit) = 0;
  // Replaces the content (the caller seals the notice) and marks the entry redacted.
  virtual void queue_redact(std::int64_t entry_id,
                            const std::vector<unsigned char>& content_sealed) = 0;
  // Counts for metrics: pending entries, and recipients per (state, category).
  virtual std::vector<std::pair<std::string, std::int64_t>> queue_counts() = 0;

  // Changes whenever another process (the CLI) committed a change; cheap to poll.
  virtual std::uint64_t change_marker() = 0;
};

// The embedded default: one SQLite file, `data_dir/metadata.db`.
std::unique_ptr<MetadataStore> open_sqlite_metadata_store(const std::string& path);

}  // namespace sealpost::store
