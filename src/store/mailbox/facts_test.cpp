#include "store/mailbox/facts.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/utf8.hpp"
#include "mime/charset.hpp"
#include "testing/conformance.hpp"

namespace sealpost::store::mailbox {
namespace {

TEST(MessageFacts, ComputedOnceFromTheMimeStructure) {
  const std::string raw =
      "Return-Path: <a@example.org>\r\n"
      "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
      "From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
      "To: Alice <alice@example.com>, bob@example.com\r\n"
      "Subject: =?iso-8859-1?q?Gr=FC=DFe?= from the team\r\n"
      "Message-ID: <m3@example.org>\r\n"
      "In-Reply-To: <m2@example.org>\r\n"
      "References: <m1@example.org>\r\n <m2@example.org>\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n"
      "The quarterly numbers.\r\n";
  const auto f = message_facts(raw);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->message_id, "m3@example.org");
  EXPECT_EQ(f->parents, (std::vector<std::string>{"m1@example.org", "m2@example.org"}));
  EXPECT_EQ(f->sent_date, 1700000000);
  EXPECT_EQ(f->subject, "Grüße from the team");
  EXPECT_EQ(f->from, "Jürgen <j@example.org>");
  EXPECT_NE(f->to.find("bob@example.com"), std::string::npos);
  EXPECT_EQ(f->text, "The quarterly numbers.\r\n");
  // ENVELOPE keeps header values as written (clients decode encoded words).
  EXPECT_TRUE(f->envelope.starts_with(
      "(\"Tue, 14 Nov 2023 22:13:20 +0000\" \"=?iso-8859-1?q?Gr=FC=DFe?= from the team\" "
      "((\"=?utf-8?q?J=C3=BCrgen?=\" NIL \"j\" \"example.org\"))"))
      << f->envelope;
  EXPECT_TRUE(f->envelope.ends_with("\"<m2@example.org>\" \"<m3@example.org>\")")) << f->envelope;
  EXPECT_EQ(f->body, "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 24 1)");
  EXPECT_EQ(f->bodystructure.substr(0, f->body.size() - 1), f->body.substr(0, f->body.size() - 1));
}

// Every message of the MIME corpus (real-world and broken mail) gets its facts, and what search
// indexes is valid UTF-8 (FTS5 and IMAP need it).
TEST(MessageFacts, EveryConformanceMessageGetsFacts) {
  const std::filesystem::path dir = testing::conformance_dir() / "mime";
  SEALPOST_REQUIRE_CONFORMANCE(dir);
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".txt" && ext != ".eml")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(in)), {});
    const auto f = message_facts(raw);
    ASSERT_TRUE(f) << e.path();
    EXPECT_FALSE(f->bodystructure.empty()) << e.path();
    for (const auto* text : {&f->subject, &f->from, &f->to, &f->text}) {
      EXPECT_TRUE(core::is_valid_utf8(*text)) << e.path();
    }
    ++n;
  }
  EXPECT_EQ(n, 150U);
}

}  // namespace
}  // namespace sealpost::store::mailbox
