#include "filter/message_scan.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/dmarc/public_suffix.hpp"
#include "core/base64.hpp"
#include "testing/archive_writer.hpp"
#include "testing/file_headers.hpp"

namespace sealpost::filter {
namespace {

MessageScan scan(const std::string& raw) {
  const auto m = mime::parse_message(raw);
  EXPECT_TRUE(m);
  return scan_message(*m);
}

std::vector<std::string> symbols(const MessageScan& s) {
  std::vector<std::string> out;
  for (const auto& f : s.findings) out.push_back(f.symbol);
  return out;
}

std::string multipart(const std::vector<std::string>& parts) {
  std::string m =
      "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n";
  for (const auto& p : parts) m += "--b\r\n" + p + "\r\n";
  return m + "--b--\r\n";
}

TEST(FilterMessageScanTest, AttachmentsAreFoundWhereverTheyAre) {
  const std::string inner =
      "Content-Type: message/rfc822\r\n\r\n"
      "Subject: inner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n"
      "--c\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
      "--c\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n\r\nMZ\r\n--c--\r\n";
  const MessageScan s = scan(multipart({"Content-Type: text/plain\r\n\r\nSee the file.", inner}));
  EXPECT_EQ(s.attachments, 1U);
  EXPECT_EQ(symbols(s),
            (std::vector<std::string>{"ATTACHMENT_EXECUTABLE", "ATTACHMENT_DOUBLE_EXTENSION"}));
  EXPECT_EQ(decide(s.findings, Policy{}).action, Action::kReject);
}

TEST(FilterMessageScanTest, NamesAreReadAsClientsShowThem) {
  // RFC 2231 (decoded by the parser) and RFC 2047 (which clients decode too).
  const MessageScan rfc2231 = scan(
      multipart({"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
                 " filename*=UTF-8''invoice_%E2%80%AEfdp.exe\r\n\r\nx"}));
  EXPECT_EQ(symbols(rfc2231),
            (std::vector<std::string>{"ATTACHMENT_EXECUTABLE", "ATTACHMENT_BIDI_NAME"}));
  const MessageScan rfc2047 = scan(multipart(
      {"Content-Type: application/octet-stream; name=\"=?UTF-8?B?cnVuLnNjcg==?=\"\r\n\r\nx"}));
  EXPECT_EQ(symbols(rfc2047), std::vector<std::string>{"ATTACHMENT_EXECUTABLE"});
  // A program declared by its type, with no name at all.
  const MessageScan typed = scan(multipart({"Content-Type: application/x-msdownload\r\n\r\nMZ"}));
  EXPECT_EQ(symbols(typed), std::vector<std::string>{"ATTACHMENT_EXECUTABLE"});
}

TEST(FilterMessageScanTest, LegitimateMailHasNoFindings) {
  const MessageScan s = scan(multipart(
      {"Content-Type: text/plain; charset=utf-8\r\n\r\nMinutes attached, see https://example.org/",
       "Content-Type: application/pdf; name=\"minutes.pdf\"\r\n"
       "Content-Disposition: attachment; filename=\"minutes.pdf\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK",
       "Content-Type: image/png\r\nContent-Disposition: inline\r\n\r\nx"}));
  EXPECT_TRUE(s.findings.empty());
  EXPECT_EQ(s.attachments, 2U);
  ASSERT_EQ(s.urls.size(), 1U);
  EXPECT_EQ(s.urls[0].host, "example.org");
}

TEST(FilterMessageScanTest, LinksComeFromTextAndWhatHtmlShows) {
  const MessageScan s = scan(
      multipart({"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                 "Log in at http://paypal.com@evil=2Eexample/ now",
                 "Content-Type: text/html\r\n\r\n<p>Visit <b>www.shop.example</b> today</p>"}));
  ASSERT_EQ(s.urls.size(), 2U);
  EXPECT_EQ(s.urls[0].host, "evil.example");
  EXPECT_EQ(s.urls[0].userinfo, "paypal.com");
  EXPECT_EQ(s.urls[1].host, "www.shop.example");
  // The links and the From: name are checked too (phishing.hpp).
  EXPECT_EQ(symbols(s), std::vector<std::string>{"URL_USERINFO_HOST"});
}

// A base64 body as mail carries it, in lines of 76 characters.
std::string base64_lines(std::string_view bytes) {
  const std::string b64 = core::base64_encode(bytes);
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

TEST(FilterMessageScanTest, AttachmentsAreCheckedByTheirBytes) {
  const std::string program =
      "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64_lines(testing::pe_program());
  const MessageScan s = scan(multipart({"Content-Type: text/plain\r\n\r\nThe report.", program}));
  EXPECT_EQ(s.attachments, 1U);
  EXPECT_EQ(s.decoded, testing::pe_program().size());
  EXPECT_FALSE(s.magic_missing);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"ATTACHMENT_EXECUTABLE_CONTENT"});
  EXPECT_EQ(decide(s.findings, Policy{}).action, Action::kReject);

  // Within a bound on the bytes decoded across the message: past it, attachments are looked at
  // by name only.
  const std::string two = multipart({program, program});
  const auto m = mime::parse_message(two);
  ASSERT_TRUE(m);
  ScanLimits limits;
  limits.max_decoded = 100;
  const MessageScan bounded = scan_message(*m, limits);
  EXPECT_EQ(bounded.attachments, 2U);
  EXPECT_EQ(bounded.decoded, 100U);
  EXPECT_TRUE(bounded.findings.empty());  // the start of the PE header alone is no program
  limits.max_decoded = testing::pe_program().size();
  EXPECT_EQ(symbols(scan_message(*m, limits)),
            std::vector<std::string>{"ATTACHMENT_EXECUTABLE_CONTENT"});
}

std::string zip_attachment(const std::string& name, const std::string& zip) {
  return "Content-Type: application/zip; name=\"" + name +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64_lines(zip);
}

TEST(FilterMessageScanTest, ArchiveBoundsHoldAcrossTheMessage) {
  std::vector<testing::Member> six;
  for (int i = 0; i < 6; ++i) six.push_back({"f" + std::to_string(i) + ".txt", "0123456789"});
  const std::string zip = testing::zip(six);
  const std::string raw = multipart({zip_attachment("a.zip", zip), zip_attachment("b.zip", zip)});
  const auto m = mime::parse_message(raw);
  ASSERT_TRUE(m);
  ScanLimits limits;
  EXPECT_EQ(scan_message(*m, limits).members, 12U);
  EXPECT_EQ(scan_message(*m, limits).unpacked, 120U);
  // Ten members for the message: the second archive gets four of them.
  limits.content.max_members = 10;
  MessageScan s = scan_message(*m, limits);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"ARCHIVE_TOO_MANY"});
  EXPECT_EQ(s.members, 11U);
  EXPECT_EQ(s.unpacked, 100U);
  limits.content.max_members = 1000;
  limits.content.max_unpacked = 90;
  s = scan_message(*m, limits);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"ARCHIVE_TOO_LARGE"});
  EXPECT_EQ(s.unpacked, 90U);
}

TEST(FilterMessageScanTest, ContentSymbolsCountOncePerMessage) {
  const std::string encrypted = testing::make_archive(
      {{"a.txt", "text"}}, testing::spec("zip", nullptr, "zip:encryption=zipcrypt", "pw"));
  const std::string raw =
      multipart({zip_attachment("a.zip", encrypted), zip_attachment("b.zip", encrypted)});
  const auto m = mime::parse_message(raw);
  ASSERT_TRUE(m);
  const MessageScan s = scan_message(*m);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"ARCHIVE_ENCRYPTED"});
  EXPECT_EQ(decide(s.findings, Policy{}).score, 5);
}

TEST(FilterMessageScanTest, IsBounded) {
  std::vector<std::string> parts;
  for (int i = 0; i < 300; ++i) {
    parts.push_back("Content-Type: application/octet-stream; name=\"f" + std::to_string(i) +
                    ".exe\"\r\n\r\nx");
  }
  const MessageScan s = scan(multipart(parts));
  EXPECT_EQ(s.attachments, 300U);
  EXPECT_EQ(s.findings.size(), 256U);  // max_attachments names checked
}

TEST(FilterMessageScanTest, LinksOnlyInHtmlMarkupAreFound) {
  // The text shows no link at all: it is in the href, and its user-info looks like a host.
  const MessageScan s = scan(multipart(
      {"Content-Type: text/plain\r\n\r\nSee the HTML part.",
       "Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           std::string("PHA+TG9nIGluIDxhIGhyZWY9Imh0dHA6Ly9wYXlwYWwuY29tQGV2aWwuZXhhbXBsZS8iPmhl"
                       "cmU8L2E+IG9yIOlsc2V3aGVyZS48L3A+")}));
  // <p>Log in <a href="http://paypal.com@evil.example/">here</a> or \xe9lsewhere.</p>
  ASSERT_EQ(s.urls.size(), 1U);
  EXPECT_EQ(s.urls[0].host, "evil.example");
  EXPECT_EQ(s.urls[0].userinfo, "paypal.com");
  EXPECT_EQ(symbols(s), std::vector<std::string>{"URL_USERINFO_HOST"});
}

TEST(FilterMessageScanTest, HtmlLinksComeFirstAndTheUnionIsBounded) {
  std::string html = "Content-Type: text/html\r\n\r\n";
  for (int i = 0; i < 150; ++i) {
    html += "<a href=\"https://t" + std::to_string(i) + ".tracker.example/\">Article</a>\r\n";
  }
  const MessageScan s = scan(multipart(
      {"Content-Type: text/plain\r\n\r\nhttps://text.example/ and https://t0.tracker.example/",
       html}));
  ASSERT_EQ(s.urls.size(), 100U);
  EXPECT_EQ(s.urls[0].host, "t0.tracker.example");
  EXPECT_EQ(s.urls[99].host, "t99.tracker.example");
  EXPECT_TRUE(s.findings.empty());

  ScanLimits small;
  small.urls.max_urls = 3;
  const std::string raw =
      multipart({"Content-Type: text/plain\r\n\r\nhttps://text.example/",
                 "Content-Type: text/html\r\n\r\n"
                 "<a href=\"https://a.example/\">a</a><a href=\"https://%61.example/\">b</a>"
                 "<a href=\"https://b.example/\">b</a><a href=\"https://c.example/\">c</a>"});
  const auto m = mime::parse_message(raw);
  ASSERT_TRUE(m);
  const MessageScan bounded = scan_message(*m, small);
  ASSERT_EQ(bounded.urls.size(), 3U);
  EXPECT_EQ(bounded.urls[0].host, "a.example");
  EXPECT_TRUE(bounded.urls[0].obfuscated);  // the repeat hides its host
  EXPECT_EQ(bounded.urls[1].host, "b.example");
  // The HTML part read three links (a.example twice, with different text); c.example was past
  // the bound there, and the text part's link is the third distinct one.
  EXPECT_EQ(bounded.urls[2].host, "text.example");
}

TEST(FilterMessageScanTest, HtmlAttachmentsAreNotReadForLinks) {
  const MessageScan s = scan(multipart(
      {"Content-Type: text/html\r\nContent-Disposition: attachment; filename=\"page.html\"\r\n\r\n"
       "<a href=\"http://paypal.com@evil.example/\">x</a>"}));
  EXPECT_TRUE(s.urls.empty());
  EXPECT_EQ(s.attachments, 1U);
}

TEST(FilterMessageScanTest, LinkTextMismatchNeedsThePublicSuffixList) {
  const std::string raw = multipart(
      {"Content-Type: text/html\r\n\r\n<a href=\"https://links.paypal.com/x\">paypal.com</a>"
       "<a href=\"https://evil.example/login\">https://www.paypal.com/login</a>"});
  const auto m = mime::parse_message(raw);
  ASSERT_TRUE(m);
  const auto psl = auth::dmarc::PublicSuffixList::from_string("com\nexample\n");
  const MessageScan s = scan_message(*m, {}, &psl);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"PHISH_LINK_TEXT_MISMATCH"});
  EXPECT_EQ(s.findings[0].reason, "a link showing paypal.com goes to evil.example");
  EXPECT_TRUE(scan_message(*m).findings.empty());
}

TEST(FilterMessageScanTest, ALookalikeOfAnOwnDomainInFromIsFlagged) {
  const auto psl = auth::dmarc::PublicSuffixList::from_string("com\nexample\n");
  const ProtectedDomains own(psl, {"example.com"});
  const auto m = mime::parse_message(
      "From: Billing <billing@examp1e.com>\r\nTo: b@example.com\r\nSubject: s\r\n\r\n"
      "Pay at https://www.examp1e.com/pay or https://www.example.com/.\r\n");
  ASSERT_TRUE(m);
  const MessageScan s = scan_message(*m, {}, &psl, &own);
  EXPECT_EQ(symbols(s), std::vector<std::string>{"PHISH_LOOKALIKE_DOMAIN"});
  EXPECT_EQ(s.findings[0].score, 5);
  EXPECT_EQ(s.findings[0].reason, "the From: domain examp1e.com looks like example.com");
  // Without own domains, the built-in brands are protected, and examp1e.com imitates none.
  EXPECT_TRUE(scan_message(*m, {}, &psl).findings.empty());
}

TEST(FilterMessageScanTest, HomographLinksAreFlaggedWithoutTheSuffixList) {
  const MessageScan s =
      scan(multipart({"Content-Type: text/html; charset=utf-8\r\n\r\n"
                      "<a href=\"https://xn--80ak6aa92e.com/id\">Sign in</a> <a "
                      "href=\"https://b\xc3\xbc"
                      "cher.de/\">"
                      "B\xc3\xbc"
                      "cher</a>"}));
  EXPECT_EQ(symbols(s), std::vector<std::string>{"PHISH_HOMOGRAPH"});
  EXPECT_EQ(s.urls.size(), 2U);
}

TEST(FilterMessageScanTest, HtmlTooDeepToReadIsScored) {
  std::string deep = "Content-Type: text/html\r\n\r\n";
  for (int i = 0; i < 300; ++i) deep += "<div>";
  deep += "<a href=\"http://hidden.example/\">x</a>";
  const MessageScan s = scan(multipart({deep}));
  EXPECT_EQ(symbols(s), std::vector<std::string>{"HTML_TOO_DEEP"});
  EXPECT_TRUE(s.urls.empty());
}

}  // namespace
}  // namespace sealpost::filter
