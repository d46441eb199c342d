#include "auth/dmarc/report.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "mime/content.hpp"

namespace sealpost::auth::dmarc {
namespace {

ReportRow row(const std::string& ip, const std::string& disposition) {
  ReportRow r;
  r.policy_domain = "example.com";
  r.record = parse_record("v=DMARC1; p=reject; rua=mailto:agg@example.com").value();
  r.source_ip = ip;
  r.header_from = "example.com";
  r.disposition = disposition;
  r.spf_domain = "example.com";
  r.spf_scope = "mfrom";
  r.spf_result = "fail";
  r.dkim.emplace_back("example.com", "s1", "fail");
  return r;
}

TEST(DmarcReport, CountsIdenticalRowsAndStartsANewPeriod) {
  AggregateReporter reporter(1000);
  reporter.add(row("192.0.2.1", "reject"));
  reporter.add(row("192.0.2.1", "reject"));
  reporter.add(row("192.0.2.2", "reject"));
  auto reports = reporter.take(2000);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].begin, 1000u);
  EXPECT_EQ(reports[0].end, 2000u);
  ASSERT_EQ(reports[0].rows.size(), 2u);
  EXPECT_EQ(reports[0].rows[0].second, 2u);
  EXPECT_TRUE(reporter.take(3000).empty());
}

TEST(DmarcReport, XmlFollowsAppendixCAndEscapes) {
  AggregateReporter reporter(1);
  auto r = row("2001:db8::1", "reject");
  r.header_from = "a<b>&.example";
  reporter.add(r);
  const auto xml =
      to_xml(reporter.take(2)[0], "mx.example.net", "postmaster@mx.example.net", "id1");
  EXPECT_NE(xml.find("<policy_published>\n    <domain>example.com</domain><adkim>r</adkim>"
                     "<aspf>r</aspf><p>reject</p><sp>reject</sp><pct>100</pct>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<source_ip>2001:db8::1</source_ip><count>1</count>"), std::string::npos);
  EXPECT_NE(xml.find("<disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf>"),
            std::string::npos);
  EXPECT_NE(xml.find("<header_from>a&lt;b&gt;&amp;.example</header_from>"), std::string::npos);
  EXPECT_NE(xml.find("<dkim><domain>example.com</domain><selector>s1</selector><result>fail"),
            std::string::npos);
}

// What a report message's attachment holds: the gzip'd bytes between its part header and the
// closing boundary, base64-decoded and gunzipped with zlib itself.
std::string attachment_xml(const std::string& message, const std::string& name) {
  const std::string head = "Content-Disposition: attachment; filename=\"" + name + "\"\r\n\r\n";
  const auto at = message.find(head);
  if (at == std::string::npos) return "(no attachment named " + name + ")";
  const auto start = at + head.size();
  const auto end = message.find("\r\n--", start);
  const std::string gz =
      mime::decode_transfer_encoding(message.substr(start, end - start), "base64", 1 << 20);
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "(inflateInit2)";
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "(not a whole gzip stream)";
}

mime::ReportMail mail_to(std::vector<std::string> recipients) {
  return mime::ReportMail{"reports-noreply@mx.example.net", std::move(recipients),
                          "m1@mx.example.net", "=_b1", 20};
}

TEST(DmarcReport, MessageFollowsSection7211) {
  AggregateReporter reporter(10);
  reporter.add(row("192.0.2.1", "none"));
  reporter.add(row("192.0.2.1", "none"));
  const auto report = reporter.take(20).at(0);
  const std::string m =
      report_message(report, "mx.example.net", "postmaster@mx.example.net", "r1@mx.example.net",
                     mail_to({"agg@example.com", "dmarc@reports.example"}));
  EXPECT_TRUE(
      m.starts_with("From: reports-noreply@mx.example.net\r\n"
                    "To: agg@example.com, dmarc@reports.example\r\n"
                    "Date: Thu, 01 Jan 1970 00:00:20 +0000\r\n"
                    "Message-ID: <m1@mx.example.net>\r\n"
                    "Subject: Report Domain: example.com Submitter: mx.example.net "
                    "Report-ID: <r1@mx.example.net>\r\n"))
      << m;
  EXPECT_NE(m.find("Content-Type: multipart/mixed;\r\n\tboundary=\"=_b1\"\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n"),
            std::string::npos);

  const std::string xml = attachment_xml(m, "mx.example.net!example.com!10!20.xml.gz");
  EXPECT_EQ(xml,
            to_xml(report, "mx.example.net", "postmaster@mx.example.net", "r1@mx.example.net"));
  EXPECT_NE(xml.find("<org_name>mx.example.net</org_name>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<report_id>r1@mx.example.net</report_id>"), std::string::npos);
  EXPECT_NE(xml.find("<date_range><begin>10</begin><end>20</end></date_range>"), std::string::npos);
  EXPECT_NE(xml.find("<source_ip>192.0.2.1</source_ip><count>2</count>"), std::string::npos);
}

// The policy domain is what a From: field named: whatever it holds cannot reach a header line or
// the attachment's file name unfiltered.
TEST(DmarcReport, MessageHeaderCannotBeInjectedThroughThePolicyDomain) {
  AggregateReporter reporter(1);
  auto r = row("192.0.2.1", "reject");
  r.policy_domain = "evil.example\r\nBcc: x@evil.example";
  reporter.add(r);
  const std::string m = report_message(reporter.take(2).at(0), "mx.example.net",
                                       "postmaster@mx.example.net", "r2", mail_to({"a@b.example"}));
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(m.find("Subject: Report Domain: evil.exampleBcc:x@evil.example Submitter: "),
            std::string::npos);
  EXPECT_NE(m.find("filename=\"mx.example.net!evil.examplebccxevil.example!1!2.xml.gz\""),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace sealpost::auth::dmarc
