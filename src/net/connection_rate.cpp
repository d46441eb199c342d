#include "net/connection_rate.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace sealpost::net {

namespace asio = boost::asio;
using Minutes = std::chrono::duration<double, std::ratio<60>>;

ConnectionRate::ConnectionRate(std::uint32_t per_minute, const core::ClientHasher& hasher,
                               Clock clock, std::size_t max_networks)
    : per_minute_(per_minute),
      hasher_(hasher),
      clock_(std::move(clock)),
      max_networks_(max_networks) {}

std::string ConnectionRate::network_of(const std::string& client_ip) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(client_ip, ec);
  if (ec) return client_ip;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) {
    return asio::ip::make_network_v4(address.to_v4(), 24).canonical().to_string();
  }
  return asio::ip::make_network_v6(address.to_v6(), 64).canonical().to_string();
}

void ConnectionRate::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double minutes = Minutes(now - b.updated).count();
  if (minutes > 0) b.tokens = std::min(per_minute_, b.tokens + minutes * per_minute_);
  b.updated = std::max(b.updated, now);
}

void ConnectionRate::forget_idle(std::chrono::steady_clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= per_minute_ ? buckets_.erase(it) : std::next(it);
  }
}

bool ConnectionRate::admit(const std::string& client_ip) {
  if (per_minute_ <= 0) return true;
  const std::string key = hasher_.hash(network_of(client_ip));
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_networks_) forget_idle(now);
    if (buckets_.size() >= max_networks_) return true;  // uncounted, never refused for it
    it = buckets_.emplace(key, Bucket{per_minute_, now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

std::size_t ConnectionRate::networks() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace sealpost::net
