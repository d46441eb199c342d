// The metadata store: hosted domains and aliases (later: credentials' wrapped keys, DKIM keys,
// the outbound queue). An interface, so the embedded SQLite backend can be swapped for
// PostgreSQL without touching sessions or the CLI.
#pragma once

#include <cstdint>
#include <memory>
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

  // Changes whenever another process (the CLI) committed a change; cheap to poll.
  virtual std::uint64_t change_marker() = 0;
};

// The embedded default: one SQLite file, `data_dir/metadata.db`.
std::unique_ptr<MetadataStore> open_sqlite_metadata_store(const std::string& path);

}  // namespace sealpost::store
