#include "auth/dmarc/public_suffix.hpp"

#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace sealpost::auth::dmarc {
namespace {

// The rules the PSL project's own algorithm tests (tests/test_psl.txt) rely on, in the file's
// format: comments, blank lines, trailing text after a rule, CRLF, a Unicode rule, both sections.
const char* const kRules =
    "// ===BEGIN ICANN DOMAINS===\n"
    "com\n"
    "uk\n"
    "co.uk\r\n"
    "\n"
    "// ck : https://www.iana.org/domains/root/db/ck.html\n"
    "*.ck\n"
    "!www.ck\n"
    "jp\n"
    "ac.jp\n"
    "kyoto.jp\n"
    "ide.kyoto.jp\n"
    "*.kobe.jp\n"
    "!city.kobe.jp\n"
    "us\n"
    "ak.us\n"
    "k12.ak.us\n"
    "cn\n"
    "\xe5\x85\xac\xe5\x8f\xb8.cn\n"  // 公司.cn
    "\xff\xfe.cn\n"                  // not UTF-8: skipped
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "github.io  GitHub Pages\n"
    "// ===END PRIVATE DOMAINS===\n";

void expect_organizational(const PublicSuffixList& psl,
                           std::initializer_list<std::pair<const char*, const char*>> cases) {
  for (const auto& [domain, org] : cases) {
    EXPECT_EQ(psl.organizational_domain(domain), org) << domain;
  }
}

TEST(PublicSuffix, FollowsTheStandardAlgorithm) {
  const auto psl = PublicSuffixList::from_string(kRules);
  expect_organizational(psl, {{"example.com", "example.com"},
                              {"www.example.com", "example.com"},
                              {"a.b.example.com", "example.com"},
                              {"example.co.uk", "example.co.uk"},
                              {"a.b.example.co.uk", "example.co.uk"},
                              {"test.jp", "test.jp"},
                              {"www.test.jp", "test.jp"},
                              {"test.ac.jp", "test.ac.jp"},
                              {"www.test.ac.jp", "test.ac.jp"},
                              {"test.kyoto.jp", "test.kyoto.jp"},
                              {"b.ide.kyoto.jp", "b.ide.kyoto.jp"},
                              {"a.b.ide.kyoto.jp", "b.ide.kyoto.jp"},
                              {"test.k12.ak.us", "test.k12.ak.us"},
                              {"www.test.k12.ak.us", "test.k12.ak.us"}});
}

TEST(PublicSuffix, AppliesWildcardsAndExceptions) {
  const auto psl = PublicSuffixList::from_string(kRules);
  expect_organizational(psl, {{"b.c.ck", "b.c.ck"},
                              {"a.b.c.ck", "b.c.ck"},
                              {"www.ck", "www.ck"},
                              {"www.www.ck", "www.ck"},
                              {"b.c.kobe.jp", "b.c.kobe.jp"},
                              {"a.b.c.kobe.jp", "b.c.kobe.jp"},
                              {"city.kobe.jp", "city.kobe.jp"},
                              {"www.city.kobe.jp", "city.kobe.jp"}});
  EXPECT_TRUE(psl.is_public_suffix("c.ck"));
  EXPECT_FALSE(psl.is_public_suffix("www.ck"));
}

TEST(PublicSuffix, UnknownTldsUseTheDefaultRule) {
  const auto psl = PublicSuffixList::from_string(kRules);
  expect_organizational(psl, {{"example.example", "example.example"},
                              {"b.example.example", "example.example"},
                              {"a.b.example.invalidtld", "example.invalidtld"}});
  EXPECT_TRUE(psl.is_public_suffix("invalidtld"));
}

TEST(PublicSuffix, APublicSuffixIsItsOwnOrganizationalDomain) {
  const auto psl = PublicSuffixList::from_string(kRules);
  for (const char* suffix : {"com", "co.uk", "c.ck", "ide.kyoto.jp", "c.kobe.jp", "k12.ak.us",
                             "invalidtld", "github.io"}) {
    EXPECT_EQ(psl.organizational_domain(suffix), suffix);
    EXPECT_TRUE(psl.is_public_suffix(suffix)) << suffix;
  }
  EXPECT_FALSE(psl.is_public_suffix("example.co.uk"));
}

TEST(PublicSuffix, LowercasesAndStripsTheTrailingDot) {
  const auto psl = PublicSuffixList::from_string(kRules);
  EXPECT_EQ(psl.organizational_domain("WWW.Example.CO.UK."), "example.co.uk");
  EXPECT_EQ(psl.organizational_domain("Example.COM"), "example.com");
  EXPECT_TRUE(psl.is_public_suffix("CO.UK."));
}

TEST(PublicSuffix, LeavesMalformedDomainsAlone) {
  const auto psl = PublicSuffixList::from_string(kRules);
  EXPECT_EQ(psl.organizational_domain(""), "");
  EXPECT_EQ(psl.organizational_domain("a..example.com"), "a..example.com");
  EXPECT_EQ(psl.organizational_domain(".example.com"), ".example.com");
  const std::string long_label = std::string(64, 'a') + ".example.com";
  EXPECT_EQ(psl.organizational_domain(long_label), long_label);
  EXPECT_FALSE(psl.is_public_suffix(""));
}

TEST(PublicSuffix, ConvertsUnicodeRulesToALabels) {
  const auto psl = PublicSuffixList::from_string(kRules);
  EXPECT_TRUE(psl.is_public_suffix("xn--55qx5d.cn"));
  EXPECT_EQ(psl.organizational_domain("mail.shop.xn--55qx5d.cn"), "shop.xn--55qx5d.cn");
  // 24 lines: 5 comments, 1 blank; the other 18 are rules (libpsl counts a Unicode rule's
  // U-label and A-label forms apart), and a list of comments has none.
  EXPECT_GE(psl.size(), 18u);
  EXPECT_EQ(PublicSuffixList::from_string("// nothing\n\n").size(), 0u);
}

TEST(PublicSuffix, CountsThePrivateSection) {
  const auto psl = PublicSuffixList::from_string(kRules);
  EXPECT_EQ(psl.organizational_domain("foo.bar.github.io"), "bar.github.io");
  EXPECT_TRUE(psl.is_public_suffix("github.io"));
}

TEST(PublicSuffix, LoadFailsForAMissingFile) {
  EXPECT_FALSE(PublicSuffixList::load("/nonexistent/public_suffix_list.dat"));
}

TEST(PublicSuffix, ReadsDebiansList) {
  const std::string path = "/usr/share/publicsuffix/public_suffix_list.dat";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " is missing (Debian package publicsuffix)";
  }
  const auto psl = PublicSuffixList::load(path);
  ASSERT_TRUE(psl);
  EXPECT_GT(psl->size(), 5000u);
  expect_organizational(*psl, {{"mail.example.co.uk", "example.co.uk"},
                               {"a.b.example.com", "example.com"},
                               {"foo.bar.github.io", "bar.github.io"},  // PRIVATE section
                               {"www.city.kobe.jp", "city.kobe.jp"},
                               {"a.b.c.kobe.jp", "b.c.kobe.jp"},
                               // 公司.cn is a Unicode rule: without IDNA this would be
                               // "xn--55qx5d.cn".
                               {"xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"},
                               {"www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"},
                               // 公司.香港
                               {"a.b.xn--55qx5d.xn--j6w193g", "b.xn--55qx5d.xn--j6w193g"}});
  EXPECT_TRUE(psl->is_public_suffix("xn--55qx5d.cn"));
  EXPECT_TRUE(psl->is_public_suffix("github.io"));
}

}  // namespace
}  // namespace sealpost::auth::dmarc
