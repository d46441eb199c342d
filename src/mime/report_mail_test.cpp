#include "mime/report_mail.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mime/content.hpp"

namespace sealpost::mime {
namespace {

// --- file name and Subject (RFC 7489 7.2.1.1, RFC 8460 5.1 and 5.3) -----------------------------

TEST(ReportFilename, FollowsTheGrammar) {
  EXPECT_EQ(report_filename("mail.sender.example", "recipient.example", 1470013207, 1470186007,
                            "001", "json.gz"),
            "mail.sender.example!recipient.example!1470013207!1470186007!001.json.gz");
  EXPECT_EQ(
      report_filename("mail.receiver.example", "example.com", 1013662812, 1013749130, "", "xml.gz"),
      "mail.receiver.example!example.com!1013662812!1013749130.xml.gz");
}

TEST(ReportFilename, KeepsOnlyWhatTheGrammarAllows) {
  EXPECT_EQ(report_filename("Mail.Sender.Example.", "re\"ci/pi\r\nent.example", -5, 10, "a-b_c!d",
                            "json.gz"),
            "mail.sender.example!recipient.example!0!10!abcd.json.gz");
  EXPECT_EQ(report_filename("a.example", "b.example", 1, 2, "!-_", "xml.gz"),
            "a.example!b.example!1!2.xml.gz");
}

TEST(ReportSubject, FollowsTheGrammar) {
  EXPECT_EQ(report_subject("company-y.example", "mail.sender.example",
                           "<735ff.e317+bf22029@mailexample.net>"),
            "Report Domain: company-y.example Submitter: mail.sender.example Report-ID: "
            "<735ff.e317+bf22029@mailexample.net>");
  EXPECT_EQ(report_subject("example.com", "mail.receiver.example", "2002.02.15.1"),
            "Report Domain: example.com Submitter: mail.receiver.example Report-ID: "
            "<2002.02.15.1>");
}

TEST(ReportSubject, CannotBreakTheHeaderLine) {
  EXPECT_EQ(report_subject("a.example\r\nBcc: x@evil.example", "s.example\x01", "<id\n@x>\xc3\xa9"),
            "Report Domain: a.exampleBcc:x@evil.example Submitter: s.example Report-ID: <id@x>");
}

// --- the message ---------------------------------------------------------------------------------

TEST(ReportMessage, FramesTheAttachmentInBase64Lines) {
  ReportMail mail{
      "reports@mx.example", {"a@example.com", "b@example.net"}, "id1@mx.example", "=_b", 86400};
  ReportContent content;
  content.subject = "Report Domain: example.com Submitter: mx.example Report-ID: <1>";
  content.extra_fields = "X-Kind: test\r\n";
  content.multipart = "multipart/mixed";
  content.text = "A report.";
  content.attachment_type = "application/gzip";
  content.attachment_name = "mx.example!example.com!0!86400.xml.gz";
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes += static_cast<char>(i);
  content.attachment = bytes;

  const std::string m = report_message(mail, content);
  const auto body = m.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(m.substr(0, body + 2),
            "From: reports@mx.example\r\n"
            "To: a@example.com, b@example.net\r\n"
            "Date: Fri, 02 Jan 1970 00:00:00 +0000\r\n"
            "Message-ID: <id1@mx.example>\r\n"
            "Subject: Report Domain: example.com Submitter: mx.example Report-ID: <1>\r\n"
            "X-Kind: test\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed;\r\n\tboundary=\"=_b\"\r\n");
  EXPECT_TRUE(m.ends_with("\r\n--=_b--\r\n"));
  EXPECT_NE(m.find("--=_b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA report.\r\n"),
            std::string::npos);
  const std::string head =
      "--=_b\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=\"mx.example!example.com!0!86400.xml.gz\""
      "\r\n\r\n";
  const auto at = m.find(head);
  ASSERT_NE(at, std::string::npos);
  const auto start = at + head.size();
  const std::string encoded = m.substr(start, m.find("\r\n--=_b--", start) - start);
  for (std::size_t line = 0, next = 0; line < encoded.size(); line = next + 2) {
    next = encoded.find("\r\n", line);
    ASSERT_NE(next, std::string::npos);
    EXPECT_LE(next - line, 76u);
  }
  EXPECT_EQ(decode_transfer_encoding(encoded, "base64", 1 << 20), bytes);
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      EXPECT_EQ(m[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

}  // namespace
}  // namespace sealpost::mime
