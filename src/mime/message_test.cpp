#include "mime/message.hpp"

#include <gtest/gtest.h>

#include "testing/text.hpp"

namespace sealpost::mime {
namespace {

using testing::crlf;

// Parts point into the raw message: it must outlive them (no temporaries).
Message parse(std::string&& raw, const Limits& limits = {}) = delete;
Message parse(const std::string& raw, const Limits& limits = {}) {
  auto m = parse_message(raw, limits);
  EXPECT_TRUE(m.has_value());
  EXPECT_EQ(serialize(*m), raw);
  return std::move(m).value();
}

std::string_view bytes(const Message& m, Range r) {
  return r.in(m.raw);
}

std::string kind_tree(const Part& p) {
  std::string s = p.content_type.type + "/" + p.content_type.subtype;
  if (!p.children.empty()) {
    s += "[";
    for (std::size_t i = 0; i < p.children.size(); ++i) {
      if (i > 0) s += ",";
      s += kind_tree(p.children[i]);
    }
    s += "]";
  }
  return s;
}

std::size_t max_depth(const Part& p) {
  std::size_t d = p.depth;
  for (const auto& c : p.children) d = std::max(d, max_depth(c));
  return d;
}

TEST(MimeMessage, ReadsASinglePartMessageWithTheDefaultType) {
  const std::string raw = crlf("From: a@example.com\nSubject: Hi\n\nHello\nWorld\n");
  const Message m = parse(raw);
  const Part& p = m.root;
  EXPECT_EQ(p.kind, PartKind::kLeaf);
  EXPECT_EQ(bytes(m, p.header), crlf("From: a@example.com\nSubject: Hi\n\n"));
  EXPECT_EQ(bytes(m, p.body), crlf("Hello\nWorld\n"));
  EXPECT_EQ(p.body_lines, 2u);
  EXPECT_FALSE(p.has_content_type);
  EXPECT_EQ(p.content_type.type, "text");
  EXPECT_EQ(p.content_type.subtype, "plain");
  ASSERT_NE(find_parameter(p.content_type.params, "charset"), nullptr);
  EXPECT_EQ(find_parameter(p.content_type.params, "charset")->value, "us-ascii");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[1].name, "Subject");
  EXPECT_EQ(p.fields[1].value, " Hi");
  ASSERT_NE(find_field(p, "SUBJECT"), nullptr);
  EXPECT_EQ(find_field(p, "subject")->raw, "Subject: Hi\r\n");
  EXPECT_EQ(m.part_count, 1u);
  EXPECT_FALSE(m.truncated);
}

TEST(MimeMessage, AcceptsBareLfLineEnds) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n"
      "--b--\n";
  const Message m = parse(raw);
  ASSERT_EQ(m.root.kind, PartKind::kMultipart);
  ASSERT_EQ(m.root.children.size(), 1u);
  const Part& html = m.root.children[0];
  EXPECT_TRUE(html.is("text", "html"));
  EXPECT_EQ(bytes(m, html.body), "<p>x</p>");
  EXPECT_EQ(html.body_lines, 0u);
  EXPECT_EQ(bytes(m, html.delimiter), "--b\n");
  EXPECT_EQ(bytes(m, m.root.close_delimiter), "\n--b--\n");
}

TEST(MimeMessage, GivesEveryRangeOfAMultipart) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=\"=_b\"\n"
      "\n"
      "This is the preamble.\n"
      "--=_b\n"
      "\n"
      "implicitly typed\n"
      "--=_b  \n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "two\n"
      "lines\n"
      "\n"
      "--=_b--\n"
      "epilogue\n");
  const Message m = parse(raw);
  const Part& root = m.root;
  ASSERT_EQ(root.kind, PartKind::kMultipart);
  EXPECT_EQ(bytes(m, root.preamble), "This is the preamble.");
  ASSERT_EQ(root.children.size(), 2u);
  const Part& first = root.children[0];
  EXPECT_EQ(bytes(m, first.delimiter), "\r\n--=_b\r\n");
  EXPECT_EQ(bytes(m, first.header), "\r\n");
  EXPECT_EQ(bytes(m, first.body), "implicitly typed");
  EXPECT_EQ(first.body_lines, 0u);
  EXPECT_EQ(first.depth, 1u);
  const Part& second = root.children[1];
  EXPECT_EQ(bytes(m, second.delimiter), "\r\n--=_b  \r\n");  // transport padding
  EXPECT_EQ(bytes(m, second.body), "two\r\nlines\r\n");      // the CRLF before "--" is not in it
  EXPECT_EQ(second.body_lines, 2u);
  EXPECT_EQ(bytes(m, root.close_delimiter), "\r\n--=_b--\r\n");
  EXPECT_EQ(bytes(m, root.epilogue), "epilogue\r\n");
  EXPECT_EQ(root.body.end(), raw.size());
  EXPECT_EQ(m.part_count, 3u);
}

TEST(MimeMessage, EndsAMultipartWithoutCloseDelimiterAtTheEnd) {
  const std::string raw =
      crlf("Content-Type: multipart/alternative; boundary=b\n\n--b\n\none\n--b\n\ntwo\n");
  const Message m = parse(raw);
  ASSERT_EQ(m.root.children.size(), 2u);
  EXPECT_EQ(bytes(m, m.root.children[1].body), "two\r\n");
  EXPECT_EQ(m.root.close_delimiter.size, 0u);
  EXPECT_EQ(m.root.epilogue.size, 0u);
  EXPECT_EQ(m.root.children[1].body.end(), raw.size());
}

TEST(MimeMessage, LetsANestedMultipartReuseItsParentsBoundary) {
  // As Outlook Express for Mac wrote (CPython's msg_15.txt): the innermost match wins.
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=\"X\"\n\n"
      "--X\n"
      "Content-Type: multipart/alternative; boundary=\"X\"\n\n"
      "--X\nContent-Type: text/plain\n\nplain\n"
      "--X\nContent-Type: text/html\n\nhtml\n"
      "--X--\n\n"
      "--X\nContent-Type: image/gif\n\nGIF\n"
      "--X--\n");
  const Message m = parse(raw);
  EXPECT_EQ(kind_tree(m.root),
            "multipart/mixed[multipart/alternative[text/plain,text/html],image/gif]");
  EXPECT_EQ(bytes(m, m.root.children[0].epilogue), "");
  EXPECT_EQ(bytes(m, m.root.children[1].delimiter), "\r\n--X\r\n");
  EXPECT_EQ(bytes(m, m.root.children[1].body), "GIF");
}

TEST(MimeMessage, LetsAnOuterBoundaryEndTheInnerMultipart) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=outer\n\n"
      "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
      "--inner\n\nA\n"
      "--outer\n\nB\n"
      "--outer--\n");
  const Message m = parse(raw);
  EXPECT_EQ(kind_tree(m.root), "multipart/mixed[multipart/alternative[text/plain],text/plain]");
  const Part& inner = m.root.children[0];
  EXPECT_EQ(inner.close_delimiter.size, 0u);
  EXPECT_EQ(bytes(m, inner.children[0].body), "A");
  EXPECT_EQ(inner.body.end(), inner.children[0].body.end());
}

TEST(MimeMessage, PrefersTheLongestMatchingBoundary) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=\"NP\"\n\n"
      "--NP\nContent-Type: multipart/alternative; boundary=\"NP_alt\"\n\n"
      "--NP_alt\n\nplain\n"
      "--NP_alt\nContent-Type: text/html\n\nhtml\n"
      "--NP_alt--\n\n"
      "--NP\nContent-Type: application/pdf\n\nPDF\n"
      "--NP--\n");
  const Message m = parse(raw);
  EXPECT_EQ(kind_tree(m.root),
            "multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]");
}

TEST(MimeMessage, TreatsAMultipartWhoseBoundaryNeverAppearsAsALeaf) {
  const std::string raw =
      crlf("Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\nHi there,\n\nno parts here.\n");
  const Message m = parse(raw);
  EXPECT_EQ(m.root.kind, PartKind::kLeaf);
  EXPECT_TRUE(m.root.is("multipart", "mixed"));
  EXPECT_EQ(bytes(m, m.root.body), crlf("Hi there,\n\nno parts here.\n"));
  EXPECT_EQ(m.root.body_lines, 3u);
}

TEST(MimeMessage, TreatsAMultipartWithoutBoundaryAsALeaf) {
  const std::string m_raw = crlf("Content-Type: multipart/mixed\n\n--x\n\nbody\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(m.root.kind, PartKind::kLeaf);
  EXPECT_TRUE(m.root.children.empty());
}

TEST(MimeMessage, KeepsEmptyPartsFromRepeatedDelimiters) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=ABCDE\n\n--ABCDE\nContent-Type: text/x-one\n\n"
      "Blah\n\n--ABCDE\n--ABCDE\nContent-Type: text/x-two\n\nBlah\n\n--ABCDE--\n";
  const Message m = parse(raw);
  ASSERT_EQ(m.root.children.size(), 3u);
  const Part& empty = m.root.children[1];
  EXPECT_EQ(empty.header.size, 0u);
  EXPECT_EQ(empty.body.size, 0u);
  EXPECT_EQ(bytes(m, m.root.children[2].delimiter), "--ABCDE\n");
  EXPECT_EQ(m.root.children[2].content_type.subtype, "x-two");
}

TEST(MimeMessage, EndsAHeaderAtABoundaryLine) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n--b\n\nnext\n"
      "--b--\n");
  const Message m = parse(raw);
  ASSERT_EQ(m.root.children.size(), 2u);
  const Part& cut = m.root.children[0];
  EXPECT_EQ(bytes(m, cut.header), "Content-Type: text/html");
  EXPECT_TRUE(cut.is("text", "html"));
  EXPECT_EQ(cut.body.size, 0u);
  EXPECT_EQ(bytes(m, m.root.children[1].delimiter), "\r\n--b\r\n");
}

TEST(MimeMessage, EncapsulatesAMessageRfc822Part) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: message/rfc822\n\n"
      "Subject: inner\nContent-Type: text/plain; charset=utf-8\n\ninner body\n"
      "--b--\n");
  const Message m = parse(raw);
  const Part& rfc822 = m.root.children[0];
  ASSERT_EQ(rfc822.kind, PartKind::kMessage);
  ASSERT_EQ(rfc822.children.size(), 1u);
  const Part& inner = rfc822.children[0];
  EXPECT_EQ(inner.header.offset, rfc822.body.offset);
  EXPECT_EQ(inner.body.end(), rfc822.body.end());
  ASSERT_NE(find_field(inner, "Subject"), nullptr);
  EXPECT_EQ(find_field(inner, "Subject")->value, " inner");
  EXPECT_EQ(bytes(m, inner.body), "inner body");
  EXPECT_EQ(rfc822.body_lines, 3u);
  EXPECT_EQ(inner.depth, 2u);
}

TEST(MimeMessage, DefaultsDigestPartsToMessageRfc822) {
  const std::string raw = crlf(
      "Content-Type: multipart/digest; boundary=d\n\n"
      "--d\n\nSubject: one\n\nfirst\n"
      "--d\nContent-Type: text/plain\n\nnot a message\n"
      "--d--\n");
  const Message m = parse(raw);
  EXPECT_EQ(kind_tree(m.root), "multipart/digest[message/rfc822[text/plain],text/plain]");
  EXPECT_EQ(m.root.children[0].kind, PartKind::kMessage);
}

TEST(MimeMessage, LeavesAnEncodedMessageRfc822Opaque) {
  const std::string m_raw = crlf(
      "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp4\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(m.root.kind, PartKind::kLeaf);
  EXPECT_TRUE(m.root.children.empty());
}

TEST(MimeMessage, SkipsHeaderLinesThatAreNotFields) {
  const std::string raw = crlf(
      "From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: mbox\nno colon here\n"
      "\tstill the same line\nTo: b@example.com\n\nbody\n");
  const Message m = parse(raw);
  ASSERT_EQ(m.root.fields.size(), 2u);
  EXPECT_EQ(m.root.fields[0].name, "Subject");
  EXPECT_EQ(m.root.fields[1].name, "To");
  EXPECT_EQ(bytes(m, m.root.body), "body\r\n");
}

TEST(MimeMessage, KeepsFoldingInFieldValues) {
  const std::string m_raw = crlf("Subject: one\n two\n\tthree\n\n");
  const Message m = parse(m_raw);
  ASSERT_EQ(m.root.fields.size(), 1u);
  EXPECT_EQ(m.root.fields[0].value, " one\r\n two\r\n\tthree");
}

TEST(MimeMessage, AcceptsAMessageWithoutBody) {
  const std::string raw = crlf("Subject: no body\nFrom: a@example.com\n");
  const Message m = parse(raw);
  EXPECT_EQ(m.root.header.size, raw.size());
  EXPECT_EQ(m.root.body.offset, raw.size());
  EXPECT_EQ(m.root.body.size, 0u);
  EXPECT_EQ(m.root.fields.size(), 2u);
  const std::string nothing;
  const Message empty = parse(nothing);
  EXPECT_EQ(empty.root.header.size, 0u);
  EXPECT_EQ(empty.root.body.size, 0u);
}

TEST(MimeMessage, ReadsTheContentFields) {
  const std::string m_raw = crlf(
      "Content-Type: Application/PDF; Name=\"a b.pdf\"\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: BASE64 (the usual)\n"
      "Content-ID: <part1@example.com>\n"
      "Content-Description: A\n   document\n"
      "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\n"
      "Content-Language: en, de\n"
      "Content-Location: https://example.com/a.pdf\n"
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\nJVBERi0=\n");
  const Message m = parse(m_raw);
  const Part& p = m.root;
  EXPECT_TRUE(p.has_content_type);
  EXPECT_TRUE(p.is("application", "pdf"));  // the first Content-Type wins
  ASSERT_EQ(p.content_type.params.size(), 1u);
  EXPECT_EQ(p.content_type.params[0].name, "name");
  EXPECT_EQ(p.content_type.params[0].value, "a b.pdf");
  EXPECT_EQ(p.transfer_encoding, "base64");
  EXPECT_EQ(p.content_id, "<part1@example.com>");
  EXPECT_EQ(p.description, "A\r\n   document");
  ASSERT_TRUE(p.has_disposition);
  EXPECT_EQ(p.disposition.type, "attachment");
  ASSERT_EQ(p.disposition.params.size(), 1u);
  EXPECT_EQ(p.disposition.params[0].value, "\xE2\x82\xAC.pdf");
  EXPECT_EQ(p.language, "en, de");
  EXPECT_EQ(p.location, "https://example.com/a.pdf");
  EXPECT_EQ(p.md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
}

TEST(MimeMessage, TakesAnInvalidContentTypeAsTheDefault) {
  const std::string m_raw = crlf("Content-Type: ;;;\nContent-Transfer-Encoding: 7-bit?\n\nx\n");
  const Message m = parse(m_raw);
  EXPECT_FALSE(m.root.has_content_type);
  EXPECT_TRUE(m.root.is("text", "plain"));
  EXPECT_EQ(m.root.transfer_encoding, "");
  const std::string text_only_raw = crlf("Content-Type: TEXT; charset=koi8-r\n\nx\n");
  const Message text_only = parse(text_only_raw);
  EXPECT_TRUE(text_only.root.is("text", "plain"));
  EXPECT_EQ(find_parameter(text_only.root.content_type.params, "charset")->value, "koi8-r");
}

std::string nested_multiparts(int depth) {
  std::string raw;
  for (int i = 0; i < depth; ++i) {
    const std::string b = "b" + std::to_string(i) + "x";
    raw += "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n";
  }
  raw += "\r\ninnermost\r\n";
  for (int i = depth - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "x--\r\n";
  return raw;
}

TEST(MimeMessage, StopsNestingAtTheDepthLimit) {
  const std::string raw = nested_multiparts(100);
  const Message m = parse(raw);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(max_depth(m.root), 31u);
  Limits shallow;
  shallow.max_depth = 3;
  const Message s = parse(raw, shallow);
  EXPECT_EQ(max_depth(s.root), 2u);
  const std::string twenty = nested_multiparts(20);
  const Message full = parse(twenty);
  EXPECT_FALSE(full.truncated);
  EXPECT_EQ(max_depth(full.root), 20u);
}

TEST(MimeMessage, SurvivesHundredsOfThousandsOfNestedMessages) {
  std::string raw;
  for (int i = 0; i < 200'000; ++i) raw += "Content-Type: message/rfc822\n\n";
  Limits deep;
  deep.max_depth = 1'000'000;  // clamped: no configuration makes the recursion unbounded
  const Message m = parse(raw, deep);
  EXPECT_TRUE(m.truncated);
  EXPECT_LE(max_depth(m.root), 128u);
}

std::string many_parts(int n) {
  std::string raw = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < n; ++i) raw += "--p\r\n\r\npart " + std::to_string(i) + "\r\n";
  raw += "--p--\r\n";
  return raw;
}

TEST(MimeMessage, StopsAddingPartsAtThePartLimit) {
  Limits limits;
  limits.max_parts = 10;
  const std::string hundred = many_parts(100);
  const Message m = parse(hundred, limits);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.part_count, 10u);
  EXPECT_EQ(m.root.children.size(), 9u);
  EXPECT_EQ(m.root.epilogue.end(), m.raw.size());  // the rest, opaque
  const std::string nine = many_parts(9);
  EXPECT_FALSE(parse(nine, limits).truncated);
}

TEST(MimeMessage, KeepsAtMostMaxHeaderFields) {
  std::string raw;
  for (int i = 0; i < 50; ++i) raw += "X-Field: " + std::to_string(i) + "\r\n";
  raw += "Content-Type: text/html\r\n\r\nbody";
  Limits limits;
  limits.max_header_fields = 20;
  const Message m = parse(raw, limits);
  EXPECT_EQ(m.root.fields.size(), 20u);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(bytes(m, m.root.body), "body");
}

TEST(MimeMessage, LooksForStructureOnlyWithinTheSizeLimit) {
  const std::string raw = many_parts(100);
  Limits limits;
  limits.max_message_size = 200;
  const Message m = parse(raw, limits);
  EXPECT_TRUE(m.truncated);
  EXPECT_LT(m.root.children.size(), 100u);
  EXPECT_EQ(m.root.children.back().body.end(), raw.size());
}

TEST(MimeMessage, ParsesAMessageWithAHundredAttachments) {
  std::string raw =
      crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=\"=_x\"\n\n");
  std::string line(76, 'A');
  line += "\r\n";
  for (int i = 0; i < 100; ++i) {
    raw += "--=_x\r\nContent-Type: application/octet-stream; name=\"f" + std::to_string(i) +
           "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    for (int j = 0; j < 130; ++j) raw += line;
  }
  raw += "--=_x--\r\n";
  const Message m = parse(raw);
  ASSERT_EQ(m.root.children.size(), 100u);
  for (const Part& p : m.root.children) {
    EXPECT_EQ(p.body.size, 130u * 78 - 2);
    EXPECT_EQ(p.body_lines, 129u);
  }
}

TEST(MimeMessage, ScansHostileBoundaryLinesInLinearTime) {
  // Thirty nested boundaries of 200 bytes, then 2 MB of lines that almost match all of them.
  std::string raw;
  std::string prefix(199, 'q');
  for (char last : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcd")) {
    raw += "Content-Type: multipart/mixed; boundary=\"" + prefix + last + "\"\n\n--" + prefix +
           last + "\n";
  }
  const std::string almost = "--" + prefix + "z\n";
  while (raw.size() < 2'000'000) raw += almost;
  const Message m = parse(raw);
  EXPECT_EQ(max_depth(m.root), 30u);
}

TEST(MimeMessage, RefusesNothingUpToFourGigabytes) {
  EXPECT_TRUE(parse_message("x").has_value());
  EXPECT_TRUE(parse_message(std::string_view("\0\0\r\n\n", 5)).has_value());
}

TEST(MimeMessage, AnEmptyLineRightBeforeADelimiterIsTheDelimitersLineBreak) {
  // Part 2's header ends with an empty line and the close delimiter follows at once: that line
  // break is the delimiter's (RFC 2046 5.1.1), so the header has no empty line (as Dovecot).
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n\n"
      "--b\nContent-Type: text/html\n\n--b--\n");
  const Message m = parse(raw);
  ASSERT_EQ(m.root.children.size(), 2U);
  const Part& first = m.root.children[0];
  EXPECT_EQ(bytes(m, first.header), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(first.body.size, 0U);
  const Part& second = m.root.children[1];
  EXPECT_EQ(bytes(m, second.header), "Content-Type: text/html\r\n");
  EXPECT_EQ(bytes(m, second.body), "");
  EXPECT_EQ(second.body_lines, 0U);
  EXPECT_EQ(bytes(m, m.root.close_delimiter), "\r\n--b--\r\n");
  // A message inside message/rfc822 keeps its empty line: it is no body part of a multipart.
  const std::string nested = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n"
      "Subject: inner\n\n--b--\n");
  const Message n = parse(nested);
  const Part& inner = n.root.children.at(0).children.at(0);
  EXPECT_EQ(bytes(n, inner.header), "Subject: inner\r\n\r\n");
}

TEST(MimeMessage, AnInvalidTransferEncodingIsMarked) {
  const auto cte = [](const std::string& value) {
    const std::string raw = "Content-Transfer-Encoding:" + value + "\r\n\r\nx\r\n";
    const Message m = parse(raw);
    return std::pair{m.root.transfer_encoding, m.root.transfer_encoding_invalid};
  };
  EXPECT_EQ(cte(" Base64"), std::pair(std::string("base64"), false));
  EXPECT_EQ(cte(" quoted-printable (a comment)"),
            std::pair(std::string("quoted-printable"), false));
  EXPECT_EQ(cte(" quoted-printable;"), std::pair(std::string("quoted-printable"), false))
      << "what follows ';' is ignored";
  EXPECT_EQ(cte(" x-uuencode"), std::pair(std::string("x-uuencode"), false));
  EXPECT_EQ(cte(" "), std::pair(std::string(), true)) << "present but empty";
  EXPECT_EQ(cte(" quoted printable"), std::pair(std::string(), true)) << "two words";
  EXPECT_EQ(cte(" text/html"), std::pair(std::string(), true)) << "not a token";
  const std::string absent = "Subject: x\r\n\r\nx\r\n";
  EXPECT_FALSE(parse(absent).root.transfer_encoding_invalid);
}

}  // namespace
}  // namespace sealpost::mime
