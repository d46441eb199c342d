#include "core/strings.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace sealpost {
namespace {

constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();

TEST(ParseDecimal, ReadsValuesUpToTwoToTheSixtyFourMinusOne) {
  EXPECT_EQ(parse_decimal("0"), 0U);
  EXPECT_EQ(parse_decimal("18446744073709551615", 20), kMax);
  EXPECT_EQ(parse_decimal("00000000000000000001", 20), 1U);
}

TEST(ParseDecimal, RefusesValuesThatWouldWrapAround) {
  // 2^64 used to read as 0, and 2^64 + 5 as 5.
  EXPECT_EQ(parse_decimal("18446744073709551616", 20), std::nullopt);
  EXPECT_EQ(parse_decimal("18446744073709551621", 20), std::nullopt);
  EXPECT_EQ(parse_decimal("99999999999999999999", 20), std::nullopt);
}

TEST(ParseDecimal, RefusesNonDigitsEmptyAndTooManyDigits) {
  EXPECT_EQ(parse_decimal(""), std::nullopt);
  EXPECT_EQ(parse_decimal("12a"), std::nullopt);
  EXPECT_EQ(parse_decimal("-1"), std::nullopt);
  EXPECT_EQ(parse_decimal("1234", 3), std::nullopt);
}

TEST(ParseDecimalSaturating, ReadsAHugeWellFormedValueAsTheLargest) {
  EXPECT_EQ(parse_decimal_saturating("18446744073709551616", 20), kMax);
  EXPECT_EQ(parse_decimal_saturating("99999999999999999999", 20), kMax);
  EXPECT_EQ(parse_decimal_saturating("42", 20), 42U);
  EXPECT_EQ(parse_decimal_saturating("1x", 20), std::nullopt);
  EXPECT_EQ(parse_decimal_saturating("123456789012345678901", 20), std::nullopt);
}

}  // namespace
}  // namespace sealpost
