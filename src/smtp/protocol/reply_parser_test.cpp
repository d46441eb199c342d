#include "smtp/protocol/reply_parser.hpp"

#include <gtest/gtest.h>

namespace sealpost::smtp::protocol {
namespace {

TEST(ReplyParserTest, MultiLineEhloIsOneReply) {
  ServerReply r;
  std::size_t used = 0;
  const std::string_view in = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n";
  ASSERT_EQ(parse_reply(in, r, used), ReplyParse::kComplete);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(r.code, 250);
  EXPECT_TRUE(r.has_extension("PIPELINING"));
  EXPECT_TRUE(r.has_extension("size"));
  EXPECT_FALSE(r.has_extension("mx.example"));  // the first line is the greeting, not an extension
}

TEST(ReplyParserTest, PipelinedRepliesOneAtATime) {
  std::string in = "250 2.1.0 OK\r\n550 5.1.1 unknown\r\n354 go";
  ServerReply r;
  std::size_t used = 0;
  ASSERT_EQ(parse_reply(in, r, used), ReplyParse::kComplete);
  EXPECT_EQ(r.enhanced, "2.1.0");
  in.erase(0, used);
  ASSERT_EQ(parse_reply(in, r, used), ReplyParse::kComplete);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  in.erase(0, used);
  EXPECT_EQ(parse_reply(in, r, used), ReplyParse::kNeedMore);
}

TEST(ReplyParserTest, MalformedReplies) {
  ServerReply r;
  std::size_t used = 0;
  EXPECT_EQ(parse_reply("250-a\r\n251 b\r\n", r, used), ReplyParse::kMalformed);
  EXPECT_EQ(parse_reply("25x ok\r\n", r, used), ReplyParse::kMalformed);
  EXPECT_EQ(parse_reply("250_ok\r\n", r, used), ReplyParse::kMalformed);
  EXPECT_EQ(parse_reply("999 what\r\n", r, used), ReplyParse::kMalformed);
  EXPECT_EQ(parse_reply(std::string(kMaxReplyLine + 10, '2'), r, used), ReplyParse::kMalformed);
  std::string many;
  for (std::size_t i = 0; i <= kMaxReplyLines; ++i) many += "250-x\r\n";
  EXPECT_EQ(parse_reply(many, r, used), ReplyParse::kMalformed);
}

TEST(ReplyParserTest, EnhancedCodesAreFoundOnlyWhenWellFormed) {
  EXPECT_EQ(leading_enhanced_code("4.2.2 Mailbox full"), "4.2.2");
  EXPECT_EQ(leading_enhanced_code("5.7.26 DMARC"), "5.7.26");
  EXPECT_EQ(leading_enhanced_code("Mailbox full"), "");
  EXPECT_EQ(leading_enhanced_code("3.1.1 x"), "");
  EXPECT_EQ(leading_enhanced_code("5.1.1234 x"), "");
}

}  // namespace
}  // namespace sealpost::smtp::protocol
