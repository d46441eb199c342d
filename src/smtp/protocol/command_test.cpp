#include "smtp/protocol/command.hpp"

#include <limits>

#include <gtest/gtest.h>

namespace sealpost::smtp::protocol {
namespace {

Command ok(std::string_view line, bool utf8 = false) {
  auto r = parse_command(line, utf8);
  EXPECT_TRUE(r) << line << " -> " << (r ? "" : r.error().serialize());
  return r ? std::move(r).value() : Command{};
}

Reply err(std::string_view line, bool utf8 = false) {
  auto r = parse_command(line, utf8);
  EXPECT_FALSE(r) << line;
  return r ? Reply{} : std::move(r).error();
}

TEST(CommandTest, VerbsAreCaseInsensitive) {
  EXPECT_EQ(ok("ehlo client.example").verb, Verb::kEhlo);
  EXPECT_EQ(ok("Ehlo client.example").argument, "client.example");
  EXPECT_EQ(ok("helo [192.0.2.1]").verb, Verb::kHelo);
  EXPECT_EQ(ok("rset").verb, Verb::kRset);
  EXPECT_EQ(ok("StartTLS").verb, Verb::kStarttls);
  EXPECT_EQ(ok("NOOP anything").verb, Verb::kNoop);
}

TEST(CommandTest, MailWithParameters) {
  const Command c = ok("MAIL FROM:<alice@example.com> SIZE=1234 BODY=8BITMIME");
  EXPECT_EQ(c.verb, Verb::kMail);
  EXPECT_EQ(c.path.mailbox.local, "alice");
  EXPECT_EQ(c.path.mailbox.domain, "example.com");
  EXPECT_EQ(c.mail.size, 1234U);
  EXPECT_EQ(c.mail.body, BodyType::kEightBitMime);
  EXPECT_FALSE(c.mail.smtputf8);
}

TEST(CommandTest, MailToleratesSpaceAfterColonAndNullSender) {
  EXPECT_EQ(ok("MAIL FROM: <a@b.example>").path.mailbox.local, "a");
  EXPECT_TRUE(ok("MAIL FROM:<>").path.null);
}

TEST(CommandTest, MailParameterErrors) {
  EXPECT_EQ(err("MAIL FROM:<a@b.example> FOO=1").code, 555);
  EXPECT_EQ(err("MAIL FROM:<a@b.example> FOO=1").enhanced, "5.5.4");
  EXPECT_EQ(err("MAIL FROM:<a@b.example> BODY=BINARYMIME").code, 555);
  EXPECT_EQ(err("MAIL FROM:<a@b.example> SIZE=1 SIZE=2").code, 501);
  EXPECT_EQ(err("MAIL FROM:<a@b.example> SIZE=abc").code, 501);
  EXPECT_EQ(err("MAIL FROM:<a@b.example> SMTPUTF8=yes").code, 501);
  EXPECT_EQ(err("MAIL FROM:a@b.example").enhanced, "5.1.7");
  EXPECT_EQ(err("MAIL TO:<a@b.example>").code, 501);
}

TEST(CommandTest, Utf8AddressesNeedSmtputf8) {
  const Reply r = err("MAIL FROM:<jörg@bücher.example>");
  EXPECT_EQ(r.code, 553);
  EXPECT_EQ(r.enhanced, "5.6.7");
  EXPECT_TRUE(ok("MAIL FROM:<jörg@bücher.example> SMTPUTF8").mail.smtputf8);
  EXPECT_EQ(err("RCPT TO:<jörg@bücher.example>").code, 553);
  EXPECT_EQ(ok("RCPT TO:<jörg@bücher.example>", true).path.mailbox.local, "jörg");
}

TEST(CommandTest, RcptTakesPathsAndRefusesNullAndBadOnes) {
  EXPECT_EQ(ok("RCPT TO:<bob@example.com>").path.mailbox.to_string(), "bob@example.com");
  EXPECT_EQ(ok("RCPT TO:<Postmaster>").path.mailbox.local, "Postmaster");
  EXPECT_TRUE(ok("RCPT TO:<@relay.example:bob@example.com>").path.had_source_route);
  EXPECT_EQ(err("RCPT TO:<bob@example.com> NOTIFY=NEVER").code, 555);
  EXPECT_EQ(err("RCPT TO:<>").enhanced, "5.1.3");
  EXPECT_EQ(err("RCPT TO:<nobody>").enhanced, "5.1.3");
}

TEST(CommandTest, BdatTakesASizeAndLast) {
  const Command c = ok("BDAT 1000 LAST");
  EXPECT_EQ(c.chunk_size, 1000U);
  EXPECT_TRUE(c.last_chunk);
  EXPECT_FALSE(ok("bdat 0").last_chunk);
  EXPECT_EQ(err("BDAT").code, 501);
  EXPECT_EQ(err("BDAT -1").code, 501);
  EXPECT_EQ(err("BDAT 10 FIRST").code, 501);
}

TEST(CommandTest, SizesPastSixtyFourBitsReadAsTheLargestNeverWrapped) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  // 2^64 used to wrap to 0: "BDAT 18446744073709551616 LAST" was an empty last chunk.
  EXPECT_EQ(ok("BDAT 18446744073709551616 LAST").chunk_size, kMax);
  EXPECT_EQ(ok("BDAT 99999999999999999999").chunk_size, kMax);
  EXPECT_EQ(ok("MAIL FROM:<a@b.example> SIZE=18446744073709551616").mail.size, kMax);
  EXPECT_EQ(ok("MAIL FROM:<a@b.example> SIZE=18446744073709551615").mail.size, kMax);
  EXPECT_EQ(err("BDAT 123456789012345678901").code, 501);  // past RFC 3030's 20 digits
}

TEST(CommandTest, CommandsWithoutArgumentsRefuseThem) {
  for (const char* line : {"DATA x", "RSET x", "QUIT now", "STARTTLS please"}) {
    EXPECT_EQ(err(line).code, 501) << line;
  }
  EXPECT_EQ(err("HELO").code, 501);
  EXPECT_EQ(err("EHLO a b").code, 501);
  EXPECT_EQ(err("VRFY").code, 501);
}

TEST(CommandTest, RejectsUnknownOverlongAndControlCharacters) {
  const Reply unknown = err("XYZZY");
  EXPECT_EQ(unknown.code, 500);
  EXPECT_EQ(unknown.enhanced, "5.5.1");
  EXPECT_EQ(err(std::string(kMaxCommandLine, 'A')).enhanced, "5.5.2");
  EXPECT_EQ(err(std::string("NOOP a\0b", 8)).enhanced, "5.5.2");
  EXPECT_EQ(err("NOOP a\rb").enhanced, "5.5.2");
}

}  // namespace
}  // namespace sealpost::smtp::protocol
