#include "auth/dmarc/record.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sealpost::auth::dmarc {
namespace {

// RFC 7489 appendix B.2's records.
TEST(DmarcRecord, ParsesTheRfcExamples) {
  auto r = parse_record(
      "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
      "mailto:tld-test@thirdparty.example.net!10m; pct=25");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kQuarantine);
  EXPECT_EQ(r->pct, 25u);
  ASSERT_EQ(r->rua.size(), 2u);
  EXPECT_EQ(r->rua[0], "mailto:dmarc-feedback@example.com");
  EXPECT_EQ(r->rua[1], "mailto:tld-test@thirdparty.example.net!10m");
  EXPECT_EQ(*mailto_address(r->rua[1]), "tld-test@thirdparty.example.net");
  EXPECT_FALSE(r->sp);

  r = parse_record("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kNone);
  ASSERT_EQ(r->rua.size(), 1u);

  r = parse_record(
      "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
      "ruf=mailto:auth-reports@thirdparty.example.net");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->ruf.size(), 1u);
  EXPECT_EQ(*mailto_address(r->ruf[0]), "auth-reports@thirdparty.example.net");
}

TEST(DmarcRecord, AppliesSection63DefaultsForAbsentTags) {
  auto r = parse_record("v=DMARC1; p=reject");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_FALSE(r->sp);
  EXPECT_EQ(r->adkim, Alignment::kRelaxed);
  EXPECT_EQ(r->aspf, Alignment::kRelaxed);
  EXPECT_EQ(r->pct, 100u);
  EXPECT_TRUE(r->rua.empty());
  EXPECT_TRUE(r->ruf.empty());
  EXPECT_EQ(r->fo, "0");
  EXPECT_EQ(r->ri, 86400u);
  EXPECT_EQ(r->rf, std::vector<std::string>{"afrf"});
}

TEST(DmarcRecord, AcceptsWhitespaceAndFoldingAroundTagsAndSeparators) {
  for (const char* txt : {"v=DMARC1;p=reject", "v=DMARC1; p=reject;", "v = DMARC1 ; p = reject ;",
                          "\tv=DMARC1\t;\tp=reject\t", "  v=DMARC1;;p=reject  ",
                          "v=DMARC1;\r\n p=reject", "v=DMARC1; p=\r\n\treject"}) {
    auto r = parse_record(txt);
    ASSERT_TRUE(r) << txt;
    EXPECT_EQ(r->p, Policy::kReject) << txt;
  }
}

TEST(DmarcRecord, RefusesNonAsciiControlsAndBareLineBreaks) {
  for (const std::string_view txt :
       {std::string_view("v=DMARC1; p=reject; rua=mailto:r\xc3\xa9@example.com"),
        std::string_view("v=DMARC1;\np=reject"), std::string_view("v=DMARC1;\r\np=reject"),
        std::string_view("v=DMARC1; p=reject\r"), std::string_view("v=DMARC1; p=reject\x01"),
        std::string_view("v=DMARC1; p=reject\0", 19)}) {
    auto r = parse_record(txt);
    ASSERT_FALSE(r) << txt;
    EXPECT_EQ(r.error(), RecordError::kSyntax) << txt;
  }
}

TEST(DmarcRecord, TagNamesAndKeywordValuesAreCaseInsensitive) {
  auto r = parse_record("V=DMARC1; P=Reject; SP=QUARANTINE; ADKIM=S; Aspf=s; PCT=50");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_EQ(*r->sp, Policy::kQuarantine);
  EXPECT_EQ(r->adkim, Alignment::kStrict);
  EXPECT_EQ(r->aspf, Alignment::kStrict);
  EXPECT_EQ(r->pct, 50u);
}

TEST(DmarcRecord, VersionValueIsCaseSensitive) {
  EXPECT_FALSE(is_dmarc_record("v=dmarc1; p=reject"));
  EXPECT_EQ(parse_record("v=dmarc1; p=reject").error(), RecordError::kNotDmarc);
  EXPECT_EQ(parse_record("v=Dmarc1; p=reject").error(), RecordError::kNotDmarc);
}

TEST(DmarcRecord, MissingOrInvalidPolicyWithoutRuaIsInvalid) {
  for (const char* txt :
       {"v=DMARC1", "v=DMARC1;", "v=DMARC1; p=bogus", "v=DMARC1; p=", "v=DMARC1; pct=50",
        "v=DMARC1; p=bogus; rua=mailto:", "v=DMARC1; p=rejected; rua=not a uri"}) {
    auto r = parse_record(txt);
    ASSERT_FALSE(r) << txt;
    EXPECT_EQ(r.error(), RecordError::kNoPolicy) << txt;
  }
}

// Section 6.6.3: no valid p= but a valid rua=: act as if p=none, so reports still flow.
TEST(DmarcRecord, MissingOrInvalidPolicyWithValidRuaMeansNone) {
  for (const char* txt :
       {"v=DMARC1; rua=mailto:r@example.com", "v=DMARC1; p=bogus; rua=mailto:r@example.com",
        "v=DMARC1; p=bogus; rua=bogus,mailto:r@example.com!10m",
        "v=DMARC1; rua=https://reports.example.com/dmarc"}) {
    auto r = parse_record(txt);
    ASSERT_TRUE(r) << txt;
    EXPECT_EQ(r->p, Policy::kNone) << txt;
    EXPECT_FALSE(r->rua.empty()) << txt;
  }
}

// Section 6.6.3 names an invalid sp= alongside an invalid p=.
TEST(DmarcRecord, InvalidSubdomainPolicyIsTreatedLikeAnInvalidPolicy) {
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; sp=bogus").error(), RecordError::kNoPolicy);
  auto r = parse_record("v=DMARC1; p=reject; sp=bogus; rua=mailto:r@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kNone);
  EXPECT_FALSE(r->sp);
}

TEST(DmarcRecord, LeavesSubdomainPolicyInheritanceToCallers) {
  auto r = parse_record("v=DMARC1; p=reject");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->sp) << "absent sp= stays absent; the evaluator applies p";
  r = parse_record("v=DMARC1; p=reject; sp=none");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_EQ(*r->sp, Policy::kNone);
}

// A judgment call: the ABNF puts p= second, but a later p= is read rather than discarded.
TEST(DmarcRecord, ReadsPolicyThatIsNotTheSecondTag) {
  auto r = parse_record("v=DMARC1; rua=mailto:r@example.com; adkim=s; p=reject");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_EQ(r->adkim, Alignment::kStrict);
}

TEST(DmarcRecord, BadOptionalValuesFallBackToDefaults) {
  for (const char* tag :
       {"pct=101",       "pct=-1",      "pct=abc", "pct=1000", "pct=50.5", "pct=",     "adkim=x",
        "adkim=relaxed", "aspf=strict", "aspf=",   "fo=2",     "fo=1:x",   "fo=",      "ri=-5",
        "ri=4294967296", "ri=1h",       "rf=",     "rf=-afrf", "rf=afrf:", "ruf=bogus"}) {
    const std::string txt = std::string("v=DMARC1; p=reject; ") + tag;
    auto r = parse_record(txt);
    ASSERT_TRUE(r) << txt;
    EXPECT_EQ(r->p, Policy::kReject) << txt;
    EXPECT_EQ(r->pct, 100u) << txt;
    EXPECT_EQ(r->adkim, Alignment::kRelaxed) << txt;
    EXPECT_EQ(r->aspf, Alignment::kRelaxed) << txt;
    EXPECT_EQ(r->fo, "0") << txt;
    EXPECT_EQ(r->ri, 86400u) << txt;
    EXPECT_EQ(r->rf, std::vector<std::string>{"afrf"}) << txt;
    EXPECT_TRUE(r->ruf.empty()) << txt;
  }
}

TEST(DmarcRecord, ReadsPercentBoundaries) {
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=0")->pct, 0u);
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=100")->pct, 100u);
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=007")->pct, 7u);
}

TEST(DmarcRecord, ReadsFailureOptionsIntervalAndReportFormats) {
  auto r = parse_record("v=DMARC1; p=none; fo=1 : D:s; ri=3600; rf=AFRF:iodef");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->fo, "1:d:s");
  EXPECT_EQ(r->ri, 3600u);
  EXPECT_EQ(r->rf, (std::vector<std::string>{"afrf", "iodef"}));
}

TEST(DmarcRecord, RefusesDuplicateTags) {
  for (const char* txt :
       {"v=DMARC1; p=none; p=reject", "v=DMARC1; p=none; P=none", "v=DMARC1; p=none; v=DMARC1",
        "v=DMARC1; p=none; pct=10; pct=20", "v=DMARC1; p=none; x=1; X=2"}) {
    auto r = parse_record(txt);
    ASSERT_FALSE(r) << txt;
    EXPECT_EQ(r.error(), RecordError::kDuplicateTag) << txt;
  }
}

TEST(DmarcRecord, IgnoresUnknownTagsAndMalformedTagSpecs) {
  auto r = parse_record("v=DMARC1; p=reject; np=quarantine; t=y; foo; =bar; 9x=1; a b=c; pct=5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::kReject);
  EXPECT_EQ(r->pct, 5u);
}

TEST(DmarcRecord, SplitsTrimsAndBoundsReportUris) {
  auto r = parse_record(
      "v=DMARC1; p=none; rua= mailto:a@example.com , mailto:b@example.com!10m ,"
      "https://r.example/x, bogus, mailto:c@example.com!x, ,mailto:d@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, (std::vector<std::string>{"mailto:a@example.com", "mailto:b@example.com!10m",
                                              "https://r.example/x", "mailto:d@example.com"}));
  std::string many = "v=DMARC1; p=none; rua=";
  for (int i = 0; i < 40; ++i) many += "mailto:r" + std::to_string(i) + "@example.com,";
  r = parse_record(many);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua.size(), kMaxReportUris);
  EXPECT_EQ(r->rua.front(), "mailto:r0@example.com");
}

TEST(DmarcRecord, ExtractsMailtoAddresses) {
  EXPECT_EQ(*mailto_address("mailto:a@example.com"), "a@example.com");
  EXPECT_EQ(*mailto_address("mailto:a@example.com!10m"), "a@example.com");
  EXPECT_EQ(*mailto_address("mailto:a@example.com!500"), "a@example.com");
  EXPECT_EQ(*mailto_address("MAILTO:a@example.com"), "a@example.com");
  EXPECT_EQ(*mailto_address("mailto:a%21b@example.com"), "a!b@example.com");
  EXPECT_EQ(*mailto_address("mailto:a@example.com?subject=dmarc"), "a@example.com");
  for (const char* bad :
       {"https://example.com/report", "mailto:", "mailto:@example.com", "mailto:a@",
        "mailto:example.com", "mailto:a@example.com!", "mailto:a@example.com!10x",
        "mailto:a%2@example.com", "mailto:a%zz@example.com", "mailto:a%2Cb@example.com",
        "mailto:a b@example.com", "mailto:a%00@example.com"}) {
    EXPECT_FALSE(mailto_address(bad)) << bad;
  }
}

// Section 6.2: "!" then digits and an optional unit, the units powers of two.
TEST(DmarcRecord, ReadsTheSizeLimitOfAReportUri) {
  EXPECT_FALSE(report_size_limit("mailto:a@example.com"));
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!500"), 500u);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!0"), 0u);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!2k"), 2048u);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!10m"), 10u << 20);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!10M"), 10u << 20);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!1g"), 1u << 30);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!3t"), std::uint64_t{3} << 40);
  EXPECT_EQ(*report_size_limit("https://r.example/x!7k"), 7168u);
  // Too large to be a size: read as the largest.
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!9999999999999999999t"), UINT64_MAX);
  EXPECT_EQ(*report_size_limit("mailto:a@example.com!9999999999999999999"), 9999999999999999999u);
  for (const char* bad :
       {"mailto:a@example.com!", "mailto:a@example.com!k", "mailto:a@example.com!10x",
        "mailto:a@example.com!-1", "mailto:a@example.com!99999999999999999999", "mailto:a@b!1 0"}) {
    EXPECT_FALSE(report_size_limit(bad)) << bad;
  }
  // The limit stays with the URI through parse_record.
  const auto r = parse_record("v=DMARC1; p=none; rua=mailto:a@example.com!1k,mailto:b@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(report_size_limit(r->rua[0]), 1024u);
  EXPECT_FALSE(report_size_limit(r->rua[1]));
}

TEST(DmarcRecord, RecognisesDmarcRecords) {
  for (const char* yes :
       {"v=DMARC1", "v=DMARC1;", "v=DMARC1 ; p=none", "v = DMARC1;p=none", "V=DMARC1; p=none"}) {
    EXPECT_TRUE(is_dmarc_record(yes)) << yes;
  }
  for (const char* no :
       {"", "v=DMARC10; p=none", "v=DMARC1x", "v=DMARC1 p=none", "v=spf1 -all",
        "p=reject; v=DMARC1", "v=dmarc1", "v:DMARC1", "x=DMARC1", "google-site-verification=abc"}) {
    EXPECT_FALSE(is_dmarc_record(no)) << no;
  }
}

TEST(DmarcRecord, RefusesNonDmarcText) {
  for (const char* txt :
       {"", "v=spf1 -all", "p=reject; v=DMARC1", "v=DMARC2; p=reject", "hello world"}) {
    auto r = parse_record(txt);
    ASSERT_FALSE(r) << txt;
    EXPECT_EQ(r.error(), RecordError::kNotDmarc) << txt;
  }
}

TEST(DmarcRecord, RefusesRecordsOverTheBound) {
  std::string txt = "v=DMARC1; p=reject; x=";
  txt.append(kMaxRecordOctets - txt.size(), 'a');
  EXPECT_TRUE(parse_record(txt)) << "exactly the bound is accepted";
  txt += 'a';
  EXPECT_EQ(parse_record(txt).error(), RecordError::kTooLong);
}

}  // namespace
}  // namespace sealpost::auth::dmarc
