#include "dns/lookup.hpp"

namespace sealpost::dns {

std::string reverse_name(const boost::asio::ip::address& address) {
  std::string name;
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    for (int i = 3; i >= 0; --i) name += std::to_string(b[static_cast<std::size_t>(i)]) + '.';
    return name + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const auto b = address.to_v6().to_bytes();
  for (int i = 15; i >= 0; --i) {
    const auto octet = b[static_cast<std::size_t>(i)];
    name += kHex[octet & 0xf];
    name += '.';
    name += kHex[octet >> 4];
    name += '.';
  }
  return name + "ip6.arpa";
}

}  // namespace sealpost::dns
