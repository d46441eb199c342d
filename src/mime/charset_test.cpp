#include "mime/charset.hpp"

#include <gtest/gtest.h>

#include "core/utf8.hpp"

namespace sealpost::mime {
namespace {

TEST(Charset, ReplacesInvalidUtf8) {
  EXPECT_EQ(to_utf8("a\xFF"
                    "b\xE2\x82",
                    "UTF-8"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_utf8("\xC3\xA9", "utf8"), "\xC3\xA9");
}

TEST(Charset, ReadsLatin1AsWindows1252) {
  EXPECT_EQ(to_utf8("caf\xE9 \x80", "ISO-8859-1"), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(to_utf8("\x93quoted\x94", "latin1"), "\xE2\x80\x9Cquoted\xE2\x80\x9D");
  EXPECT_EQ(to_utf8("\x81", "windows-1252"), "\xC2\x81");
}

TEST(Charset, ConvertsWithIconv) {
  EXPECT_EQ(to_utf8("\xC7\xD1\xB1\xB9", "ks_c_5601-1987"), "\xED\x95\x9C\xEA\xB5\xAD");  // 한국
  EXPECT_EQ(to_utf8("\x82\xA0", "Shift_JIS"), "\xE3\x81\x82");                           // あ
  EXPECT_EQ(to_utf8("\x1B$B$\"\x1B(B", "iso-2022-jp"), "\xE3\x81\x82");
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r"),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");                 // Привет
  EXPECT_EQ(to_utf8("\xC4\xE3\xBA\xC3", "gb2312"), "\xE4\xBD\xA0\xE5\xA5\xBD");  // 你好
  EXPECT_EQ(to_utf8("plain ascii", "iso-8859-2"), "plain ascii");
}

TEST(Charset, ReplacesBytesACharsetCannotDecode) {
  EXPECT_EQ(to_utf8("a\xFF"
                    "b",
                    "euc-kr"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_utf8("a\xC7", "euc-kr"), "a\xEF\xBF\xBD");  // cut inside a character
}

TEST(Charset, ReadsUnknownCharsetsAsUtf8OrLatin1) {
  EXPECT_EQ(to_utf8("\xC3\xA9", "x-unknown"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9t\xE9", "x-unknown"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "no-such-charset"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "us-ascii"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "utf-8//IGNORE"), "\xC3\xA9");  // not a label: never reaches iconv
  EXPECT_EQ(to_utf8("\xE9", ""), "\xC3\xA9");
}

TEST(Charset, DecodesOnlyAllowlistedCharsets) {
  // glibc knows IBM037 (EBCDIC, 0xC1 is "A"), but mail does not use it: its bytes are kept and
  // read as unknown text instead.
  EXPECT_EQ(to_utf8("\xC1", "IBM037"), "\xC3\x81");
  EXPECT_EQ(to_utf8("\xC1", "ebcdic-us"), "\xC3\x81");
  EXPECT_FALSE(is_allowed_charset("IBM037"));
  // The converter behind CVE-2024-2961 is never opened.
  EXPECT_FALSE(is_allowed_charset("ISO-2022-CN-EXT"));
  EXPECT_EQ(canonical_charset("ISO-2022-CN-EXT"), "");
  EXPECT_EQ(to_utf8("\x1B$A", "iso-2022-cn-ext"), "\x1B$A");
  EXPECT_FALSE(is_allowed_charset("utf-8//IGNORE"));
  EXPECT_FALSE(is_allowed_charset("no-such-charset"));
}

TEST(Charset, AllowsTheCharsetsMailUses) {
  for (const char* label :
       {"",           "US-ASCII",    "UTF-8",          "utf8",         "ISO-8859-1",
        "iso-8859-2", "ISO-8859-15", "latin2",         "Windows-1250", "windows-1251",
        "cp1252",     "KOI8-R",      "koi8-u",         "ISO-2022-JP",  "Shift_JIS",
        "EUC-JP",     "EUC-KR",      "ks_c_5601-1987", "GB2312",       "GBK",
        "GB18030",    "Big5",        "Big5-HKSCS",     "TIS-620",      "windows-874",
        "UTF-16",     "x-unknown",   "\"utf-8\"",      "iso-8859-1*en"}) {
    EXPECT_TRUE(is_allowed_charset(label)) << label;
  }
  EXPECT_EQ(to_utf8("\xE8\xEB\xE9", "windows-1250"), "\xC4\x8D\xC3\xAB\xC3\xA9");  // čëé
  EXPECT_EQ(to_utf8("\xA4\xA2", "euc-jp"), "\xE3\x81\x82");                        // あ
  EXPECT_EQ(to_utf8("\xA4\x40", "big5"), "\xE4\xB8\x80");                          // 一
  EXPECT_EQ(to_utf8("\xA1", "tis-620"), "\xE0\xB8\x81");                           // ก
  EXPECT_EQ(to_utf8("\xA4", "iso-8859-15"), "\xE2\x82\xAC");                       // €
}

TEST(Charset, CanonicalisesLabels) {
  EXPECT_EQ(canonical_charset(" \"UTF8\" "), "utf-8");
  EXPECT_EQ(canonical_charset("ks_c_5601-1987"), "cp949");
  EXPECT_EQ(canonical_charset("ISO-8859-1*en"), "windows-1252");
  EXPECT_EQ(canonical_charset("US-ASCII"), "");
  EXPECT_EQ(canonical_charset("KOI8-R"), "koi8-r");
  EXPECT_EQ(canonical_charset("../../etc/x"), "");
  EXPECT_EQ(canonical_charset(std::string(100, 'a')), "");
}

TEST(Charset, BoundsItsOutputAtACharacter) {
  const std::string euros = to_utf8(std::string(100, '\x80'), "windows-1252", 10);
  EXPECT_EQ(euros.size(), 9u);
  EXPECT_TRUE(core::is_valid_utf8(euros));
  const std::string korean = to_utf8(std::string(10'000, '\xB0'), "euc-kr", 1001);
  EXPECT_LE(korean.size(), 1001u);
  EXPECT_TRUE(core::is_valid_utf8(korean));
  std::string out = "keep";
  append_utf8(out, "more", "utf-8", 6);
  EXPECT_EQ(out, "keepmo");
}

}  // namespace
}  // namespace sealpost::mime
