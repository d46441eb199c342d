#include "net/admission.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace sealpost::net {

std::string client_network(const std::string& ip, unsigned v6_prefix) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  if (ec || !address.is_v6()) return ip;
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  const auto prefix = static_cast<unsigned short>(std::clamp(v6_prefix, 1U, 128U));
  return boost::asio::ip::make_network_v6(v6, prefix).canonical().to_string();
}

ConnectionLimiter::Ticket ConnectionLimiter::admit(const std::string& client_ip, Refusal& why) {
  const std::string client = client_network(client_ip, v6_prefix_);
  std::lock_guard lock(mutex_);
  if (count_ >= total_) {
    why = Refusal::kTotal;
    return {};
  }
  auto& n = per_address_[client];
  if (n >= per_client_) {
    why = Refusal::kPerClient;
    return {};
  }
  ++n;
  ++count_;
  why = Refusal::kNone;
  return {this, client};
}

void ConnectionLimiter::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  --count_;
  const auto it = per_address_.find(client);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace sealpost::net
