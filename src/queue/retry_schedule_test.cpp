#include "queue/retry_schedule.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace sealpost::queue {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kQueued = 1'700'000'000;
constexpr std::int64_t kDay = 86'400;

TEST(RetryScheduleTest, DefaultsGrowFromFiveMinutesToFourHoursOverFiveDays) {
  const RetrySchedule s;
  const std::vector<seconds> expected = {minutes(5),  minutes(10), minutes(20), minutes(40),
                                         minutes(80), hours(2),    hours(3),    hours(4)};
  EXPECT_EQ(s.delays, expected);
  EXPECT_EQ(s.give_up_after, hours(120));
  EXPECT_EQ(s.delay_notice_after, hours(4));
}

TEST(RetryScheduleTest, NextAttemptFollowsTheDelaysAndRepeatsTheLast) {
  const RetrySchedule s;
  const std::int64_t now = kQueued + 100;
  EXPECT_EQ(next_attempt(s, 1, kQueued, now, 0.0), now + 300);
  EXPECT_EQ(next_attempt(s, 2, kQueued, now, 0.0), now + 600);
  EXPECT_EQ(next_attempt(s, 8, kQueued, now, 0.0), now + 4 * 3600);
  EXPECT_EQ(next_attempt(s, 9, kQueued, now, 0.0), now + 4 * 3600);
  EXPECT_EQ(next_attempt(s, 4'000'000'000U, kQueued, now, 0.0), now + 4 * 3600);
  // 0 failures is not a valid input; it is read as the first.
  EXPECT_EQ(next_attempt(s, 0, kQueued, now, 0.0), now + 300);
}

TEST(RetryScheduleTest, JitterAddsUpToTenPercent) {
  const RetrySchedule s;
  const std::int64_t now = kQueued;
  EXPECT_EQ(next_attempt(s, 1, kQueued, now, 0.5), now + 300 + 15);
  EXPECT_EQ(next_attempt(s, 8, kQueued, now, 0.25), now + 14400 + 360);
  const auto almost = next_attempt(s, 1, kQueued, now, 0.999999);
  ASSERT_TRUE(almost);
  EXPECT_GE(*almost, now + 300 + 29);
  EXPECT_LT(*almost, now + 300 + 30);
}

TEST(RetryScheduleTest, JitterOutOfRangeIsClamped) {
  const RetrySchedule s;
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, -3.0), kQueued + 300);
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, std::nan("")), kQueued + 300);
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, 1.0), kQueued + 300 + 29);
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, 1e300), kQueued + 300 + 29);
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, std::numeric_limits<double>::infinity()),
            kQueued + 300 + 29);
}

TEST(RetryScheduleTest, GivesUpAtTheDeadline) {
  const RetrySchedule s;
  const std::int64_t deadline = kQueued + 5 * kDay;
  EXPECT_EQ(next_attempt(s, 30, kQueued, deadline, 0.0), std::nullopt);
  EXPECT_EQ(next_attempt(s, 30, kQueued, deadline + 1, 0.0), std::nullopt);
  EXPECT_EQ(next_attempt(s, 1, kQueued, deadline + kDay, 0.0), std::nullopt);
}

TEST(RetryScheduleTest, LastAttemptIsMovedOntoTheDeadlineRatherThanGivingUpEarly) {
  const RetrySchedule s;
  const std::int64_t deadline = kQueued + 5 * kDay;
  // Four hours to wait but only one left: try once more at the deadline.
  EXPECT_EQ(next_attempt(s, 30, kQueued, deadline - 3600, 0.0), deadline);
  // Jitter does not push it past the deadline either.
  EXPECT_EQ(next_attempt(s, 30, kQueued, deadline - 14400, 0.9), deadline);
  EXPECT_EQ(next_attempt(s, 30, kQueued, deadline - 1, 0.0), deadline);
}

TEST(RetryScheduleTest, AWholeLifeEndsWithAnAttemptAtTheDeadline) {
  const RetrySchedule s;
  const std::int64_t deadline = kQueued + 5 * kDay;
  std::int64_t now = kQueued;
  std::uint32_t failures = 0;
  std::int64_t last = now;
  while (true) {
    ++failures;
    const auto next = next_attempt(s, failures, kQueued, now, 0.0);
    if (!next) break;
    ASSERT_GT(*next, now);
    last = now = *next;
  }
  EXPECT_EQ(last, deadline);
  // 5m..4h take 11h35m; the rest of the 120 hours at 4h each, and the one at the deadline.
  EXPECT_EQ(failures - 1, 8U + 27U + 1U);
}

TEST(RetryScheduleTest, EmptyOrNonPositiveDelaysStillPause) {
  RetrySchedule s;
  s.delays.clear();
  EXPECT_EQ(next_attempt(s, 3, kQueued, kQueued, 0.0), kQueued + 300);
  s.delays = {seconds(0), seconds(-5)};
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, 0.0), kQueued + 300);
  EXPECT_EQ(next_attempt(s, 2, kQueued, kQueued, 0.0), kQueued + 300);
}

TEST(RetryScheduleTest, ExtremeTimesSaturateInsteadOfOverflowing) {
  RetrySchedule s;
  s.give_up_after = seconds(std::numeric_limits<std::int64_t>::max());
  s.delays = {seconds(std::numeric_limits<std::int64_t>::max())};
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(next_attempt(s, 1, max - 10, max - 5, 0.9), max);
  s.give_up_after = seconds(-10);
  EXPECT_EQ(next_attempt(s, 1, kQueued, kQueued, 0.0), std::nullopt);
}

}  // namespace
}  // namespace sealpost::queue
