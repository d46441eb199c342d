#include "auth/dmarc/public_suffix.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace sealpost::auth::dmarc {
namespace {

const char* kRules =
    "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n// ===BEGIN PRIVATE DOMAINS===\ngithub.io\n"
    "\xe5\x85\xac\xe5\x8f\xb8.cn\ncn\n";

TEST(PublicSuffix, OrganizationalDomains) {
  const auto psl = PublicSuffixList::from_string(kRules);
  EXPECT_EQ(psl.organizational_domain("www.example.com"), "example.com");
  EXPECT_EQ(psl.organizational_domain("Example.COM."), "example.com");
  EXPECT_EQ(psl.organizational_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl.organizational_domain("www.www.ck"), "www.ck");
  EXPECT_EQ(psl.organizational_domain("a.b.c.ck"), "b.c.ck");
  EXPECT_EQ(psl.organizational_domain("a.b.example.invalidtld"), "example.invalidtld");
  EXPECT_EQ(psl.organizational_domain("foo.bar.github.io"), "bar.github.io");
  EXPECT_EQ(psl.organizational_domain("mail.shop.xn--55qx5d.cn"), "shop.xn--55qx5d.cn");
  EXPECT_EQ(psl.organizational_domain("co.uk"), "co.uk");
  EXPECT_TRUE(psl.is_public_suffix("co.uk"));
  EXPECT_FALSE(psl.is_public_suffix("example.co.uk"));
}

TEST(PublicSuffix, DebiansList) {
  const std::string path = "/usr/share/publicsuffix/public_suffix_list.dat";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing (package publicsuffix)";
  const auto psl = PublicSuffixList::load(path);
  ASSERT_TRUE(psl);
  EXPECT_GT(psl->size(), 5000u);
  EXPECT_EQ(psl->organizational_domain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl->organizational_domain("foo.bar.github.io"), "bar.github.io");
  EXPECT_EQ(psl->organizational_domain("a.b.example.com"), "example.com");
  EXPECT_EQ(psl->organizational_domain("x.y.xn--85x722f.xn--55qx5d.cn"), "xn--85x722f.xn--55qx5d.cn");
}

}  // namespace
}  // namespace sealpost::auth::dmarc
