#include "auth/dmarc/report.hpp"

#include <filesystem>

#include <gtest/gtest.h>

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

TEST(DmarcReport, WritesGzipAndTheAddresses) {
  AggregateReporter reporter(10);
  reporter.add(row("192.0.2.1", "none"));
  const auto dir = std::filesystem::temp_directory_path() / "sealpost-report-test";
  std::filesystem::remove_all(dir);
  const auto files = write_reports(reporter.take(20), dir, "mx.example.net");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename(), "mx.example.net!example.com!10!20.xml.gz");
  EXPECT_TRUE(std::filesystem::exists(dir / "mx.example.net!example.com!10!20.rua"));
  EXPECT_EQ(std::filesystem::status(files[0]).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sealpost::auth::dmarc
