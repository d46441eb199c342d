#include "pop3/protocol/command.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sealpost::pop3::protocol {
namespace {

Command ok(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_TRUE(r) << line << " -> " << (r ? "" : r.error());
  return r ? std::move(r).value() : Command{};
}

std::string err(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_FALSE(r) << line;
  return r ? std::string() : std::move(r).error();
}

TEST(Pop3CommandTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(ok("QUIT").verb, Verb::kQuit);
  EXPECT_EQ(ok("quit").verb, Verb::kQuit);
  EXPECT_EQ(ok("Stat").verb, Verb::kStat);
  EXPECT_EQ(ok("capa").verb, Verb::kCapa);
  EXPECT_EQ(ok("STLS").verb, Verb::kStls);
  EXPECT_EQ(ok("rset").verb, Verb::kRset);
  EXPECT_EQ(ok("NOOP").verb, Verb::kNoop);
  EXPECT_EQ(err("FROB"), "Unknown command");
  EXPECT_EQ(err(""), "Empty command");
  EXPECT_EQ(err("STATUS"), "Unknown command");
}

TEST(Pop3CommandTest, Rfc1939Examples) {
  EXPECT_EQ(ok("USER mrose").argument, "mrose");
  EXPECT_EQ(ok("PASS secret").argument, "secret");
  const Command apop = ok("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
  EXPECT_EQ(apop.verb, Verb::kApop);
  EXPECT_EQ(apop.argument, "mrose");
  EXPECT_EQ(apop.digest, "c4c9334bac560ecc979e58001b3e22fb");
  EXPECT_FALSE(ok("LIST").message);
  EXPECT_EQ(ok("LIST 2").message, 2U);
  EXPECT_EQ(ok("UIDL").verb, Verb::kUidl);
  EXPECT_EQ(ok("UIDL 2").message, 2U);
  EXPECT_EQ(ok("RETR 1").message, 1U);
  EXPECT_EQ(ok("DELE 1").verb, Verb::kDele);
  const Command top = ok("TOP 1 10");
  EXPECT_EQ(top.message, 1U);
  EXPECT_EQ(top.lines, 10U);
  EXPECT_EQ(ok("TOP 1 0").lines, 0U);
}

TEST(Pop3CommandTest, PassKeepsTheWholeRestOfTheLine) {
  EXPECT_EQ(ok("PASS  two  spaces and more ").argument, " two  spaces and more ");
  EXPECT_EQ(ok("pass p\xC3\xA4ss").argument, "p\xC3\xA4ss");
  EXPECT_EQ(err("PASS"), "PASS needs a password");
  EXPECT_EQ(err("PASS "), "PASS needs a password");
  err(std::string("PASS a\0b", 8));
  err("PASS a\rb");
  // PASS may be longer than the 255-octet command line, up to 1024 with CRLF.
  EXPECT_EQ(ok("PASS " + std::string(1017, 'p')).argument.size(), 1017U);
  EXPECT_EQ(err("PASS " + std::string(1018, 'p')), "Command line too long");
}

TEST(Pop3CommandTest, CommandLinesAreLimitedTo255Octets) {
  EXPECT_EQ(ok("USER " + std::string(248, 'u')).argument.size(), 248U);
  EXPECT_EQ(err("USER " + std::string(249, 'u')), "Command line too long");
}

TEST(Pop3CommandTest, ArgumentsAreSeparatedBySingleSpaces) {
  err("LIST  1");
  err("LIST 1 ");
  err("STAT ");
  err("STAT 1");
  err("QUIT now");
  err("USER a b");
  err("USER");
  err("TOP 1");
  err("TOP 1 2 3");
  err("RETR");
  err("RETR 1 2");
  err("APOP mrose");
}

TEST(Pop3CommandTest, NumbersAreBounded) {
  EXPECT_EQ(ok("RETR 4294967295").message, 4294967295U);
  EXPECT_EQ(err("RETR 4294967296"), "Invalid message number");
  EXPECT_EQ(err("RETR 0"), "Invalid message number");
  EXPECT_EQ(err("LIST 0"), "Invalid message number");
  err("RETR +1");
  err("RETR -1");
  err("RETR 1x");
  err("RETR 99999999999999999999999");
  EXPECT_EQ(err("TOP 1 -1"), "Invalid number of lines");
  EXPECT_EQ(err("TOP 0 1"), "Invalid message number");
}

TEST(Pop3CommandTest, ApopDigestIsHex) {
  EXPECT_EQ(ok("APOP mrose C4C9334BAC560ECC979E58001B3E22FB").digest.size(), 32U);
  err("APOP mrose c4c9334bac560ecc979e58001b3e22f");
  err("APOP mrose c4c9334bac560ecc979e58001b3e22fg");
  err("APOP mr\x01se c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Pop3CommandTest, AuthWithInitialResponse) {
  const Command plain = ok("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=");
  EXPECT_EQ(plain.verb, Verb::kAuth);
  EXPECT_EQ(plain.argument, "PLAIN");
  EXPECT_EQ(plain.initial_response, "dGVzdAB0ZXN0AHRlc3Q=");
  EXPECT_EQ(ok("AUTH PLAIN =").initial_response, "=");
  EXPECT_FALSE(ok("auth scram-sha-256").initial_response);
  EXPECT_EQ(ok("AUTH").argument, "");
  EXPECT_EQ(err("AUTH PLAIN dGVzdA"), "Invalid initial response");
  EXPECT_EQ(err("AUTH PL@IN"), "Invalid SASL mechanism name");
  err("AUTH ABCDEFGHIJKLMNOPQRSTU");  // 21 characters
  err("AUTH PLAIN a b");
}

TEST(Pop3CommandTest, SaslResponses) {
  EXPECT_TRUE(parse_sasl_response("*")->cancelled);
  const auto r = parse_sasl_response("dGVzdA==");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->cancelled);
  EXPECT_EQ(r->base64, "dGVzdA==");
  EXPECT_TRUE(parse_sasl_response(""));
  EXPECT_FALSE(parse_sasl_response("dGVzdA"));
  EXPECT_FALSE(parse_sasl_response("**"));
  EXPECT_FALSE(parse_sasl_response("dG=zdA=="));
}

}  // namespace
}  // namespace sealpost::pop3::protocol
