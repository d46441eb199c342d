#include "mime/encoded_word.hpp"

#include <gtest/gtest.h>

#include "core/utf8.hpp"
#include "mime/charset.hpp"

namespace sealpost::mime {
namespace {

TEST(EncodedWord, DecodesTheExamplesOfRfc2047Section8) {
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?=)"), "(a)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_header_value("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
}

TEST(EncodedWord, DecodesTheHeaderExamplesOfRfc2047) {
  EXPECT_EQ(decode_header_value(" =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>"),
            "Keith Moore <moore@cs.utk.edu>");
  EXPECT_EQ(decode_header_value(" =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>"),
            "Keld J\xC3\xB8rn Simonsen <keld@dkuug.dk>");
  EXPECT_EQ(decode_header_value(" =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"),
            "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>");
  EXPECT_EQ(decode_header_value(" =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                                "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
            "If you can read this you understand the example.");
  EXPECT_EQ(decode_header_value(" Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n"
                                "    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)"),
            "Nathaniel Borenstein <nsb@thumper.bellcore.com>    "
            "(\xD7\x9D\xD7\x95\xD7\x9C\xD7\xA9 \xD7\x9F\xD7\x91 \xD7\x99\xD7\x9C\xD7\x98\xD7\xA4"
            "\xD7\xA0)");
}

TEST(EncodedWord, IgnoresTheRfc2231LanguageOfACharset) {
  EXPECT_EQ(decode_encoded_words("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
}

TEST(EncodedWord, JoinsACharacterSplitBetweenAdjacentWords) {
  // "€" is E2 82 AC: the first word ends after E2 82.
  EXPECT_EQ(decode_encoded_words("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?="), "\xE2\x82\xAC");
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?=E2=82?==?UTF-8?Q?=AC_!?="), "\xE2\x82\xAC !");
}

TEST(EncodedWord, DecodesCjkCharsets) {
  EXPECT_EQ(decode_encoded_words("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="),
            "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88");  // テスト
  EXPECT_EQ(decode_encoded_words("=?EUC-KR?Q?=C7=D1=B1=B9?="), "\xED\x95\x9C\xEA\xB5\xAD");
}

TEST(EncodedWord, LeavesInvalidWordsAsWritten) {
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?not*base64?="), "=?utf-8?B?not*base64?=");
  EXPECT_EQ(decode_encoded_words("=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
  EXPECT_EQ(decode_encoded_words("=?utf-8?Q?unterminated"), "=?utf-8?Q?unterminated");
  EXPECT_EQ(decode_encoded_words("=??Q?no charset?="), "=??Q?no charset?=");
  EXPECT_EQ(decode_encoded_words("a =?utf-8?q?x?= =?bad b"), "a x =?bad b");
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?=ZZ?="), "=ZZ");  // a stray '=' kept in Q
}

TEST(EncodedWord, KeepsSpaceBetweenAWordAndText) {
  EXPECT_EQ(decode_encoded_words("Re: =?utf-8?q?caf=C3=A9?= ok"), "Re: caf\xC3\xA9 ok");
  EXPECT_EQ(decode_encoded_words("x=?utf-8?q?y?=z"), "xyz");  // glued words decode too
}

TEST(EncodedWord, ReadsUnknownCharsetsAndRawBytes) {
  EXPECT_EQ(decode_encoded_words("=?x-unknown?q?caf=E9?="), "caf\xC3\xA9");
  EXPECT_EQ(decode_encoded_words("=?none?b?VEVTVA==?="), "TEST");
  EXPECT_EQ(decode_encoded_words("caf\xE9"), "caf\xC3\xA9");                   // 8-bit Latin-1
  EXPECT_EQ(decode_encoded_words("J\xC3\xB6hn"), "J\xC3\xB6hn");               // RFC 6532 UTF-8
  EXPECT_TRUE(core::is_valid_utf8(decode_encoded_words("=?utf-8?b?/w==?=")));  // 0xFF: U+FFFD
}

TEST(EncodedWord, UnfoldsFoldedValues) {
  EXPECT_EQ(unfold("one\r\n two\n\tthree"), "one two\tthree");
  EXPECT_EQ(decode_header_value(" \r\n  Subject text \r\n"), "Subject text");
}

TEST(EncodedWord, BoundsItsOutput) {
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "=?utf-8?q?=E2=82=AC?= ";
  const std::string out = decode_encoded_words(many, 100);
  EXPECT_LE(out.size(), 100u);
  EXPECT_TRUE(core::is_valid_utf8(out));
}

TEST(EncodedWord, StaysLinearOnHostileInput) {
  std::string hostile;
  for (int i = 0; i < 100'000; ++i) hostile += "=?a?q?";
  hostile += "?=";
  EXPECT_FALSE(decode_encoded_words(hostile, 1 << 20).empty());
  std::string open_words(300'000, '=');
  for (std::size_t i = 1; i < open_words.size(); i += 3) open_words[i] = '?';
  EXPECT_EQ(decode_encoded_words(open_words, 1 << 20), open_words);
}

}  // namespace
}  // namespace sealpost::mime
