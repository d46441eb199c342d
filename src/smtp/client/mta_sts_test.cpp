#include "smtp/client/mta_sts.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::smtp::client {
namespace {

std::optional<StsRecord> record(std::string txt) {
  return parse_sts_record({std::move(txt)});
}

// RFC 8461 3.2's example policy.
constexpr std::string_view kRfcPolicy =
    "version: STSv1\r\n"
    "mode: enforce\r\n"
    "mx: mail.example.com\r\n"
    "mx: *.example.net\r\n"
    "mx: backupmx.example.com\r\n"
    "max_age: 604800\r\n";

std::string error_of(std::string_view body) {
  auto p = parse_sts_policy(body);
  return p ? std::string("(parsed)") : p.error();
}

// --- the _mta-sts TXT record (RFC 8461 3.1) ---------------------------------------------------

TEST(StsRecord, ParsesTheRfcExample) {
  auto r = record("v=STSv1; id=20160831085700Z;");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "20160831085700Z");
}

TEST(StsRecord, AcceptsWhitespaceVariantsAndExtensions) {
  for (const char* txt :
       {"v=STSv1;id=abc", "v=STSv1; id=abc", "v=STSv1; id=abc;", "v=STSv1 ; id=abc ;",
        "v=STSv1;\tid=abc\t", "v=STSv1; id=abc;;", "v=STSv1; ext=1; id=abc",
        "v=STSv1; id=abc; x-y.z_1=a,b:c/d", "v=STSv1; id=abc; ID=other"}) {
    auto r = record(txt);
    ASSERT_TRUE(r) << txt;
    EXPECT_EQ(r->id, "abc") << txt;
  }
}

TEST(StsRecord, IdIsOneToThirtyTwoAlphanumerics) {
  const std::string id32(32, 'A');
  auto r = record("v=STSv1; id=" + id32);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, id32);
  EXPECT_FALSE(record("v=STSv1; id=" + id32 + "1"));
  EXPECT_FALSE(record("v=STSv1; id="));
  EXPECT_FALSE(record("v=STSv1; id=abc-def"));
  EXPECT_FALSE(record("v=STSv1; id=abc def"));
}

TEST(StsRecord, RefusesMalformedRecords) {
  for (const char* txt : {
           "v=STSv1",                     // no id (the ABNF wants a field)
           "v=STSv1;",                    // no id
           "v=STSv1; ID=abc",             // field names are case-sensitive: no id
           "v=STSv1 id=abc",              // no ";" after the version
           "v=STSv1; id = abc",           // no white space around "="
           "v=STSv1; id=abc; ext=a b",    // extension value with a space
           "v=STSv1; id=abc; =x",         // no field name
           "v=STSv1; id=abc; -x=1",       // name must start with a letter or digit
           "v=STSv1; id=abc; novalue",    // no "="
           "v=STSv1; id=abc; x=\x01",     // control character
           "v=STSv1; id=abc; x=\xc3\xa9"  // non-ASCII
       }) {
    EXPECT_FALSE(record(txt)) << txt;
  }
}

TEST(StsRecord, VersionIsCaseSensitiveAndExact) {
  for (const char* txt : {"V=STSv1; id=abc", "v=stsv1; id=abc", "v=STSv10; id=abc",
                          " v=STSv1; id=abc", "v=STSv2; id=abc"}) {
    EXPECT_FALSE(record(txt)) << txt;
  }
}

TEST(StsRecord, TheFirstOfARepeatedIdCounts) {
  auto r = record("v=STSv1; id=first; id=second");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "first");
}

TEST(StsRecord, NeedsExactlyOneStsRecordInTheRrset) {
  struct Case {
    std::vector<std::string> rrset;
    std::optional<std::string> id;
  };
  const std::vector<Case> cases = {
      {{}, std::nullopt},
      {{"v=spf1 -all"}, std::nullopt},
      {{"v=spf1 -all", "v=STSv1; id=a1"}, "a1"},
      {{"v=STSv10; id=x", "v=STSv1; id=a1", "google-site-verification=abc"}, "a1"},
      {{"v=STSv1; id=a1", "v=STSv1; id=b2"}, std::nullopt},
      {{"v=STSv1; id=a1", "v=STSv1; id=a1"}, std::nullopt},
      {{"v=STSv1 ; id=a1", "v=STSv1; id=b2"}, std::nullopt},
      // An invalid STS record still counts, and makes the set invalid.
      {{"v=STSv1; id=a1", "v=STSv1"}, std::nullopt},
  };
  for (const auto& c : cases) {
    const auto r = parse_sts_record(c.rrset);
    ASSERT_EQ(r.has_value(), c.id.has_value()) << (c.rrset.empty() ? "" : c.rrset.front());
    if (r) {
      EXPECT_EQ(r->id, *c.id);
    }
  }
}

TEST(StsRecord, RefusesOversizeRecords) {
  std::string txt = "v=STSv1; id=abc; x=";
  txt.append(kStsMaxRecordOctets - txt.size(), 'a');
  EXPECT_TRUE(record(txt));
  txt += 'a';
  EXPECT_FALSE(record(txt));
}

// --- the policy file (RFC 8461 3.2) ---------------------------------------------------------

TEST(StsPolicy, ParsesTheRfcExample) {
  auto p = parse_sts_policy(kRfcPolicy);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::kEnforce);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net",
                                             "backupmx.example.com"}));
  EXPECT_EQ(p->max_age, 604800);
}

TEST(StsPolicy, AcceptsLineEndingAndWhitespaceVariants) {
  for (const char* body : {
           "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
           "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400",
           "version: STSv1\r\nmode: testing\nmx: mx.example.com\r\nmax_age: 86400",
           "version:STSv1\nmode:testing\nmx:mx.example.com\nmax_age:86400\n",
           "version:\tSTSv1\nmode:  testing\nmx: \tmx.example.com\nmax_age: 86400\n",
           "version: STSv1  \nmode: testing\t\r\nmx: mx.example.com \r\nmax_age: 86400 \n",
           "  version: STSv1\n\tmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
           "version: STSv1\n\nmode: testing\r\n\r\n  \nmx: mx.example.com\nmax_age: 86400\n\n\n",
           "\xEF\xBB\xBFversion: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
           "max_age: 86400\nmx: mx.example.com\nmode: testing\nversion: STSv1\n",
       }) {
    auto p = parse_sts_policy(body);
    ASSERT_TRUE(p) << body << ": " << p.error();
    EXPECT_EQ(p->mode, StsMode::kTesting) << body;
    EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.com"}) << body;
    EXPECT_EQ(p->max_age, 86400) << body;
  }
}

TEST(StsPolicy, ModeNoneNeedsNoMx) {
  auto p = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::kNone);
  EXPECT_TRUE(p->mx.empty());
}

TEST(StsPolicy, IgnoresUnknownKeys) {
  auto p = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"
      "comment: a value with spaces\next_1.a-b: x\nfuture: \xc3\xbcnicode\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, StsMode::kEnforce);
}

TEST(StsPolicy, LowercasesMxPatternsAndDropsATrailingDot) {
  auto p = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmx: MX1.Example.COM\nmx: *.MX.example.net.\n"
      "mx: mx1.example.com\nmax_age: 1\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mx1.example.com", "*.mx.example.net"}));
}

// Section 3.2: "If any non-repeated field ... is duplicated, all entries except for the first
// SHALL be ignored."
TEST(StsPolicy, TheFirstOfARepeatedKeyCounts) {
  struct Case {
    std::string body;
    StsMode mode;
    std::int64_t max_age;
  };
  const std::string mx = "mx: mx.example.com\n";
  const std::vector<Case> cases = {
      {"version: STSv1\nversion: STSv2\nmode: enforce\nmax_age: 5\n" + mx, StsMode::kEnforce, 5},
      {"version: STSv1\nmode: testing\nmode: enforce\nmax_age: 5\n" + mx, StsMode::kTesting, 5},
      {"version: STSv1\nmode: testing\nmode: bogus\nmax_age: 5\n" + mx, StsMode::kTesting, 5},
      {"version: STSv1\nmode: enforce\nmax_age: 5\nmax_age: 7\n" + mx, StsMode::kEnforce, 5},
  };
  for (const auto& c : cases) {
    auto p = parse_sts_policy(c.body);
    ASSERT_TRUE(p) << c.body << ": " << p.error();
    EXPECT_EQ(p->mode, c.mode) << c.body;
    EXPECT_EQ(p->max_age, c.max_age) << c.body;
  }
  EXPECT_EQ(error_of("version: STSv2\nversion: STSv1\nmode: none\nmax_age: 5\n"),
            "unsupported version \"STSv2\" on line 1");
}

TEST(StsPolicy, MaxAgeAboveTheCeilingIsLowered) {
  struct Case {
    const char* value;
    std::int64_t max_age;
  };
  for (const Case& c : {Case{"0", 0}, Case{"31557600", 31557600}, Case{"31557601", 31557600},
                        Case{"9999999999", 31557600}, Case{"0000086400", 86400}}) {
    auto p = parse_sts_policy(std::string("version: STSv1\nmode: none\nmax_age: ") + c.value);
    ASSERT_TRUE(p) << c.value << ": " << p.error();
    EXPECT_EQ(p->max_age, c.max_age) << c.value;
  }
}

TEST(StsPolicy, ErrorsSayWhatIsWrong) {
  const std::string ok_tail = "mx: mx.example.com\nmax_age: 86400\n";
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "missing version"},
      {"mode: enforce\n" + ok_tail, "missing version"},
      {"version: STSv1\n" + ok_tail, "missing mode"},
      {"version: STSv1\nmode: enforce\nmx: mx.example.com\n", "missing max_age"},
      {"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx for mode enforce"},
      {"version: STSv1\nmode: testing\nmax_age: 1\n", "no mx for mode testing"},
      // Keys and the version and mode values are case-sensitive (RFC 7405 %s in the ABNF).
      {"Version: STSv1\nmode: enforce\n" + ok_tail, "missing version"},
      {"version: STSv1\nMODE: enforce\n" + ok_tail, "missing mode"},
      {"version: stsv1\nmode: enforce\n" + ok_tail, "unsupported version \"stsv1\" on line 1"},
      {"version: STSv1\nmode: Enforce\n" + ok_tail,
       "invalid mode \"Enforce\" on line 2 (must be enforce, testing or none)"},
      {"version: STSv1\nmode: report\n" + ok_tail,
       "invalid mode \"report\" on line 2 (must be enforce, testing or none)"},
      {"version: STSv1\nmode: none\nmax_age: -1\n", "invalid max_age \"-1\" on line 3"},
      {"version: STSv1\nmode: none\nmax_age: 1e6\n", "invalid max_age \"1e6\" on line 3"},
      {"version: STSv1\nmode: none\nmax_age: 12345678901\n",
       "invalid max_age \"12345678901\" on line 3"},
      {"version: STSv1\nmode: none\nmax_age:\n", "empty value for \"max_age\" on line 3"},
      {"version: STSv1\nmode: none\nmax_age: 1\njunk\n", R"(no "key: value" on line 4: "junk")"},
      {"version: STSv1\nmode : none\nmax_age: 1\n", "invalid key \"mode \" on line 2"},
      {"version: STSv1\n: none\nmax_age: 1\n", "invalid key \"\" on line 2"},
      {"version: STSv1\n# comment: x\nmode: none\nmax_age: 1\n",
       "invalid key \"# comment\" on line 2"},
      {"version: STSv1\rmode: none\nmax_age: 1\n", "control character on line 1"},
      {std::string("version: STSv1\nmode: none") + '\0' + "\nmax_age: 1\n",
       "control character on line 2"},
      {"version: STSv1\nmode: \xff\n",
       "invalid mode \"?\" on line 2 (must be enforce, testing or none)"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.body), c.error) << c.body;
}

TEST(StsPolicy, RefusesInvalidMxPatterns) {
  for (const char* mx :
       {"mail..example.com", ".example.com", "-mx.example.com", "mx-.example.com",
        "*.*.example.com", "mail.*.example.com", "*", "*.", "*example.com", "mx_1.example.com",
        "mx.b\xc3\xbc.example", "mx.example.com..", "mx example.com", "[192.0.2.1]"}) {
    const std::string body = std::string("version: STSv1\nmode: enforce\nmax_age: 1\nmx: ") + mx;
    EXPECT_EQ(error_of(body).rfind("invalid mx pattern", 0), 0U) << mx << ": " << error_of(body);
  }
}

TEST(StsPolicy, BoundsMxPatternLabelsAndLength) {
  const std::string head = "version: STSv1\nmode: enforce\nmax_age: 1\nmx: ";
  const std::string label63(63, 'a');
  EXPECT_TRUE(parse_sts_policy(head + label63 + ".example.com"));
  EXPECT_FALSE(parse_sts_policy(head + label63 + "a.example.com"));
  // 4 * 63 + 3 dots = 255 octets: over the 253 of a name in text form.
  const std::string long_name = label63 + "." + label63 + "." + label63 + "." + label63;
  EXPECT_FALSE(parse_sts_policy(head + long_name));
  const std::string name253 = long_name.substr(2);
  auto p = parse_sts_policy(head + name253);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mx.front().size(), 253U);
  EXPECT_FALSE(parse_sts_policy(head + "*." + name253));
  EXPECT_TRUE(parse_sts_policy(head + "*." + name253.substr(2)));
}

TEST(StsPolicy, RefusesOversizeInput) {
  const std::string head = "version: STSv1\nmode: none\nmax_age: 1\n";

  // A line of exactly kStsMaxPolicyLineOctets is fine (its CRLF not counted), one more is not.
  const std::string line = "x: " + std::string(kStsMaxPolicyLineOctets - 3, 'a');
  EXPECT_TRUE(parse_sts_policy(head + line + "\r\n"));
  EXPECT_EQ(error_of(head + line + "a\n"), "line 4 is longer than 1000 characters");

  // A body of exactly kStsMaxPolicyOctets is read, one more octet is not.
  std::string body = head;
  while (body.size() + line.size() + 1 <= kStsMaxPolicyOctets) body += line + "\n";
  body += std::string(kStsMaxPolicyOctets - body.size(), '\n');
  ASSERT_EQ(body.size(), kStsMaxPolicyOctets);
  EXPECT_TRUE(parse_sts_policy(body));
  EXPECT_EQ(error_of(body + "\n"), "policy is larger than 65536 bytes");

  // At most kStsMaxMxLines mx lines, counted as written (duplicates too).
  std::string mx = "version: STSv1\nmode: enforce\nmax_age: 1\n";
  for (std::size_t i = 0; i < kStsMaxMxLines; ++i) mx += "mx: mx.example.com\n";
  EXPECT_TRUE(parse_sts_policy(mx));
  EXPECT_EQ(error_of(mx + "mx: mx.example.com\n"), "more than 100 mx lines");
}

// --- MX host matching (RFC 8461 4.1) ----------------------------------------------------------

TEST(StsMxMatch, FollowsSection41) {
  struct Case {
    const char* pattern;
    const char* host;
    bool matches;
  };
  for (const Case& c : {
           Case{"mail.example.com", "mail.example.com", true},
           Case{"mail.example.com", "MAIL.Example.COM", true},
           Case{"MAIL.EXAMPLE.COM", "mail.example.com", true},
           Case{"mail.example.com", "mail.example.com.", true},
           Case{"mail.example.com.", "mail.example.com", true},
           Case{"mail.example.com", "mail.example.co", false},
           Case{"mail.example.com", "xmail.example.com", false},
           Case{"mail.example.com", "a.mail.example.com", false},
           Case{"mail.example.com", "", false},
           // The section's own examples.
           Case{"*.example.com", "mail.example.com", true},
           Case{"*.example.com", "example.com", false},
           Case{"*.example.com", "foo.bar.example.com", false},
           // Wildcard edge cases.
           Case{"*.example.com", "MX.EXAMPLE.COM.", true},
           Case{"*.example.com", "a-b.example.com", true},
           Case{"*.example.com", ".example.com", false},
           Case{"*.example.com", "mxexample.com", false},
           Case{"*.example.com", "mx.example.com.evil", false},
           Case{"*.example.com", "mx.example.net", false},
           Case{"*.example.com", "", false},
           Case{"*.example.com", ".", false},
           Case{"", "", false},
           Case{"", "mx.example.com", false},
       }) {
    EXPECT_EQ(sts_mx_matches(c.pattern, c.host), c.matches) << c.pattern << " / " << c.host;
  }
}

TEST(StsMxMatch, PolicyAllowsListedMxUnlessModeIsNone) {
  auto p = parse_sts_policy(kRfcPolicy);
  ASSERT_TRUE(p);
  EXPECT_TRUE(sts_policy_allows_mx(*p, "mail.example.com"));
  EXPECT_TRUE(sts_policy_allows_mx(*p, "mx2.example.net."));
  EXPECT_TRUE(sts_policy_allows_mx(*p, "BACKUPMX.example.com"));
  EXPECT_FALSE(sts_policy_allows_mx(*p, "example.net"));
  EXPECT_FALSE(sts_policy_allows_mx(*p, "evil.example.org"));
  p->mode = StsMode::kTesting;
  EXPECT_FALSE(sts_policy_allows_mx(*p, "evil.example.org"));
  p->mode = StsMode::kNone;
  EXPECT_TRUE(sts_policy_allows_mx(*p, "evil.example.org"));
}

// --- policy strings for TLS-RPT (RFC 8460 4.4) ------------------------------------------------

TEST(StsPolicyStrings, MatchTheRfc8460Example) {
  auto p = parse_sts_policy(
      "version: STSv1\nmode: testing\nmx: *.mail.company-y.example\nmax_age: 86400\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(sts_policy_strings(*p),
            (std::vector<std::string>{"version: STSv1", "mode: testing",
                                      "mx: *.mail.company-y.example", "max_age: 86400"}));
}

TEST(StsPolicyStrings, ParseBackToTheSamePolicy) {
  auto p = parse_sts_policy(kRfcPolicy);
  ASSERT_TRUE(p);
  std::string body;
  for (const auto& line : sts_policy_strings(*p)) body += line + "\n";
  auto again = parse_sts_policy(body);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->mode, p->mode);
  EXPECT_EQ(again->mx, p->mx);
  EXPECT_EQ(again->max_age, p->max_age);
}

TEST(StsMode, HasItsPolicyNames) {
  EXPECT_EQ(to_string(StsMode::kEnforce), "enforce");
  EXPECT_EQ(to_string(StsMode::kTesting), "testing");
  EXPECT_EQ(to_string(StsMode::kNone), "none");
}

}  // namespace
}  // namespace sealpost::smtp::client
