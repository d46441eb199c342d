// Parsed DKIM key records kept across messages, by selector. Turning an RSA key into OpenSSL's
// form (its decoder framework) costs about seven RSA-2048 verifications, and a sender signs every
// message with the same key: parsed once per TTL, the key costs what the signature check costs.
//
// An entry is found by domain and selector and used only for the same record text, so a rotated
// or revoked key (new text in DNS) is parsed at once; it expires with the record's TTL (at most an
// hour, as the resolver keeps answers), so nothing outlives what DNS said. Bounded; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/dkim/dkim.hpp"
#include "auth/dkim/record.hpp"

namespace sealpost::auth::dkim {

// A key record as verification needs it.
struct ParsedKey {
  std::optional<KeyRecord> record;  // nullopt: the record does not parse
  // Null when the record has no usable key (revoked, damaged, not the type k= says): `problem`
  // says which. The minimum RSA size is the verifier's to check (detail::rsa_bits).
  std::shared_ptr<const detail::PreparedKey> key;
  unsigned rsa_bits = 0;
  std::string problem;
};

// Parses a key record (the TXT text), its key prepared for verification.
ParsedKey parse_key(std::string_view record);

class KeyCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 1024;
  static constexpr std::uint32_t kMaxTtl = 3600;
  // Longer records (an RSA-8192 key takes ~1,500 characters) are parsed but not kept, so the cache
  // holds at most capacity × 4 KiB of text.
  static constexpr std::size_t kMaxRecord = 4096;

  explicit KeyCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // The parsed form of `record`, the TXT record that DNS gave for `selector`._domainkey.`domain`
  // with `ttl` seconds to live; `now` in Unix seconds. Parses only when the cache holds no entry
  // for the name with the same text, added less than its TTL ago.
  std::shared_ptr<const ParsedKey> get(std::string_view domain, std::string_view selector,
                                       std::string_view record, std::uint32_t ttl,
                                       std::uint64_t now);

  // How many records get() has parsed, for tests and statistics.
  [[nodiscard]] std::uint64_t parses() const { return parses_.load(); }
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::string record;
    std::shared_ptr<const ParsedKey> key;
    std::uint64_t added = 0;
    std::uint64_t expires = 0;
  };

  const std::size_t capacity_;
  std::atomic<std::uint64_t> parses_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // "selector._domainkey.domain" → entry
};

}  // namespace sealpost::auth::dkim
