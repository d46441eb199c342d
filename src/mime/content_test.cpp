#include "mime/content.hpp"

#include <limits>

#include <gtest/gtest.h>

namespace sealpost::mime {
namespace {

TEST(MimeContent, Base64IsDecodedLeniently) {
  EXPECT_EQ(decode_transfer_encoding("SGVsbG8sIHdv\r\ncmxkIQ==\r\n", "base64", 100),
            "Hello, world!");
  EXPECT_EQ(decode_transfer_encoding("SGVsbG8", "BASE64", 100), "Hello") << "padding optional";
  EXPECT_EQ(decode_transfer_encoding("SG!!Vs*bG8=", "base64", 100), "Hello") << "junk skipped";
  EXPECT_EQ(decode_transfer_encoding("SGVsbG8sIHdvcmxkIQ==", "base64", 5), "Hello") << "bounded";
}

TEST(MimeContent, QuotedPrintableFollowsRfc2045) {
  EXPECT_EQ(
      decode_transfer_encoding("Gr=C3=BC=C3=9Fe=\r\n aus K=C3=B6ln\r\n", "quoted-printable", 100),
      "Grüße aus Köln\r\n");
  EXPECT_EQ(decode_transfer_encoding("soft=  \nbreak", "quoted-printable", 100), "softbreak");
  EXPECT_EQ(decode_transfer_encoding("a=ZZb=4", "quoted-printable", 100), "a=ZZb=4")
      << "malformed escapes kept";
  EXPECT_EQ(decode_transfer_encoding("end=", "quoted-printable", 100), "end");
  EXPECT_EQ(decode_transfer_encoding("as is=41", "8bit", 100), "as is=41");
  EXPECT_EQ(decode_transfer_encoding("trailing \t \r\nkept in  the middle \nend  ",
                                     "quoted-printable", 100),
            "trailing\r\nkept in  the middle\nend")
      << "whitespace at the end of a line is transport's, deleted (rule 3)";
  EXPECT_EQ(decode_transfer_encoding("a =20\r\n", "quoted-printable", 100), "a  \r\n")
      << "encoded whitespace stays";
}

TEST(MimeContent, Rfc5322Dates) {
  EXPECT_EQ(parse_rfc5322_date("Tue, 14 Nov 2023 22:13:20 +0000"), 1700000000);
  EXPECT_EQ(parse_rfc5322_date("14 Nov 2023 23:13:20 +0100"), 1700000000);
  EXPECT_EQ(parse_rfc5322_date("Tue, 14 Nov 2023 17:13:20 -0500 (EST)"), 1700000000);
  EXPECT_EQ(parse_rfc5322_date("Tue, 14 Nov 23 17:13:20 EST"), 1700000000) << "obsolete forms";
  EXPECT_EQ(parse_rfc5322_date("Tue, 14 Nov 2023 22:13 GMT"), 1700000000 - 20);
  EXPECT_EQ(parse_rfc5322_date("Fri, 21 Nov 1997 09:55:06 -0600"), 880127706) << "RFC 5322 A.1.1";
  EXPECT_FALSE(parse_rfc5322_date("yesterday"));
  EXPECT_FALSE(parse_rfc5322_date("Tue, 40 Nov 2023 22:13:20 +0000"));
  EXPECT_FALSE(parse_rfc5322_date(""));
}

TEST(MimeContent, SearchableTextIsTheDecodedTextParts) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nZ=FCrich\r\n"
      "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "PHA+QmVybiAmYW1wOyBCYXNlbDwvcD4=\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
      "attached words\r\n"
      "--b\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n";
  const auto m = parse_message(raw);
  ASSERT_TRUE(m);
  const std::string text = searchable_text(m.value(), 1000);
  EXPECT_NE(text.find("Zürich"), std::string::npos) << text;
  EXPECT_NE(text.find("Bern & Basel"), std::string::npos) << text;
  EXPECT_EQ(text.find("attached"), std::string::npos) << "attachments are not body text";
  EXPECT_EQ(text.find("PDF"), std::string::npos);
  EXPECT_LE(searchable_text(m.value(), 5).size(), 5U);
}

TEST(MimeContent, SearchableTextSkipsCharsetsOutsideTheAllowlist) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=ibm037\r\n\r\n\xC8\x85\x93\x93\x96 guessed\r\n"
      "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain words\r\n--b--\r\n";
  const auto m = parse_message(raw);
  ASSERT_TRUE(m);
  const std::string text = searchable_text(m.value(), 1000);
  EXPECT_NE(text.find("plain words"), std::string::npos) << text;
  EXPECT_EQ(text.find("guessed"), std::string::npos) << text;
  EXPECT_EQ(text.find("Hello"), std::string::npos) << text;
}

TEST(MimeContent, FormatsRfc5322DatesInUtcAndReadsThemBack) {
  EXPECT_EQ(format_rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(1700000000), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(format_rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");  // a leap day
  EXPECT_EQ(format_rfc5322_date(1796342400), "Fri, 04 Dec 2026 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(1709251199), "Thu, 29 Feb 2024 23:59:59 +0000");
  EXPECT_EQ(format_rfc5322_date(951868800), "Wed, 01 Mar 2000 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(253402300799), "Fri, 31 Dec 9999 23:59:59 +0000");
  EXPECT_EQ(format_rfc5322_date(-5), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(std::numeric_limits<std::int64_t>::max()),
            "Fri, 31 Dec 9999 23:59:59 +0000");
  for (std::int64_t t = 0; t < 4'000'000'000; t += 9'876'543) {
    EXPECT_EQ(parse_rfc5322_date(format_rfc5322_date(t)), t);
  }
}

}  // namespace
}  // namespace sealpost::mime
