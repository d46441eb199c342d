// Connections per network and per minute on the MX (issue 18 item 2), as Postfix's anvil counts
// them: a token bucket for each IPv4 /24 and each IPv6 /64, holding `per_minute` connections and
// refilled at that rate. A spammer's botnet seldom holds one address for long, but its hosts
// cluster in networks. Networks are kept as keyed hashes (core::ClientHasher), in memory only,
// and at most `max_networks` of them: those whose buckets are full again are forgotten first;
// past that, new networks are let in uncounted rather than refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/log.hpp"

namespace sealpost::net {

class ConnectionRate {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  ConnectionRate(std::uint32_t per_minute, const core::ClientHasher& hasher,
                 Clock clock = std::chrono::steady_clock::now, std::size_t max_networks = 65536);

  // Counts a connection from `client_ip`; false when its network is over the rate.
  bool admit(const std::string& client_ip);

  [[nodiscard]] std::size_t networks() const;

  // "192.0.2.0/24" or "2001:db8:1:2::/64": the network a rate is counted for.
  static std::string network_of(const std::string& client_ip);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void forget_idle(std::chrono::steady_clock::time_point now);

  const double per_minute_;
  const core::ClientHasher& hasher_;
  const Clock clock_;
  const std::size_t max_networks_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sealpost::net
