#include "smtp/client/tls_rpt.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "smtp/client/mta_sts.hpp"

namespace sealpost::smtp::client {
namespace {

std::optional<TlsRptRecord> record(std::string txt) {
  return parse_tlsrpt_record({std::move(txt)});
}

using Uris = std::vector<std::string>;

// --- the _smtp._tls TXT record (RFC 8460 3) ---------------------------------------------------

TEST(TlsRptRecord, ParsesTheRfcExamples) {
  auto r = record("v=TLSRPTv1;rua=mailto:reports@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{"mailto:reports@example.com"});
  r = record("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{"https://reporting.example.com/v1/tlsrpt"});
}

TEST(TlsRptRecord, KeepsCommaSeparatedUrisInOrder) {
  for (const char* txt : {
           "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://r.example.com/v1",
           "v=TLSRPTv1 ; rua=mailto:tlsrpt@example.com , https://r.example.com/v1 ;",
           "v=TLSRPTv1;\trua=mailto:tlsrpt@example.com,\thttps://r.example.com/v1\t;;",
           "v=TLSRPTv1; rua=MAILTO:tlsrpt@example.com,HTTPS://r.example.com/v1",
           "v=TLSRPTv1; ext=1; rua=mailto:tlsrpt@example.com; rua=https://r.example.com/v1",
       }) {
    auto r = record(txt);
    ASSERT_TRUE(r) << txt;
    EXPECT_EQ(r->rua, (Uris{"mailto:tlsrpt@example.com", "https://r.example.com/v1"})) << txt;
  }
}

TEST(TlsRptRecord, KeepsARepeatedUriOnce) {
  const std::string uri = "mailto:tlsrpt@example.com";
  auto r = record("v=TLSRPTv1; rua=" + uri + "," + uri + "; rua=" + uri);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{uri});
}

TEST(TlsRptRecord, IgnoresOtherSchemesAndMalformedUris) {
  auto r = record(
      "v=TLSRPTv1; rua=http://r.example.com/,ftp://r.example.com/,mailto:,mailto:noat,"
      "mailto:@example.com,mailto:a@,https:/r.example.com,https://,https://:443/x,"
      "mailto:a%2Cb@example.com,mailto:a%2@example.com,mailto:a%00@example.com,"
      "mailto:a\"b@example.com,urn:x,nocolon,mailto:ok@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{"mailto:ok@example.com"});

  EXPECT_FALSE(record("v=TLSRPTv1; rua=http://r.example.com/"));
  EXPECT_FALSE(record("v=TLSRPTv1; rua=mailto:noat"));
}

TEST(TlsRptRecord, BoundsUrisInNumberAndLength) {
  std::string txt = "v=TLSRPTv1; rua=";
  for (int i = 0; i < 12; ++i)
    txt += (i ? "," : "") + ("mailto:r" + std::to_string(i) + "@x.example");
  auto r = record(txt);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rua.size(), kTlsRptMaxUris);
  EXPECT_EQ(r->rua.back(), "mailto:r9@x.example");

  const std::string suffix = "@example.com";
  const std::string longest =
      "mailto:" + std::string(kTlsRptMaxUriOctets - 7 - suffix.size(), 'a') + suffix;
  ASSERT_EQ(longest.size(), kTlsRptMaxUriOctets);
  r = record("v=TLSRPTv1; rua=" + longest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{longest});
  EXPECT_FALSE(record("v=TLSRPTv1; rua=mailto:a" + longest.substr(7)));

  std::string big = "v=TLSRPTv1; rua=mailto:a@example.com; x=";
  big.append(kTlsRptMaxRecordOctets - big.size(), 'x');
  EXPECT_TRUE(record(big));
  EXPECT_FALSE(record(big + "x"));
}

TEST(TlsRptRecord, RefusesRecordsWithoutUsableRua) {
  for (const char* txt :
       {"v=TLSRPTv1", "v=TLSRPTv1;", "v=TLSRPTv1; ext=1",
        "v=TLSRPTv1; RUA=mailto:a@example.com",  // field names are %s
        "v=TLSRPTv1; rua=", "v=TLSRPTv1; rua = mailto:a@example.com",
        "v=TLSRPTv1 rua=mailto:a@example.com", "V=TLSRPTv1; rua=mailto:a@example.com",
        "v=tlsrptv1; rua=mailto:a@example.com", "v=TLSRPTv10; rua=mailto:a@example.com",
        " v=TLSRPTv1; rua=mailto:a@example.com"}) {
    EXPECT_FALSE(record(txt)) << txt;
  }
}

TEST(TlsRptRecord, IgnoresUnknownAndMalformedOtherFields) {
  auto r = record("v=TLSRPTv1; x y z; ext=a b; =; rua=mailto:a@example.com; future=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rua, Uris{"mailto:a@example.com"});
}

TEST(TlsRptRecord, NeedsExactlyOneTlsRptRecordInTheRrset) {
  struct Case {
    std::vector<std::string> rrset;
    bool valid;
  };
  const std::vector<Case> cases = {
      {{}, false},
      {{"v=spf1 -all"}, false},
      {{"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.com"}, true},
      {{"v=TLSRPTv10; rua=mailto:b@example.com", "v=TLSRPTv1; rua=mailto:a@example.com"}, true},
      {{"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"}, false},
      {{"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:a@example.com"}, false},
      {{"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1"}, false},
  };
  for (const auto& c : cases) {
    const auto r = parse_tlsrpt_record(c.rrset);
    EXPECT_EQ(r.has_value(), c.valid) << (c.rrset.empty() ? "" : c.rrset.back());
    if (r) {
      EXPECT_EQ(r->rua, Uris{"mailto:a@example.com"});
    }
  }
}

TEST(TlsRptRecord, MailtoAddressesAreDecodedWithoutQuery) {
  auto r = record(
      "v=TLSRPTv1; rua=mailto:tlsrpt@example.com?subject=TLS%20report,"
      "https://r.example.com/v1,mailto:r%2Bx@example.net,Mailto:Upper@Example.org");
  ASSERT_TRUE(r);
  EXPECT_EQ(tlsrpt_mailto_addresses(*r),
            (Uris{"tlsrpt@example.com", "r+x@example.net", "Upper@Example.org"}));
}

// --- the report (RFC 8460 4) ------------------------------------------------------------------

TEST(TlsReport, ResultAndPolicyTypesHaveTheirRegisteredNames) {
  const std::vector<std::pair<TlsResultType, std::string_view>> names = {
      {TlsResultType::kStarttlsNotSupported, "starttls-not-supported"},
      {TlsResultType::kCertificateHostMismatch, "certificate-host-mismatch"},
      {TlsResultType::kCertificateExpired, "certificate-expired"},
      {TlsResultType::kCertificateNotTrusted, "certificate-not-trusted"},
      {TlsResultType::kValidationFailure, "validation-failure"},
      {TlsResultType::kTlsaInvalid, "tlsa-invalid"},
      {TlsResultType::kDnssecInvalid, "dnssec-invalid"},
      {TlsResultType::kDaneRequired, "dane-required"},
      {TlsResultType::kStsPolicyFetchError, "sts-policy-fetch-error"},
      {TlsResultType::kStsPolicyInvalid, "sts-policy-invalid"},
      {TlsResultType::kStsWebpkiInvalid, "sts-webpki-invalid"},
  };
  for (const auto& [type, name] : names) EXPECT_EQ(to_string(type), name);
  EXPECT_EQ(to_string(TlsPolicyType::kSts), "sts");
  EXPECT_EQ(to_string(TlsPolicyType::kTlsa), "tlsa");
  EXPECT_EQ(to_string(TlsPolicyType::kNoPolicyFound), "no-policy-found");
}

// RFC 8460 Appendix B's example report (with "mx-host" an array, erratum 6241; without its
// "additional-information", which we do not write).
TEST(TlsReport, WritesTheRfcExample) {
  auto policy = parse_sts_policy(
      "version: STSv1\nmode: testing\nmx: *.mail.company-y.example\nmax_age: 86400\n");
  ASSERT_TRUE(policy);
  TlsPolicyResult result;
  result.policy_type = TlsPolicyType::kSts;
  result.policy_string = sts_policy_strings(*policy);
  result.policy_domain = "company-y.example";
  result.mx_host = {"*.mail.company-y.example"};
  result.successful_session_count = 5326;
  result.failed_session_count = 1;  // recomputed from the details
  result.failure_details = {
      {TlsResultType::kCertificateExpired, "2001:db8:abcd:0012::1", "mx1.mail.company-y.example",
       "", 100, ""},
      {TlsResultType::kStarttlsNotSupported, "2001:db8:abcd:0013::1", "mx2.mail.company-y.example",
       "203.0.113.56", 200, ""},
      {TlsResultType::kValidationFailure, "198.51.100.62", "mx-backup.mail.company-y.example",
       "203.0.113.58", 3, "X509_V_ERR_PROOF_OF_POSSESSION"},
  };
  TlsReport report;
  report.organization_name = "Company-X";
  report.start = 1459468800;
  report.end = 1459468800 + 86399;
  report.contact_info = "sts-reporting@company-x.example";
  report.report_id = "5065427c-23d3-47ca-b6e0-946ea0e8c4be";
  report.policies = {result};

  EXPECT_EQ(tls_report_json(report),
            R"({"organization-name":"Company-X",)"
            R"("date-range":{"start-datetime":"2016-04-01T00:00:00Z",)"
            R"("end-datetime":"2016-04-01T23:59:59Z"},)"
            R"("contact-info":"sts-reporting@company-x.example",)"
            R"("report-id":"5065427c-23d3-47ca-b6e0-946ea0e8c4be",)"
            R"("policies":[{"policy":{"policy-type":"sts",)"
            R"("policy-string":["version: STSv1","mode: testing",)"
            R"("mx: *.mail.company-y.example","max_age: 86400"],)"
            R"("policy-domain":"company-y.example","mx-host":["*.mail.company-y.example"]},)"
            R"("summary":{"total-successful-session-count":5326,)"
            R"("total-failure-session-count":303},)"
            R"("failure-details":[{"result-type":"certificate-expired",)"
            R"("sending-mta-ip":"2001:db8:abcd:0012::1",)"
            R"("receiving-mx-hostname":"mx1.mail.company-y.example","failed-session-count":100},)"
            R"({"result-type":"starttls-not-supported","sending-mta-ip":"2001:db8:abcd:0013::1",)"
            R"("receiving-mx-hostname":"mx2.mail.company-y.example","receiving-ip":"203.0.113.56",)"
            R"("failed-session-count":200},)"
            R"({"result-type":"validation-failure","sending-mta-ip":"198.51.100.62",)"
            R"("receiving-mx-hostname":"mx-backup.mail.company-y.example",)"
            R"("receiving-ip":"203.0.113.58","failed-session-count":3,)"
            R"("failure-reason-code":"X509_V_ERR_PROOF_OF_POSSESSION"}]}]})");
}

TEST(TlsReport, OmitsEmptyOptionalFields) {
  TlsReport report;
  report.organization_name = "Org";
  report.report_id = "id";
  EXPECT_EQ(tls_report_json(report),
            R"({"organization-name":"Org","date-range":{"start-datetime":"1970-01-01T00:00:00Z",)"
            R"("end-datetime":"1970-01-01T00:00:00Z"},"report-id":"id","policies":[]})");

  TlsPolicyResult none;
  none.policy_domain = "example.com";
  none.successful_session_count = 7;
  none.failed_session_count = 2;  // no details: written as given
  report.policies = {none};
  EXPECT_EQ(tls_report_json(report),
            R"({"organization-name":"Org","date-range":{"start-datetime":"1970-01-01T00:00:00Z",)"
            R"("end-datetime":"1970-01-01T00:00:00Z"},"report-id":"id","policies":[{"policy":)"
            R"({"policy-type":"no-policy-found","policy-domain":"example.com"},"summary":)"
            R"({"total-successful-session-count":7,"total-failure-session-count":2}}]})");
}

// What a JSON reader gets back for each organization name: every string survives the round trip
// (controls, quotes and backslashes escaped), and ill-formed UTF-8 comes back as U+FFFD.
TEST(TlsReport, EscapesStringsAsJsonRequires) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"},
      {"a\"b\\c/d", "a\"b\\c/d"},
      {"\n\r\t\b\f", "\n\r\t\b\f"},
      {"\x01\x1f\x7f", "\x01\x1f\x7f"},
      {std::string("a\0b", 3), std::string("a\0b", 3)},
      // Valid UTF-8 passes as it is, up to the last code point.
      {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"},
      // Invalid bytes: one U+FFFD per maximal invalid subpart.
      {"\xff", "\xef\xbf\xbd"},
      {"a\x80z", "a\xef\xbf\xbdz"},
      {"\xc3", "\xef\xbf\xbd"},
      {"\xe2\x82", "\xef\xbf\xbd"},
      {"\xe2\x82x", "\xef\xbf\xbdx"},
      {"\xf0\x9f\x98", "\xef\xbf\xbd"},
      {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                                  // overlong "/"
      {"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                  // overlong
      {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                  // surrogate
      {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // > U+10FFFF
      {"\xf5\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
      {"\xc3\"", "\xef\xbf\xbd\""},
  };
  for (const auto& c : cases) {
    TlsReport report;
    report.organization_name = c.in;
    report.report_id = "id";
    const std::string json = tls_report_json(report);
    // RFC 8259 section 7: no control character unescaped.
    EXPECT_EQ(std::count_if(json.begin(), json.end(),
                            [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }),
              0)
        << json;
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(json, ec);
    ASSERT_FALSE(ec) << json;
    const auto& name = parsed.as_object().at("organization-name").as_string();
    EXPECT_EQ(std::string(name.data(), name.size()), c.out) << json;
  }
}

TEST(TlsReport, WritesRfc3339DatesInUtc) {
  struct Case {
    std::int64_t t;
    const char* date;
  };
  for (const Case& c : {
           Case{0, "1970-01-01T00:00:00Z"},
           Case{1796342400, "2026-12-04T00:00:00Z"},
           Case{1709164800 + 3661, "2024-02-29T01:01:01Z"},
           Case{951868800 - 1, "2000-02-29T23:59:59Z"},
           Case{-1, "1969-12-31T23:59:59Z"},
           Case{-2203891200, "1900-03-01T00:00:00Z"},
           Case{253402300799, "9999-12-31T23:59:59Z"},
           Case{INT64_MAX, "9999-12-31T23:59:59Z"},
           Case{INT64_MIN, "0000-01-01T00:00:00Z"},
       }) {
    TlsReport report;
    report.start = c.t;
    const std::string json = tls_report_json(report);
    EXPECT_NE(json.find(std::string("\"start-datetime\":\"") + c.date + "\""), std::string::npos)
        << c.t << ": " << json;
  }
}

TEST(TlsReport, FailureCountsAreSummedAndReasonsBounded) {
  TlsPolicyResult p;
  p.policy_domain = "example.com";
  p.failed_session_count = 99;
  p.failure_details = {{TlsResultType::kDaneRequired, "", "", "", UINT64_MAX - 1, ""},
                       {TlsResultType::kTlsaInvalid, "", "", "", 5, ""}};
  TlsReport report;
  report.policies = {p};
  std::string json = tls_report_json(report);
  EXPECT_NE(json.find("\"total-failure-session-count\":18446744073709551615"), std::string::npos);
  EXPECT_NE(
      json.find(R"({"result-type":"dane-required","failed-session-count":18446744073709551614})"),
      std::string::npos)
      << json;

  // Cut at kTlsRptMaxReasonOctets, and before a UTF-8 sequence rather than inside it.
  report.policies[0].failure_details = {
      {TlsResultType::kValidationFailure, "", "", "", 1,
       std::string(kTlsRptMaxReasonOctets - 1, 'a') + "\xc3\xa9tail"}};
  json = tls_report_json(report);
  EXPECT_NE(json.find("\"failure-reason-code\":\"" + std::string(kTlsRptMaxReasonOctets - 1, 'a') +
                      "\"}"),
            std::string::npos);
  report.policies[0].failure_details[0].failure_reason_code =
      std::string(kTlsRptMaxReasonOctets + 50, 'b');
  json = tls_report_json(report);
  EXPECT_NE(json.find("\"" + std::string(kTlsRptMaxReasonOctets, 'b') + "\""), std::string::npos);
  EXPECT_EQ(json.find(std::string(kTlsRptMaxReasonOctets + 1, 'b')), std::string::npos);
}

}  // namespace
}  // namespace sealpost::smtp::client
