#include "filter/greylist.hpp"

#include <gtest/gtest.h>

#include "testing/temp_dir.hpp"

namespace sealpost::filter {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

class GreylistTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir); }
  Greylist list(GreylistSettings s = {}) {
    return Greylist(s, hasher, [this] { return now; });
  }
  std::filesystem::path dir = sealpost::testing::fresh_test_dir("sealpost-greylist");
  core::ClientHasher hasher{dir / "key"};
  // A clock of the test's own, moved by hand; it starts anywhere.
  std::chrono::steady_clock::time_point now{hours(1000)};
};

TEST_F(GreylistTest, TheFirstAttemptWaitsAndARetryAfterTheDelayPasses) {
  auto g = list();
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(300));
  now += seconds(100);
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(200));
  now += seconds(200);
  // A retry from another address of the sender's /24 counts as the same sender.
  EXPECT_EQ(g.check("192.0.2.77", "A@Sender.test", "b@example.com"), seconds(0));
  now += hours(24 * 30);
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(0)) << "passed";
  // Another recipient, sender or network is another triplet.
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "c@example.com"), seconds(300));
  EXPECT_EQ(g.check("192.0.2.1", "", "b@example.com"), seconds(300));
  EXPECT_EQ(g.check("198.51.100.1", "a@sender.test", "b@example.com"), seconds(300));
}

TEST_F(GreylistTest, ARetryTooLateStartsAgainAndPassesExpire) {
  auto g = list();
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(300));
  now += hours(25);
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(300));
  now += seconds(300);
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(0));
  now += hours(24 * 36);
  EXPECT_EQ(g.check("192.0.2.1", "a@sender.test", "b@example.com"), seconds(300));
}

TEST_F(GreylistTest, MemoryIsBounded) {
  GreylistSettings s;
  s.max_entries = 100;
  auto g = list(s);
  for (int i = 0; i < 1000; ++i) {
    now += seconds(1);
    (void)g.check("192.0.2.1", "a" + std::to_string(i) + "@sender.test", "b@example.com");
    ASSERT_LE(g.entries(), 100U);
  }
  // The newest are kept.
  now += seconds(300);
  EXPECT_EQ(g.check("192.0.2.1", "a999@sender.test", "b@example.com"), seconds(0));
}

}  // namespace
}  // namespace sealpost::filter
