// The metadata store: hosted domains and aliases (later: credentials' wrapped keys, DKIM keys,
// the outbound queue). An interface, so the embedded SQLite backend can be swapped for
// PostgreSQL without touching sessions or the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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
};

// One credential's wrapping of a mailbox's master key (crypto::WrappedKey::serialize()).
struct CredentialRecord {
  std::string address;
  std::string name;  // "password", or an app password's label
  std::string wrapped;
  std::int64_t created = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Throws StoreError when the domain is already hosted.
  virtual void add_domain(const std::string& domain) = 0;
  // Removes the domain and its aliases; false when it was not hosted.
  virtual bool remove_domain(const std::string& domain) = 0;
  virtual std::vector<std::string> list_domains() = 0;

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
  // Sets a mailbox's quota (0: none); false when there is no such mailbox.
  virtual bool set_quota(const std::string& address, std::int64_t bytes) = 0;
  virtual std::vector<CredentialRecord> credentials(const std::string& address) = 0;

  // Changes whenever another process (the CLI) committed a change; cheap to poll.
  virtual std::uint64_t change_marker() = 0;
};

// The embedded default: one SQLite file, `data_dir/metadata.db`.
std::unique_ptr<MetadataStore> open_sqlite_metadata_store(const std::string& path);

}  // namespace sealpost::store
