#include "auth/dmarc/record.hpp"

#include <gtest/gtest.h>


namespace sealpost::auth::dmarc {
namespace {

TEST(DmarcRecord, ParsesTheRfcExample) {
  auto r = parse_record(
      "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
      "mailto:tld-test@thirdparty.example.net!10m; pct=25");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kQuarantine);
  EXPECT_EQ(r->pct, 25u);
  ASSERT_EQ(r->rua.size(), 2u);
  EXPECT_EQ(*mailto_address(r->rua[1]), "tld-test@thirdparty.example.net");
  EXPECT_FALSE(r->sp);
  EXPECT_EQ(r->adkim, Alignment::kRelaxed);
}

TEST(DmarcRecord, WhitespaceCaseAndDefaults) {
  auto r = parse_record(" v = DMARC1 ;P=Reject;sp=none; adkim=s ;aspf=S; pct=abc; fo=1;");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_EQ(*r->sp, Policy::kNone);
  EXPECT_EQ(r->adkim, Alignment::kStrict);
  EXPECT_EQ(r->aspf, Alignment::kStrict);
  EXPECT_EQ(r->pct, 100u) << "a bad pct falls back to the default";
}

TEST(DmarcRecord, RefusesWhatIsNotAPolicy) {
  EXPECT_EQ(parse_record("v=DMARC1").error(), RecordError::kNoPolicy);
  EXPECT_EQ(parse_record("v=DMARC1; p=bogus").error(), RecordError::kNoPolicy);
  // Section 6.6.3: no valid p= but a valid rua=: p=none.
  auto r = parse_record("v=DMARC1; p=bogus; rua=mailto:r@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kNone);
  EXPECT_EQ(parse_record("v=DMARC1; p=none; p=reject").error(), RecordError::kDuplicateTag);
  EXPECT_EQ(parse_record("v=spf1 -all").error(), RecordError::kNotDmarc);
  EXPECT_EQ(parse_record("p=reject; v=DMARC1").error(), RecordError::kNotDmarc);
  EXPECT_EQ(parse_record("v=dmarc1; p=reject").error(), RecordError::kNotDmarc);
  EXPECT_EQ(parse_record(std::string(5000, 'x')).error(), RecordError::kTooLong);
  EXPECT_FALSE(mailto_address("https://example.com/report"));
}

}  // namespace
}  // namespace sealpost::auth::dmarc
