#include "smtp/client/tls_results.hpp"

#include <gtest/gtest.h>

namespace sealpost::smtp::client {
namespace {

TlsResults::Session session(std::string domain, std::string failure, std::string mx = "mx.a.test") {
  TlsResults::Session s;
  s.policy_domain = std::move(domain);
  s.policy_strings = {"version: STSv1", "mode: enforce"};
  s.mx_host = std::move(mx);
  s.receiving_ip = "192.0.2.1";
  s.failure = std::move(failure);
  return s;
}

TEST(TlsResultsTest, CountsSessionsPerDomainAndFailureKind) {
  TlsResults r;
  r.record(session("a.test", ""));
  r.record(session("a.test", ""));
  r.record(session("a.test", "starttls-not-supported"));
  r.record(session("a.test", "starttls-not-supported"));
  r.record(session("a.test", "certificate-expired", "mx2.a.test"));
  r.record(session("b.test", "no-such-kind"));  // unknown words count as validation-failure
  const auto taken = r.take();
  ASSERT_EQ(taken.size(), 2U);
  const auto& a = taken[0];
  EXPECT_EQ(a.policy_domain, "a.test");
  EXPECT_EQ(a.successful_session_count, 2U);
  EXPECT_EQ(a.failed_session_count, 3U);
  ASSERT_EQ(a.failure_details.size(), 2U);
  EXPECT_EQ(a.failure_details[0].result_type, TlsResultType::kStarttlsNotSupported);
  EXPECT_EQ(a.failure_details[0].failed_session_count, 2U);
  EXPECT_EQ(a.mx_host, (std::vector<std::string>{"mx.a.test", "mx2.a.test"}));
  EXPECT_EQ(taken[1].failure_details[0].result_type, TlsResultType::kValidationFailure);
  EXPECT_TRUE(r.take().empty()) << "taking empties it";
}

TEST(TlsResultsTest, StaysBounded) {
  TlsResults r;
  for (std::size_t i = 0; i < TlsResults::kMaxDomains + 50; ++i) {
    r.record(session("d" + std::to_string(i) + ".test", ""));
  }
  for (std::size_t i = 0; i < TlsResults::kMaxDetails + 50; ++i) {
    r.record(session("d0.test", "validation-failure", "mx" + std::to_string(i) + ".test"));
  }
  const auto taken = r.take();
  EXPECT_EQ(taken.size(), TlsResults::kMaxDomains);
  EXPECT_EQ(taken[0].failure_details.size(), TlsResults::kMaxDetails);
  EXPECT_EQ(taken[0].failed_session_count, TlsResults::kMaxDetails + 50);
}

TEST(TlsResultsTest, ResultTypeNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(TlsResultType::kStsWebpkiInvalid); ++i) {
    const auto t = static_cast<TlsResultType>(i);
    EXPECT_EQ(tls_result_type_from(to_string(t)), t);
  }
  EXPECT_FALSE(tls_result_type_from("").has_value());
}

}  // namespace
}  // namespace sealpost::smtp::client
