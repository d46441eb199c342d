#include "auth/dkim/key_cache.hpp"

#include <algorithm>

#include <openssl/evp.h>

namespace sealpost::auth::dkim {

ParsedKey parse_key(std::string_view record) {
  ParsedKey parsed;
  auto key_record = parse_key_record(record);
  if (!key_record) return parsed;
  parsed.record = std::move(key_record.value());
  auto key = detail::public_key(*parsed.record, parsed.problem);
  if (!key) return parsed;
  parsed.rsa_bits = detail::rsa_bits(key.get());
  parsed.key = std::make_shared<const detail::PreparedKey>(std::move(key),
                                                           detail::PreparedKey::Operation::kVerify);
  return parsed;
}

std::shared_ptr<const ParsedKey> KeyCache::get(std::string_view domain, std::string_view selector,
                                               std::string_view record, std::uint32_t ttl,
                                               std::uint64_t now) {
  std::string name = std::string(selector) + "._domainkey." + std::string(domain);
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(name);
    // A clock set back (now < added) is no reason to keep an entry longer than its TTL.
    if (it != entries_.end() && it->second.record == record && it->second.added <= now &&
        now < it->second.expires) {
      return it->second.key;
    }
  }
  // Parsed without the lock: it is the slow part. Two threads may both parse a new key once.
  ++parses_;
  auto key = std::make_shared<const ParsedKey>(parse_key(record));
  ttl = std::min(ttl, kMaxTtl);
  if (ttl == 0 || capacity_ == 0 || record.size() > kMaxRecord) return key;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_ && !entries_.contains(name)) {
    // Full: expired entries go first, else the one nearest its expiry.
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second.expires; });
    if (entries_.size() >= capacity_) {
      entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
        return a.second.expires < b.second.expires;
      }));
    }
  }
  entries_.insert_or_assign(std::move(name), Entry{std::string(record), key, now, now + ttl});
  return key;
}

std::size_t KeyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace sealpost::auth::dkim
