#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace sealpost::core {
namespace {

TEST(Utf8Test, DecodesEachLengthAndEncodesItBack) {
  for (const char32_t cp : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600', U'\u007f', U'\u0080',
                            U'\u07ff', U'\u0800', U'\uffff', U'\U00010000', U'\U0010FFFF'}) {
    std::string s;
    append_utf8(s, cp);
    const auto seq = next_utf8(s);
    EXPECT_EQ(seq.length, s.size());
    EXPECT_EQ(seq.code_point, cp);
    EXPECT_TRUE(is_valid_utf8(s));
  }
}

TEST(Utf8Test, RefusesOverlongsSurrogatesAndWhatIsPastTheLastCodePoint) {
  for (const std::string_view bad :
       {"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf0\x80\x80\xaf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "\xbf", "\xe2\x82", "\xfe", "\xff"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    EXPECT_EQ(next_utf8(bad).length, 0U);
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII"));
}

// Unicode's "maximal subpart" practice: how many octets one U+FFFD replaces.
TEST(Utf8Test, TheIllFormedSubpartIsMaximal) {
  EXPECT_EQ(next_utf8("\xe2\x82"
                      "A")
                .ill_formed,
            2U);                                        // a cut three-octet sequence
  EXPECT_EQ(next_utf8("\xf0\x9f\x98").ill_formed, 3U);  // cut at the end of the text
  EXPECT_EQ(next_utf8("\xe0\x80\x80").ill_formed, 1U);  // overlong: the lead alone
  EXPECT_EQ(next_utf8("\xed\xa0\x80").ill_formed, 1U);  // a surrogate: the lead alone
  EXPECT_EQ(next_utf8("\x80").ill_formed, 1U);
}

}  // namespace
}  // namespace sealpost::core
