#include "mime/params.hpp"

#include <gtest/gtest.h>

namespace sealpost::mime {
namespace {

std::string value(const Parameters& params, std::string_view name) {
  const Parameter* p = find_parameter(params, name);
  return p == nullptr ? "<absent>" : p->value;
}

TEST(Params, ReadsTypeSubtypeAndParameters) {
  const auto ct = parse_content_type(" Text/HTML; Charset=\"UTF-8\"; format=flowed");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->type, "text");
  EXPECT_EQ(ct->subtype, "html");
  ASSERT_EQ(ct->params.size(), 2u);
  EXPECT_EQ(ct->params[0].name, "charset");
  EXPECT_EQ(ct->params[0].value, "UTF-8");
  EXPECT_FALSE(ct->params[0].extended);
  EXPECT_EQ(value(ct->params, "FORMAT"), "flowed");
}

TEST(Params, SkipsCommentsAndUnescapesQuotedStrings) {
  const auto ct = parse_content_type(
      "text/plain (comment (nested)) ; charset=us-ascii (Plain text); "
      "foo=\"quoted\\\"string\"");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->subtype, "plain");
  EXPECT_EQ(value(ct->params, "charset"), "us-ascii");
  EXPECT_EQ(value(ct->params, "foo"), "quoted\"string");
}

TEST(Params, UnfoldsAFoldedQuotedValue) {
  const auto ct = parse_content_type(" multipart/mixed; boundary=\"foo\r\n bar\"");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(value(ct->params, "boundary"), "foo bar");
}

TEST(Params, JoinsRfc2231Continuations) {
  // RFC 2231 section 3.
  const auto ct = parse_content_type(
      "message/external-body; access-type=URL;\r\n"
      "         URL*0=\"ftp://\";\r\n"
      "         URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(value(ct->params, "access-type"), "URL");
  EXPECT_EQ(value(ct->params, "url"), "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
}

TEST(Params, DecodesRfc2231CharsetAndLanguage) {
  // RFC 2231 section 4.
  const auto ct = parse_content_type(
      "application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
  ASSERT_TRUE(ct.has_value());
  ASSERT_EQ(ct->params.size(), 1u);
  EXPECT_EQ(ct->params[0].name, "title");
  EXPECT_EQ(ct->params[0].value, "This is ***fun***");
  EXPECT_EQ(ct->params[0].language, "en-us");
  EXPECT_TRUE(ct->params[0].extended);
}

TEST(Params, MixesEncodedAndPlainContinuations) {
  // RFC 2231 section 4.1, as printed there (without the semicolons).
  const auto ct = parse_content_type(
      "application/x-stuff\r\n"
      "    title*0*=us-ascii'en'This%20is%20even%20more%20\r\n"
      "    title*1*=%2A%2A%2Afun%2A%2A%2A%20\r\n"
      "    title*2=\"isn't it!\"");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(value(ct->params, "title"), "This is even more ***fun*** isn't it!");
  EXPECT_EQ(ct->params[0].language, "en");
}

TEST(Params, OrdersContinuationsByNumberAndStopsAtAGap) {
  const auto ps = parse_parameters("; name*1=\"b\"; name*0=\"a\"; name*3=\"d\"; other=x");
  EXPECT_EQ(value(ps, "name"), "ab");
  EXPECT_EQ(value(ps, "other"), "x");
}

TEST(Params, ConvertsRfc2231CharsetsToUtf8) {
  EXPECT_EQ(value(parse_parameters("; filename*=iso-8859-1''caf%E9.txt"), "filename"),
            "caf\xC3\xA9.txt");
  EXPECT_EQ(value(parse_parameters("; filename*=UTF-8''%E2%82%AC"), "filename"), "\xE2\x82\xAC");
  EXPECT_EQ(value(parse_parameters("; filename*=''100%"), "filename"), "100%");
  EXPECT_EQ(value(parse_parameters("; name=\"\xE9t\xE9.txt\""), "name"),  // raw Latin-1
            "\xC3\xA9t\xC3\xA9.txt");
}

TEST(Params, PrefersTheRfc2231FormOverAPlainOne) {
  const auto ps =
      parse_parameters("; filename=\"fallback.txt\"; filename*=utf-8''r%C3%A9el.txt; a=1; a=2");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(value(ps, "filename"),
            "r\xC3\xA9"
            "el.txt");
  EXPECT_EQ(value(ps, "a"), "1");
}

TEST(Params, ReadsUnquotedValuesTheWayMailersWriteThem) {
  EXPECT_EQ(
      value(parse_parameters("; boundary=----=_NextPart_000_0093_01C81419.EB75E850"), "boundary"),
      "----=_NextPart_000_0093_01C81419.EB75E850");
  EXPECT_EQ(value(parse_parameters("; name=my file.pdf; size=3"), "name"), "my file.pdf");
  const auto lost_semicolon = parse_content_type("text/html charset=utf-8 format=flowed");
  ASSERT_TRUE(lost_semicolon.has_value());
  EXPECT_EQ(value(lost_semicolon->params, "charset"), "utf-8");
  EXPECT_EQ(value(lost_semicolon->params, "format"), "flowed");
  EXPECT_EQ(value(parse_parameters("; ; junk; /; x=\"1\"junk; y=2"), "y"), "2");
}

TEST(Params, RefusesValuesWithoutTypeOrSubtype) {
  EXPECT_FALSE(parse_content_type("").has_value());
  EXPECT_FALSE(parse_content_type("  ; charset=utf-8").has_value());
  EXPECT_FALSE(parse_content_type("image").has_value());
  EXPECT_FALSE(parse_content_type("image/").has_value());
  const auto text = parse_content_type("text; charset=koi8-r");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->subtype, "plain");
  EXPECT_EQ(value(text->params, "charset"), "koi8-r");
}

TEST(Params, ReadsAContentDisposition) {
  const auto cd = parse_content_disposition(
      " Attachment;\r\n filename=\"report.pdf\"; creation-date=\"Wed, 12 Feb 1997 16:29:51 "
      "-0500\"");
  ASSERT_TRUE(cd.has_value());
  EXPECT_EQ(cd->type, "attachment");
  EXPECT_EQ(value(cd->params, "filename"), "report.pdf");
  EXPECT_EQ(value(cd->params, "creation-date"), "Wed, 12 Feb 1997 16:29:51 -0500");
  EXPECT_FALSE(parse_content_disposition(" ; filename=x").has_value());
}

TEST(Params, KeepsAtMostMaxParams) {
  std::string many = "text/plain";
  for (int i = 0; i < 10'000; ++i) many += "; p" + std::to_string(i) + "=v";
  const auto ct = parse_content_type(many, 16);
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->params.size(), 16u);
  std::string sections = "; n*0=a";
  for (int i = 1; i < 5000; ++i) sections += "; n*" + std::to_string(i) + "=a";
  EXPECT_LE(value(parse_parameters(sections), "n").size(), 1000u);
}

}  // namespace
}  // namespace sealpost::mime
