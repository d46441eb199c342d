#include "delivery/submitter.hpp"

#include <gtest/gtest.h>

#include "mime/content.hpp"

namespace sealpost::delivery {
namespace {

TEST(SendingRatesTest, CountsPerHourAndPerDayAndRollsOver) {
  SendingRates rates;
  const SendingRates::Limits limits{2, 3};
  const std::int64_t t0 = 1796342400;  // a UTC midnight
  EXPECT_TRUE(rates.allows("user:a", limits, t0));
  rates.count("user:a", t0);
  rates.count("user:a", t0 + 10);
  EXPECT_FALSE(rates.allows("user:a", limits, t0 + 20)) << "2 per hour";
  EXPECT_TRUE(rates.allows("user:b", limits, t0 + 20)) << "per key";
  EXPECT_TRUE(rates.allows("user:a", limits, t0 + 3600)) << "the next hour";
  rates.count("user:a", t0 + 3600);
  EXPECT_FALSE(rates.allows("user:a", limits, t0 + 7200)) << "3 per day";
  EXPECT_TRUE(rates.allows("user:a", limits, t0 + 86400)) << "the next day";
}

TEST(MissingSubmissionFieldsTest, AddsDateAndMessageIdOnlyWhenAbsent) {
  const std::string bare = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
  const auto h = mime::split_header(bare);
  ASSERT_TRUE(h);
  const std::string added = missing_submission_fields(*h, "example.com", 1796342400);
  EXPECT_EQ(added.substr(0, 43), "Date: Fri, 04 Dec 2026 00:00:00 +0000\r\nMess");
  EXPECT_NE(added.find("Message-ID: <"), std::string::npos);
  EXPECT_NE(added.find("@example.com>\r\n"), std::string::npos);

  const std::string full =
      "From: a@example.com\r\ndate: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
      "MESSAGE-ID: <x@y>\r\n\r\nbody\r\n";
  const auto h2 = mime::split_header(full);
  ASSERT_TRUE(h2);
  EXPECT_EQ(missing_submission_fields(*h2, "example.com", 1796342400), "");
}

}  // namespace
}  // namespace sealpost::delivery
