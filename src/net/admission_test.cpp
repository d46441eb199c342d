#include "net/admission.hpp"

#include <gtest/gtest.h>

namespace sealpost::net {
namespace {

TEST(ClientNetwork, IPv6ClientsAreTheirPrefixIPv4TheirAddress) {
  EXPECT_EQ(client_network("2001:db8:1:2:aaaa::1", 64), "2001:db8:1:2::/64");
  EXPECT_EQ(client_network("2001:db8:1:2:bbbb:cccc:dddd:eeee", 64), "2001:db8:1:2::/64");
  EXPECT_EQ(client_network("2001:db8:1:3::1", 64), "2001:db8:1:3::/64");
  EXPECT_EQ(client_network("2001:db8:1:2:aaaa::1", 48), "2001:db8:1::/48");
  EXPECT_EQ(client_network("2001:db8::1", 128), "2001:db8::1/128");
  EXPECT_EQ(client_network("192.0.2.7", 64), "192.0.2.7");
  EXPECT_EQ(client_network("::ffff:192.0.2.7", 64), "192.0.2.7");
  EXPECT_EQ(client_network("not an address", 64), "not an address");
}

TEST(ConnectionLimiter, CountsAnIPv6SlashSixtyFourAsOneClient) {
  ConnectionLimiter limiter(2, 100, 64);
  ConnectionLimiter::Refusal why{};
  auto a = limiter.admit("2001:db8::1", why);
  auto b = limiter.admit("2001:db8::2", why);
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(limiter.admit("2001:db8::ffff:3", why));
  EXPECT_EQ(why, ConnectionLimiter::Refusal::kPerClient);
  EXPECT_TRUE(limiter.admit("2001:db8:0:1::1", why)) << "another /64";
  EXPECT_TRUE(limiter.admit("192.0.2.1", why));
}

}  // namespace
}  // namespace sealpost::net
