#include "net/connection_rate.hpp"

#include <gtest/gtest.h>

#include "testing/temp_dir.hpp"

namespace sealpost::net {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

class ConnectionRateTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir); }
  ConnectionRate rate(std::uint32_t per_minute, std::size_t max_networks = 65536) {
    return ConnectionRate(
        per_minute, hasher, [this] { return now; }, max_networks);
  }
  std::filesystem::path dir = sealpost::testing::fresh_test_dir("sealpost-rate");
  core::ClientHasher hasher{dir / "key"};
  // A clock of the test's own, moved by hand; it starts anywhere.
  steady_clock::time_point now{std::chrono::hours(1000)};
};

TEST_F(ConnectionRateTest, NetworksAreIpv4SlashTwentyFourAndIpv6SlashSixtyFour) {
  EXPECT_EQ(ConnectionRate::network_of("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(ConnectionRate::network_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(ConnectionRate::network_of("::ffff:192.0.2.77"), "192.0.2.0/24");
}

TEST_F(ConnectionRateTest, ANetworkGetsItsRateAndRecoversWithTime) {
  auto r = rate(3);
  EXPECT_TRUE(r.admit("192.0.2.1"));
  EXPECT_TRUE(r.admit("192.0.2.2"));  // the same /24
  EXPECT_TRUE(r.admit("192.0.2.3"));
  EXPECT_FALSE(r.admit("192.0.2.4"));
  EXPECT_TRUE(r.admit("192.0.3.1")) << "another network has its own bucket";
  EXPECT_TRUE(r.admit("2001:db8::1"));
  now += seconds(20);  // a third of a minute: one connection
  EXPECT_TRUE(r.admit("192.0.2.1"));
  EXPECT_FALSE(r.admit("192.0.2.1"));
  now += seconds(600);  // never more than the bucket holds
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(r.admit("192.0.2.9")) << i;
  EXPECT_FALSE(r.admit("192.0.2.9"));
  // Zero: no limit.
  auto none = rate(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(none.admit("192.0.2.1"));
  EXPECT_EQ(none.networks(), 0U);
}

TEST_F(ConnectionRateTest, MemoryIsBoundedAndIdleNetworksAreForgottenFirst) {
  auto r = rate(2, 3);
  EXPECT_TRUE(r.admit("192.0.1.1"));
  EXPECT_TRUE(r.admit("192.0.1.1"));
  EXPECT_FALSE(r.admit("192.0.1.1"));
  EXPECT_TRUE(r.admit("192.0.2.1"));
  EXPECT_TRUE(r.admit("192.0.3.1"));
  EXPECT_EQ(r.networks(), 3U);
  // Full: a new network is let in uncounted, and the busy one stays limited.
  EXPECT_TRUE(r.admit("192.0.4.1"));
  EXPECT_EQ(r.networks(), 3U);
  EXPECT_FALSE(r.admit("192.0.1.1"));
  // Once the others are idle again they make room.
  now += seconds(60);
  EXPECT_TRUE(r.admit("192.0.5.1"));
  EXPECT_LE(r.networks(), 3U);
}

}  // namespace
}  // namespace sealpost::net
