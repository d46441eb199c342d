#include "net/login_throttle.hpp"

#include <gtest/gtest.h>

namespace sealpost::net {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Clock = LoginThrottle::Clock;

TEST(LoginThrottle, AFewFailuresAreFreeThenTheWaitDoubles) {
  LoginThrottle t;
  const auto now = Clock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.wait_before("ip", "alice", now), Clock::duration::zero()) << i;
    t.failed("ip", "alice", now);
  }
  EXPECT_EQ(t.wait_before("ip", "alice", now), Clock::duration::zero()) << "5 free failures";
  t.failed("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(1));
  t.failed("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(2));
  t.failed("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(4));
  EXPECT_EQ(t.wait_before("ip", "alice", now + seconds(4)), Clock::duration::zero());
  // Another client is not held back by this one (the account has 8 of its 10 free failures).
  EXPECT_EQ(t.wait_before("other-ip", "alice", now), Clock::duration::zero());
}

TEST(LoginThrottle, TheWaitIsCapped) {
  LoginThrottle t;
  auto now = Clock::now();
  for (int i = 0; i < 200; ++i) t.failed("ip", "", now);
  EXPECT_EQ(t.wait_before("ip", "", now), minutes(15));
}

TEST(LoginThrottle, AnAccountIsSlowedFromEveryAddress) {
  LoginThrottle t;
  const auto now = Clock::now();
  for (int i = 0; i < 12; ++i) t.failed("ip" + std::to_string(i), "alice", now);
  EXPECT_EQ(t.wait_before("fresh-ip", "alice", now), seconds(2)) << "12 failures, 10 free";
  EXPECT_EQ(t.wait_before("fresh-ip", "bob", now), Clock::duration::zero());
  t.succeeded("fresh-ip", "alice");
  EXPECT_EQ(t.wait_before("ip0", "alice", now), Clock::duration::zero());
}

TEST(LoginThrottle, FailuresDecay) {
  LoginThrottle t;
  const auto now = Clock::now();
  for (int i = 0; i < 5; ++i) t.failed("ip", "", now);
  // Two minutes later two failures are forgotten: three more are free again... but not four.
  const auto later = now + minutes(2);
  t.failed("ip", "", later);
  t.failed("ip", "", later);
  EXPECT_EQ(t.wait_before("ip", "", later), Clock::duration::zero());
  t.failed("ip", "", later);
  EXPECT_GT(t.wait_before("ip", "", later), Clock::duration::zero());
}

TEST(LoginThrottle, MemoryIsBounded) {
  LoginThrottle t(1000);
  const auto now = Clock::now();
  for (int i = 0; i < 10000; ++i) t.failed("ip" + std::to_string(i), "", now + seconds(i));
  EXPECT_LE(t.size(), 1000U);
}

}  // namespace
}  // namespace sealpost::net
