#include "smtp/protocol/address.hpp"

#include <gtest/gtest.h>

namespace sealpost::smtp::protocol {
namespace {

TEST(AddressTest, DotStringAndQuotedLocalParts) {
  auto p = parse_path("<first.last+tag@example.com>", false);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mailbox.local, "first.last+tag");
  p = parse_path(R"(<"john \"jd\" doe"@example.com>)", false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->mailbox.local_quoted);
  EXPECT_EQ(p->mailbox.local, "john \"jd\" doe");
  EXPECT_EQ(p->mailbox.to_string(), R"("john \"jd\" doe"@example.com)");
}

TEST(AddressTest, QuotedAtSignIsKeptForRoutingToRefuse) {
  const auto p = parse_path(R"(<"user@other.example"@example.com>)", false);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mailbox.local, "user@other.example");
  EXPECT_EQ(p->mailbox.domain, "example.com");
}

TEST(AddressTest, SourceRoutesAndLiterals) {
  auto p = parse_path("<@a.example,@b.example:user@c.example>", false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->had_source_route);
  EXPECT_EQ(p->mailbox.domain, "c.example");
  p = parse_path("<user@[192.0.2.1]>", false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->mailbox.domain_is_literal);
}

TEST(AddressTest, MalformedPathsAreRefused) {
  for (const char* bad : {"user@example.com", "<user@>", "<@example.com>", "<user@exa mple.com>",
                          "<a..b@example.com>", "<.a@example.com>", "<user@-x.example>",
                          "<\"unterminated@example.com>", "<user@example.com"}) {
    EXPECT_FALSE(parse_path(bad, false)) << bad;
  }
}

TEST(AddressTest, OverlongLocalPartsAndDomainsAreRefused) {
  EXPECT_TRUE(parse_path("<" + std::string(64, 'a') + "@example.com>", false));
  EXPECT_EQ(parse_path("<" + std::string(65, 'a') + "@example.com>", false).error(),
            PathError::kTooLong);
  EXPECT_EQ(parse_path("<a@" + std::string(300, 'b') + ">", false).error(), PathError::kTooLong);
}

TEST(AddressTest, Utf8OnlyWithSmtputf8) {
  EXPECT_EQ(parse_path("<jörg@example.com>", false).error(), PathError::kUtf8NotAllowed);
  const auto p = parse_path("<jörg@bücher.example>", true);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->mailbox.has_utf8);
}

}  // namespace
}  // namespace sealpost::smtp::protocol
