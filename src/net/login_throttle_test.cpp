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
    t.attempting("ip", "alice", now);
  }
  EXPECT_EQ(t.wait_before("ip", "alice", now), Clock::duration::zero()) << "5 free failures";
  t.attempting("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(1));
  t.attempting("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(2));
  t.attempting("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(4));
  EXPECT_EQ(t.wait_before("ip", "alice", now + seconds(4)), Clock::duration::zero());
  // Another client is not held back by this one (the account has 8 of its 10 free failures).
  EXPECT_EQ(t.wait_before("other-ip", "alice", now), Clock::duration::zero());
}

TEST(LoginThrottle, TheWaitIsCapped) {
  LoginThrottle t;
  auto now = Clock::now();
  for (int i = 0; i < 200; ++i) t.attempting("ip", "", now);
  EXPECT_EQ(t.wait_before("ip", "", now), minutes(15));
}

TEST(LoginThrottle, AnAccountIsSlowedFromEveryAddress) {
  LoginThrottle t;
  const auto now = Clock::now();
  for (int i = 0; i < 12; ++i) t.attempting("ip" + std::to_string(i), "alice", now);
  EXPECT_EQ(t.wait_before("fresh-ip", "alice", now), seconds(2)) << "12 failures, 10 free";
  EXPECT_EQ(t.wait_before("fresh-ip", "bob", now), Clock::duration::zero());
  // A success elsewhere takes back only what that client's attempts counted.
  t.succeeded("fresh-ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip0", "alice", now), seconds(2));
  EXPECT_EQ(t.wait_before("ip0", "alice", now + seconds(2)), Clock::duration::zero());
}

TEST(LoginThrottle, ASuccessTakesBackOnlyThatClientsAttemptsOnThatAccount) {
  LoginThrottle t;
  const auto now = Clock::now();
  // A guesser fails on bob five times, then logs in to its own account, mallory...
  for (int i = 0; i < 5; ++i) t.attempting("ip", "bob", now);
  t.attempting("ip", "mallory", now);
  t.succeeded("ip", "mallory", now);
  // ...which does not reset its count: the next failure on bob is past the free ones.
  t.attempting("ip", "bob", now);
  EXPECT_EQ(t.wait_before("ip", "bob", now), seconds(1));
  EXPECT_EQ(t.wait_before("ip", "carol", now), seconds(1)) << "the client is slowed";

  // The owner who mistyped twice, then got it right, is back to a clean slate.
  t.attempting("home", "alice", now);
  t.attempting("home", "alice", now);
  t.attempting("home", "alice", now);
  t.succeeded("home", "alice", now);
  for (int i = 0; i < 5; ++i) t.attempting("home", "x" + std::to_string(i), now);
  EXPECT_EQ(t.wait_before("home", "alice", now), Clock::duration::zero());
}

TEST(LoginThrottle, AnAttemptCountsBeforeItsWorkIsDone) {
  LoginThrottle t;
  const auto now = Clock::now();
  // Six attempts started at once (parallel connections): the sixth is known before any ends.
  for (int i = 0; i < 6; ++i) t.attempting("ip", "alice", now);
  EXPECT_EQ(t.wait_before("ip", "alice", now), seconds(1));
}

TEST(LoginThrottle, FailuresDecay) {
  LoginThrottle t;
  const auto now = Clock::now();
  for (int i = 0; i < 5; ++i) t.attempting("ip", "", now);
  // Two minutes later two failures are forgotten: three more are free again... but not four.
  const auto later = now + minutes(2);
  t.attempting("ip", "", later);
  t.attempting("ip", "", later);
  EXPECT_EQ(t.wait_before("ip", "", later), Clock::duration::zero());
  t.attempting("ip", "", later);
  EXPECT_GT(t.wait_before("ip", "", later), Clock::duration::zero());
}

TEST(LoginThrottle, MemoryIsBounded) {
  LoginThrottle t(1000);
  const auto now = Clock::now();
  for (int i = 0; i < 10000; ++i) t.attempting("ip" + std::to_string(i), "", now + seconds(i));
  EXPECT_LE(t.size(), 1000U);
}

}  // namespace
}  // namespace sealpost::net
