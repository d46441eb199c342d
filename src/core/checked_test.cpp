#include "core/checked.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace sealpost::core {
namespace {

constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();

TEST(CheckedArithmetic, AddAndMultiplyRefuseOverflow) {
  EXPECT_EQ(checked_add<std::uint64_t>(kMax - 1, 1), kMax);
  EXPECT_EQ(checked_add<std::uint64_t>(kMax, 1), std::nullopt);
  EXPECT_EQ(checked_mul<std::uint64_t>(kMax / 2, 2), kMax - 1);
  EXPECT_EQ(checked_mul<std::uint64_t>(kMax / 2 + 1, 2), std::nullopt);
  EXPECT_EQ(saturating_add<std::uint64_t>(kMax, 5), kMax);
  EXPECT_EQ(saturating_add<std::uint32_t>(1, 2), 3U);
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(saturating_add<std::int64_t>(std::numeric_limits<std::int64_t>::max(), 1),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(saturating_add<std::int64_t>(kMin, -1), kMin);
  EXPECT_EQ(saturating_add<std::int64_t>(-5, 3), -2);
}

TEST(CheckedArithmetic, FitsWithinNeverWrapsPastTheLimit) {
  EXPECT_TRUE(fits_within<std::uint64_t>(1, 9, 10));
  EXPECT_FALSE(fits_within<std::uint64_t>(1, 10, 10));
  // 1 + (2^64 - 1) wraps to 0 in plain arithmetic, which is "within" any limit.
  EXPECT_FALSE(fits_within<std::uint64_t>(1, kMax, 10));
  EXPECT_FALSE(fits_within<std::uint64_t>(11, 0, 10));
  EXPECT_TRUE(fits_within<std::uint64_t>(0, kMax, kMax));
}

}  // namespace
}  // namespace sealpost::core
