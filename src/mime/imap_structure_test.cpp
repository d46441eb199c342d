#include "mime/imap_structure.hpp"

#include <gtest/gtest.h>

#include "core/strings.hpp"
#include "testing/text.hpp"

namespace sealpost::mime {
namespace {

using testing::crlf;

// Parts point into the raw message: it must outlive them (no temporaries).
Message parse(std::string&& raw) = delete;
Message parse(const std::string& raw) {
  auto m = parse_message(raw);
  EXPECT_TRUE(m.has_value());
  return std::move(m).value();
}

std::string envelope_of(const std::string& raw) {
  const std::string wire = crlf(raw);
  return imap_envelope(parse(wire).root);
}

TEST(ImapStructure, GivesTheBodyOfRfc3501Section742) {
  // The example response of RFC 3501 section 7.4.2, from a message built to match it.
  std::string text;
  for (int i = 0; i < 22; ++i) text += std::string(50, 't') + "\r\n";
  text += "last..\r\n";
  std::string base64;
  for (int i = 0; i < 72; ++i) base64 += std::string(61, 'Q') + "\r\n";
  base64 += std::string(16, 'Q') + "\r\n";
  const std::string raw =
      "Content-Type: MULTIPART/MIXED; BOUNDARY=\"b\"\r\n\r\n--b\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n" +
      text +
      "\r\n--b\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
      "Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
      "Content-Description: Compiler diff\r\n"
      "Content-Transfer-Encoding: BASE64\r\n\r\n" +
      base64 + "\r\n--b--\r\n";
  const Message m = parse(raw);
  // IMAP compares these atoms and strings without case.
  EXPECT_EQ(to_lower_ascii(imap_body_structure(m.root, {.extensible = false})),
            to_lower_ascii(
                R"((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23))"
                R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff"))"
                R"( "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73))"
                R"( "MIXED"))"));
}

const char* const kMixed =
    "From: \"Alice Example\" <alice@example.com>\n"
    "To: Bob <bob@example.net>, \"Carol \\\"C\\\" Example\" <carol@example.org>\n"
    "Cc: friends: dave@example.org, eve@example.org;\n"
    "Subject: =?utf-8?q?R=C3=A9sum=C3=A9?= attached\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <m1@example.com>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble\n"
    "--outer\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Hello Bob,\n"
    "see attached.\n"
    "\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"cv.pdf\"\n"
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-ID: <cv@example.com>\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "Content-Description: forwarded\n"
    "\n"
    "From: carol@example.org\n"
    "Subject: Hi\n"
    "Date: Sun, 31 Dec 2023 09:00:00 +0100\n"
    "In-Reply-To: <m0@example.com>\n"
    "\n"
    "Inner text.\n"
    "\n"
    "--outer--\n";

constexpr std::string_view kInnerEnvelope =
    R"(("Sun, 31 Dec 2023 09:00:00 +0100" "Hi" ((NIL NIL "carol" "example.org")))"
    R"( ((NIL NIL "carol" "example.org")) ((NIL NIL "carol" "example.org")) NIL NIL NIL)"
    R"( "<m0@example.com>" NIL))";

TEST(ImapStructure, GivesTheBodyStructureOfAMixedMessage) {
  const std::string raw = crlf(kMixed);
  const Message m = parse(raw);
  const std::string expected =
      R"((("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 27 2 NIL NIL NIL NIL))"
      R"(("application" "pdf" ("name" "cv.pdf") "<cv@example.com>" NIL "base64" 12 NIL)"
      R"( ("attachment" ("filename*" "utf-8''r%C3%A9sum%C3%A9.pdf")) NIL NIL))"
      R"(("message" "rfc822" NIL NIL "forwarded" "7bit" 123 )" +
      std::string(kInnerEnvelope) +
      R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 1 NIL NIL NIL NIL) 6)"
      R"( NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL))";
  EXPECT_EQ(imap_body_structure(m.root), expected);
}

TEST(ImapStructure, GivesTheBodyOfAMixedMessage) {
  const std::string m_raw = crlf(kMixed);
  const Message m = parse(m_raw);
  const std::string expected =
      R"((("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 27 2))"
      R"(("application" "pdf" ("name" "cv.pdf") "<cv@example.com>" NIL "base64" 12))"
      R"(("message" "rfc822" NIL NIL "forwarded" "7bit" 123 )" +
      std::string(kInnerEnvelope) +
      R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 1) 6) "mixed"))";
  EXPECT_EQ(imap_body_structure(m.root, {.extensible = false}), expected);
  EXPECT_EQ(imap_structure(m).body, expected);
}

TEST(ImapStructure, GivesTheEnvelopeOfAMixedMessage) {
  const std::string m_raw = crlf(kMixed);
  const Message m = parse(m_raw);
  EXPECT_EQ(
      imap_envelope(m.root),
      R"(("Mon, 1 Jan 2024 10:00:00 +0000" "=?utf-8?q?R=C3=A9sum=C3=A9?= attached")"
      R"( (("Alice Example" NIL "alice" "example.com")))"
      R"( (("Alice Example" NIL "alice" "example.com")))"
      R"( (("Alice Example" NIL "alice" "example.com")))"
      R"( (("Bob" NIL "bob" "example.net")("Carol \"C\" Example" NIL "carol" "example.org")))"
      R"( ((NIL NIL "friends" NIL)(NIL NIL "dave" "example.org")(NIL NIL "eve" "example.org"))"
      R"((NIL NIL NIL NIL)) NIL NIL "<m1@example.com>"))");
}

TEST(ImapStructure, FindsPartsByNumber) {
  const std::string m_raw = crlf(kMixed);
  const Message m = parse(m_raw);
  const Part& root = m.root;
  EXPECT_EQ(find_part(m, "1"), &root.children[0]);
  EXPECT_EQ(find_part(m, "2"), &root.children[1]);
  EXPECT_EQ(find_part(m, "3"), &root.children[2]);
  // Inside message/rfc822: the encapsulated message is not multipart, so its part 1 is itself.
  EXPECT_EQ(find_part(m, "3.1"), &root.children[2].children[0]);
  for (const char* bad : {"", "0", "4", "1.1", "3.2", "3.1.1", "1.", ".1", "x", "TEXT", "1..2"}) {
    EXPECT_EQ(find_part(m, bad), nullptr) << bad;
  }
}

TEST(ImapStructure, FindsPartOneOfASinglePartMessage) {
  const std::string m_raw = crlf("Subject: x\n\nbody\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(find_part(m, "1"), &m.root);
  EXPECT_EQ(find_part(m, "2"), nullptr);
  EXPECT_EQ(find_part(m, "1.1"), nullptr);
  const std::string nested_raw = crlf(
      "Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\n\none\n--b\n\ntwo\n--b--\n");
  const Message nested = parse(nested_raw);
  const Part& inner = nested.root.children[0];
  EXPECT_EQ(find_part(nested, "1"), &nested.root);
  EXPECT_EQ(find_part(nested, "1.2"), &inner.children[1]);
  EXPECT_EQ(find_part(nested, "2"), nullptr);
}

TEST(ImapStructure, JoinsTheRecipientsOfRepeatedFields) {
  const std::string raw = crlf("From: a@x.org\nTo: b@x.org\nCc: c@x.org\nTo: d@x.org, e@x.org\n\n");
  const Message m = parse(raw);
  const std::string env = imap_envelope(m.root);
  EXPECT_NE(env.find(R"(((NIL NIL "b" "x.org")(NIL NIL "d" "x.org")(NIL NIL "e" "x.org")))"),
            std::string::npos)
      << env;
  EXPECT_NE(env.find(R"(((NIL NIL "c" "x.org")) NIL)"), std::string::npos) << env;
}

TEST(ImapStructure, DefaultsSenderAndReplyToToFrom) {
  EXPECT_EQ(envelope_of("From: user@domain (Real Name)\nSender: \nReply-To:\n\nbody\n"),
            R"((NIL NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")))"
            R"( (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL))");
  EXPECT_EQ(envelope_of("Subject:\nIn-Reply-To: \n\n"),
            R"((NIL "" NIL NIL NIL NIL NIL NIL "" NIL))");
}

TEST(ImapStructure, WritesGroupsAndRoutes) {
  EXPECT_EQ(envelope_of("From: <@route.example:user@domain>\nTo: group: g1@d1.org, g2@d2.org;, "
                        "group2: g3@d3.org;\nCc: Undisclosed recipients:;\n\n"),
            R"((NIL NIL ((NIL "@route.example" "user" "domain")))"
            R"( ((NIL "@route.example" "user" "domain")) ((NIL "@route.example" "user" "domain")))"
            R"( ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org"))"
            R"((NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)))"
            R"( ((NIL NIL "Undisclosed recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL))");
}

TEST(ImapStructure, ReadsBrokenAddressesLikeClientsDo) {
  const auto a = parse_envelope_addresses(
      " Big Bug bb@bug.com, , \"quoted@local\"@example.com, Mikel@Lindsaar <r@gmail.com>,"
      " MAILER DAEMON <>, postoffice, Pete(A wonderful \\) chap) <pete(his)@silly.test(host)>");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].name, "Big Bug");
  EXPECT_EQ(a[0].mailbox, "bb");
  EXPECT_EQ(a[0].host, "bug.com");
  EXPECT_FALSE(a[1].name.has_value());
  EXPECT_EQ(a[1].mailbox, "\"quoted@local\"");
  EXPECT_EQ(a[2].name, "Mikel@Lindsaar");
  EXPECT_EQ(a[3].name, "MAILER DAEMON");
  EXPECT_EQ(a[3].mailbox, "");
  EXPECT_EQ(a[3].host, "");  // no domain: "" (NIL would mean a group)
  EXPECT_EQ(a[4].mailbox, "postoffice");
  EXPECT_EQ(a[5].name, "Pete");
  EXPECT_EQ(a[5].mailbox, "pete");
  EXPECT_EQ(a[5].host, "silly.test");
  const auto unquoted = parse_envelope_addresses("\"john.doe\"@example.com");
  ASSERT_EQ(unquoted.size(), 1u);
  EXPECT_EQ(unquoted[0].mailbox, "john.doe");  // quotes it does not need are dropped
  const auto unterminated = parse_envelope_addresses("team: a@b.test");
  ASSERT_EQ(unterminated.size(), 3u);
  EXPECT_FALSE(unterminated[2].mailbox.has_value());
  EXPECT_EQ(parse_envelope_addresses(std::string(100'000, ','), 10).size(), 0u);
  std::string many;
  for (int i = 0; i < 100; ++i) many += "u@example.com, ";
  EXPECT_EQ(parse_envelope_addresses(many, 10).size(), 10u);
}

TEST(ImapStructure, ReadsWordsWithoutAnAddressAsADisplayName) {
  // RFC 5322 section 3.4: several words can only be a display-name; one atom is a local part.
  EXPECT_EQ(envelope_of("To: Mary Smith\n\n"),
            R"((NIL NIL NIL NIL NIL (("Mary Smith" NIL "" "")) NIL NIL NIL NIL))");
  EXPECT_EQ(envelope_of("To: \"undisclosed recipients\"\n\n"),
            R"((NIL NIL NIL NIL NIL (("undisclosed recipients" NIL "" "")) NIL NIL NIL NIL))");
  EXPECT_EQ(envelope_of("To: postoffice\n\n"),
            R"((NIL NIL NIL NIL NIL ((NIL NIL "postoffice" "")) NIL NIL NIL NIL))");
  EXPECT_EQ(envelope_of("To: john . doe (John Doe), Mary Smith (comment)\n\n"),
            R"((NIL NIL NIL NIL NIL (("John Doe" NIL "john.doe" ""))"
            R"(("Mary Smith" NIL "" "")) NIL NIL NIL NIL))");
  EXPECT_EQ(envelope_of("Cc: (only a comment)\n\n"), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(ImapStructure, ShowsTheFirstFieldUnfoldedAndTrimmed) {
  // RFC 5322 section 2.2.3: unfolding removes the CRLF only (tabs and double spaces stay); the
  // CFWS around a date-time (section 3.3) is not part of it; of two Subject fields, the first.
  EXPECT_EQ(envelope_of("Date:  Wed, 15 Dec 2010 12:21:20 -0500 \nSubject: bug\n\t12  34\n"
                        "Subject: second\nMessage-ID: \n  <a@b>\n\n"),
            "(\"Wed, 15 Dec 2010 12:21:20 -0500\" \"bug\t12  34\" NIL NIL NIL NIL NIL NIL NIL "
            "\"<a@b>\")");
}

TEST(ImapStructure, QuotesOrSendsLiterals) {
  std::string out;
  append_imap_string(out, "plain \"quoted\" \\ and\ttab");
  EXPECT_EQ(out, R"("plain \"quoted\" \\ and	tab")");
  out.clear();
  append_imap_string(out, "R\xC3\xA9sum\xC3\xA9");
  EXPECT_EQ(out, "{8}\r\nR\xC3\xA9sum\xC3\xA9");
  out.clear();
  append_imap_string(out, std::string_view("a\0b\r\n", 5));
  EXPECT_EQ(out, "{4}\r\nab\r\n");
  out.clear();
  append_imap_nstring(out, std::nullopt);
  append_imap_nstring(out, "");
  EXPECT_EQ(out, "NIL\"\"");
}

TEST(ImapStructure, UnfoldsAndSendsEightBitHeadersAsLiterals) {
  EXPECT_EQ(
      envelope_of("Subject: caf\xC3\xA9\n  folded\nFrom: \"J\xC3\xB6hn\" <j@example.com>\n\n"),
      "(NIL {13}\r\ncaf\xC3\xA9  folded (({5}\r\nJ\xC3\xB6hn NIL \"j\" \"example.com\")) "
      "(({5}\r\nJ\xC3\xB6hn NIL \"j\" \"example.com\")) "
      "(({5}\r\nJ\xC3\xB6hn NIL \"j\" \"example.com\")) NIL NIL NIL NIL NIL)");
}

TEST(ImapStructure, ShowsAMultipartWithoutPartsWithAnEmptyTextPart) {
  const std::string m_raw = crlf("Content-Type: multipart/mixed; boundary=x\n\nno delimiter\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(imap_body_structure(m.root),
            R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))"
            R"( "mixed" ("boundary" "x") NIL NIL NIL))");
  EXPECT_EQ(imap_body_structure(m.root, {.extensible = false}),
            R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed"))");
  // ...and that empty part is part 1: no header, no body (BODY[1.MIME] and BINARY[1] are
  // empty, as Dovecot serves them), nothing below or beside it.
  const Part* one = find_part(m, "1");
  ASSERT_NE(one, nullptr);
  EXPECT_NE(one, &m.root);
  EXPECT_EQ(one->header.in(m.raw), "");
  EXPECT_EQ(one->body.in(m.raw), "");
  EXPECT_TRUE(one->is("text", "plain"));
  EXPECT_EQ(find_part(m, "2"), nullptr);
  EXPECT_EQ(find_part(m, "1.1"), nullptr);
}

TEST(ImapStructure, DescribesMessageGlobalForImap4rev2Only) {
  const std::string m_raw = crlf("Content-Type: message/global\n\nSubject: s\n\nb\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(imap_body_structure(m.root, {.extensible = false}),
            R"(("message" "global" NIL NIL NIL "7bit" 17))");
  EXPECT_EQ(imap_body_structure(m.root, {.extensible = false, .imap4rev2 = true}),
            R"(("message" "global" NIL NIL NIL "7bit" 17 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL))"
            R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 1) 3))");
}

TEST(ImapStructure, WritesTheExtensionFields) {
  const std::string m_raw = crlf(
      "Content-Type: text/html\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
      "Content-Disposition: inline\nContent-Language: en (English), de-CH\n"
      "Content-Location: https://example.com/\n  x.html\n\n<p>\n");
  const Message m = parse(m_raw);
  EXPECT_EQ(imap_body_structure(m.root),
            R"(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 5 1)"
            R"( "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" NIL) ("en" "de-CH"))"
            R"( "https://example.com/  x.html"))");
}

}  // namespace
}  // namespace sealpost::mime
