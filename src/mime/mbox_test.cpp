#include "mime/mbox.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace sealpost::mime {
namespace {

std::vector<std::string> read_all(std::string_view data) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (auto e = next_mbox_entry(data, pos)) {
    out.push_back(*mbox_content_to_message(e->content, 1 << 20));
  }
  return out;
}

TEST(Mbox, FromLineIsAsctimeInUtc) {
  EXPECT_EQ(mbox_from_line("alice@example.com", 0),
            "From alice@example.com Thu Jan  1 00:00:00 1970");
  EXPECT_EQ(mbox_from_line("", 1700000000), "From MAILER-DAEMON Tue Nov 14 22:13:20 2023");
  EXPECT_EQ(mbox_from_line("a b@c", 0).substr(0, 19), "From MAILER-DAEMON ");
  const auto parsed = parse_from_line("alice@example.com Tue Nov 14 22:13:20 2023");
  EXPECT_EQ(parsed.sender, "alice@example.com");
  EXPECT_EQ(parsed.unix_time, 1700000000);
  EXPECT_EQ(parse_from_line("x Tue Nov 14 22:13 +0100 2023").unix_time, 1700000000 - 20);
  EXPECT_FALSE(parse_from_line("nobody at all").dated);
  EXPECT_TRUE(parse_from_line("MAILER-DAEMON Thu Jan  1 00:00:00 1970").dated);
}

TEST(Mbox, FromLinesInBodiesAreEscapedReversibly) {
  const std::string m1 =
      "Subject: one\r\n\r\nFrom here on\r\n>From quoted\r\n>>From deeper\r\nFromage\r\n";
  const std::string m2 = "Subject: two\r\n\r\nlast line without end";
  const std::string m3 = "Subject: three\r\n\r\nends with a blank line\r\n\r\n";
  std::string box;
  append_mboxrd(box, mbox_from_line("a@b", 0), m1);
  append_mboxrd(box, mbox_from_line("", 0), m3);
  append_mboxrd(box, mbox_from_line("", 0), m2);
  EXPECT_NE(box.find("\n>From here on\n>>From quoted\n>>>From deeper\nFromage\n"),
            std::string::npos)
      << box;
  EXPECT_EQ(box.find('\r'), std::string::npos) << "LF line ends in the file";
  const auto back = read_all(box);
  ASSERT_EQ(back.size(), 3U);
  EXPECT_EQ(back[0], m1);
  EXPECT_EQ(back[1], m3);
  EXPECT_EQ(back[2], m2 + "\r\n") << "a message without a final line end gets one";
}

TEST(Mbox, ReadsMboxoAndForeignFiles) {
  // Unescaped "From " in a body (mboxo) without a date does not split the message.
  const std::string box =
      "\nFrom a@b Mon Jan  1 10:00:00 2024\nSubject: x\n\nFrom me, hello\n\n"
      "From c@d Mon Jan  1 11:00:00 2024\nSubject: y\n\nbye\n";
  const auto back = read_all(box);
  ASSERT_EQ(back.size(), 2U);
  EXPECT_EQ(back[0], "Subject: x\r\n\r\nFrom me, hello\r\n");
  EXPECT_EQ(back[1], "Subject: y\r\n\r\nbye\r\n");
  std::size_t pos = 0;
  EXPECT_FALSE(next_mbox_entry("Subject: not an mbox\n", pos));
  pos = 0;
  EXPECT_FALSE(next_mbox_entry("", pos));
  // CRLF mbox files are read too.
  EXPECT_EQ(read_all("From a@b Mon Jan  1 10:00:00 2024\r\nS: 1\r\n\r\nb\r\n\r\n")[0],
            "S: 1\r\n\r\nb\r\n");
}

TEST(Mbox, OutputIsBounded) {
  EXPECT_FALSE(mbox_content_to_message(std::string(1000, 'a') + "\n", 100));
  EXPECT_TRUE(mbox_content_to_message(std::string(10, 'a') + "\n", 100));
}

}  // namespace
}  // namespace sealpost::mime
