// Per-domain DKIM keys: creation (RSA-2048 and Ed25519 together, sealed under the server key into
// the metadata store), rotation, and the signing keys a running server holds in memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "auth/dkim/dkim.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::auth::dkim {

struct NamedKey {
  std::string selector;
  SigningKey key;
};

// Creates an RSA-2048 and an Ed25519 key for `domain`, signing from `active_from`. Selectors are
// "sYYYYMMDDr" and "sYYYYMMDDe" (a suffix when taken). Returns the new records.
std::vector<store::DkimKeyRecord> create_keys(store::MetadataStore& store,
                                              std::span<const unsigned char> server_key,
                                              const std::string& domain, std::int64_t now,
                                              std::int64_t active_from);

// Rotation: new keys signing from now + `publish_delay`; the current ones retire `grace` after
// that. Returns the new records.
std::vector<store::DkimKeyRecord> rotate_keys(store::MetadataStore& store,
                                              std::span<const unsigned char> server_key,
                                              const std::string& domain, std::int64_t now,
                                              std::int64_t publish_delay, std::int64_t grace);

// The keys each domain signs with now: per algorithm, the newest key whose active_from has come.
class Keyring {
 public:
  static std::shared_ptr<const Keyring> load(store::MetadataStore& store,
                                             std::span<const unsigned char> server_key,
                                             std::int64_t now);
  // Empty when the domain has none.
  [[nodiscard]] const std::vector<NamedKey>& keys(const std::string& domain) const;
  // The DKIM-Signature fields of every key `domain` signs with now (RSA and Ed25519, RFC 8463),
  // to put on top of `message`; empty when it has none or the message cannot be signed.
  // `timestamp`: t=, 0 for the clock.
  [[nodiscard]] std::string sign(std::string_view message, const std::string& domain,
                                 std::uint64_t timestamp = 0) const;

 private:
  std::map<std::string, std::vector<NamedKey>> keys_;
};

// The keyring a running server signs with, swapped whole when the store changes.
class KeyringHolder {
 public:
  [[nodiscard]] std::shared_ptr<const Keyring> get() const { return ring_.load(); }
  void set(std::shared_ptr<const Keyring> ring) { ring_.store(std::move(ring)); }

 private:
  std::atomic<std::shared_ptr<const Keyring>> ring_{std::make_shared<const Keyring>()};
};

}  // namespace sealpost::auth::dkim
