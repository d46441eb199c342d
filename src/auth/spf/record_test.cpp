#include "auth/spf/record.hpp"

#include <gtest/gtest.h>

#include "auth/spf/macro.hpp"

namespace sealpost::auth::spf {
namespace {

TEST(SpfRecord, ParsesEveryMechanismAndModifier) {
  auto r = parse_record(
      "v=spf1 +a -mx:mx.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
      "include:_spf.example.net exists:%{i}.bl.example.org redirect=example.org "
      "exp=explain.example.org unknown-mod=foo  all");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->directives.size(), 8u);
  EXPECT_EQ(r->directives[1].qualifier, Qualifier::kFail);
  EXPECT_EQ(r->directives[1].mechanism, Mechanism::kMx);
  EXPECT_EQ(r->directives[1].domain_spec, "mx.example.com");
  EXPECT_EQ(r->directives[1].cidr4, 24u);
  EXPECT_EQ(r->directives[1].cidr6, 64u);
  EXPECT_EQ(r->directives[3].cidr4, 24u);
  EXPECT_TRUE(r->directives[4].network.v6);
  EXPECT_EQ(*r->redirect, "example.org");
  EXPECT_EQ(*r->exp, "explain.example.org");
}

TEST(SpfRecord, RefusesSyntaxErrors) {
  for (const char* bad : {"v=spf1 ip4:1.2.3.4/33", "v=spf1 ip4:1.2.3", "v=spf1 ip6:1.2.3.4",
                          "v=spf1 a:foo", "v=spf1 a:1.2.3.4", "v=spf1 include", "v=spf1 -all.",
                          "v=spf1 foo:bar", "v=spf1 a/024", "v=spf1 exists:%{x}.example.com",
                          "v=spf1 exists:%{c}.example.com", "v=spf1 redirect=a.com redirect=b.com",
                          "v=spf1 exp=a.com exp=b.com", "v=spf1 a:%{d0}.example.com",
                          "v=spf1 \x80"
                          "all"}) {
    EXPECT_FALSE(parse_record(bad)) << bad;
  }
  EXPECT_FALSE(parse_record("v=spf10"));
  EXPECT_TRUE(parse_record("v=spf1"));
  EXPECT_TRUE(parse_record("V=SPF1 -ALL "));
}

TEST(SpfIp, MatchesNetworks) {
  const auto ip = *Ip::parse("192.0.2.130");
  EXPECT_TRUE(ip.in_network(*Ip::parse("192.0.2.128"), 25));
  EXPECT_FALSE(ip.in_network(*Ip::parse("192.0.2.0"), 25));
  EXPECT_TRUE(ip.in_network(*Ip::parse("10.0.0.0"), 0));
  EXPECT_FALSE(ip.in_network(*Ip::parse("::"), 0));  // another family never matches
  const auto mapped = Ip::parse("::ffff:192.0.2.130")->unmapped();
  EXPECT_FALSE(mapped.v6);
  EXPECT_EQ(mapped.to_string(), "192.0.2.130");
}

// RFC 7208 section 7.4's examples.
TEST(SpfMacro, ExpandsTheRfcExamples) {
  MacroContext c;
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = *Ip::parse("192.0.2.3");
  const std::pair<const char*, const char*> cases[] = {
      {"%{s}", "strong-bad@email.example.com"},
      {"%{o}", "email.example.com"},
      {"%{d4}", "email.example.com"},
      {"%{d2}", "example.com"},
      {"%{d1}", "com"},
      {"%{dr}", "com.example.email"},
      {"%{d2r}", "example.email"},
      {"%{l-}", "strong.bad"},
      {"%{lr}", "strong-bad"},
      {"%{lr-}", "bad.strong"},
      {"%{l1r-}", "strong"},
      {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
      {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
      {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
      {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
      {"%{L}%%%_%-", "strong-bad% %20"},
  };
  for (const auto& [in, out] : cases) {
    auto e = expand(in, c, false);
    ASSERT_TRUE(e) << in;
    EXPECT_EQ(*e, out) << in;
  }
  c.ip = *Ip::parse("2001:db8::cb01");
  EXPECT_EQ(*expand("%{ir}.%{v}._spf.%{d2}", c, false),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  c.local_part = "jack&jill=up";
  EXPECT_EQ(*expand("%{L}", c, false), "jack%26jill%3Dup");
  EXPECT_FALSE(expand("%{c}", c, false));  // c, r and t only in explanations
  EXPECT_EQ(*expand("from %{c} at %{r}", c, true), "from 2001:db8::cb01 at unknown");
}

TEST(SpfMacro, TargetNamesAreShortenedFromTheLeft) {
  std::string long_name;
  for (int i = 0; i < 30; ++i) long_name += "abcdefghi.";
  long_name += "example.com.";
  const auto t = target_name(long_name);
  EXPECT_LE(t.size(), 253u);
  EXPECT_TRUE(t.ends_with("abcdefghi.example.com"));
  EXPECT_EQ(target_name("a..b"), "");
  EXPECT_EQ(target_name(std::string(64, 'a') + ".com"), "");
}

}  // namespace
}  // namespace sealpost::auth::spf
