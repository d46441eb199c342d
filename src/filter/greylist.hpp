// Greylisting (issue 18 item 2; off by default): the first attempt of a (client network, sender,
// recipient) triplet is deferred with 451 4.7.1, and a retry after `delay` (within `window`) is
// let through; from then on the triplet passes for `pass_for`. Real mail servers retry; much
// bulk software does not. The triplets are kept as keyed hashes, in memory only, and at most
// `max_entries` of them (the oldest go first).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/log.hpp"

namespace sealpost::filter {

struct GreylistSettings {
  std::chrono::seconds delay{300};
  std::chrono::seconds window{std::chrono::hours(24)};
  std::chrono::seconds pass_for{std::chrono::hours(24 * 35)};
  std::size_t max_entries = 1'000'000;
};

class Greylist {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  Greylist(GreylistSettings settings, const core::ClientHasher& hasher,
           Clock clock = std::chrono::steady_clock::now);

  // Zero when the triplet may pass; otherwise how long until a retry will. `client_ip` is
  // counted by its network (an IPv4 /24, an IPv6 /64: senders retry from another address of
  // their pool), `sender` and `recipient` as the envelope gives them.
  std::chrono::seconds check(const std::string& client_ip, std::string_view sender,
                             std::string_view recipient);

  [[nodiscard]] std::size_t entries() const;

 private:
  struct Entry {
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point passed_until{};  // zero: not yet passed
  };
  void forget_oldest();

  const GreylistSettings settings_;
  const core::ClientHasher& hasher_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sealpost::filter
