#include "core/duration.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sealpost::core {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesDurations) {
  EXPECT_EQ(parse_duration("5d"), hours(120));
  EXPECT_EQ(parse_duration("300"), seconds(300));
  EXPECT_EQ(parse_duration("45s"), seconds(45));
  EXPECT_EQ(parse_duration("2h30m"), minutes(150));
  EXPECT_EQ(parse_duration("1d2h3m4s"), seconds(86400 + 7200 + 180 + 4));
  EXPECT_EQ(parse_duration(" 90m "), minutes(90));
  EXPECT_EQ(parse_duration("0h5m"), minutes(5));
  EXPECT_EQ(parse_duration("366d"), hours(366 * 24));
}

TEST(DurationTest, RejectsMalformedDurations) {
  for (const std::string_view bad : {"",
                                     " ",
                                     "0",
                                     "0s",
                                     "0d0h",
                                     "m",
                                     "5x",
                                     "5M",
                                     "-5m",
                                     "+5m",
                                     "5 m",
                                     "5m 3s",
                                     "2h30",
                                     "30m2h",
                                     "1h1h",
                                     "1.5h",
                                     "5m,",
                                     "367d",
                                     "99999999999",
                                     "99999999999s",
                                     "1e3",
                                     "\xef\xbc\x95m"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(parse_duration(bad), std::nullopt);
  }
}

TEST(DurationTest, ParsesDelayLists) {
  const auto d = parse_delays("5m,10m,1h,2h30m");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<seconds>{minutes(5), minutes(10), hours(1), minutes(150)}));
  EXPECT_EQ(parse_delays(" 30 , 1m "), (std::vector<seconds>{seconds(30), minutes(1)}));
  EXPECT_EQ(parse_delays("7d"), (std::vector<seconds>{hours(168)}));
}

TEST(DurationTest, RejectsMalformedDelayLists) {
  for (const std::string_view bad :
       {"", " ", ",", "5m,", ",5m", "5m,,10m", "5m;10m", "5m,0", "5m,7d1s", "8d", "5m,x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(parse_delays(bad), std::nullopt);
  }
  std::string many;
  for (std::size_t i = 0; i < kMaxRetrySteps; ++i) many += "1m,";
  many += "1m";
  EXPECT_EQ(parse_delays(many), std::nullopt);
  many.resize(many.size() - 3);
  EXPECT_EQ(parse_delays(many)->size(), kMaxRetrySteps);
}

}  // namespace
}  // namespace sealpost::core
