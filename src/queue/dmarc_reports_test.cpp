#include "queue/dmarc_reports.hpp"

#include <filesystem>

#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include "dns/memory_zone.hpp"
#include "store/metadata_store.hpp"
#include "testing/async.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::queue {
namespace {

using auth::dmarc::AggregateReporter;
using auth::dmarc::PublicSuffixList;
using auth::dmarc::Report;
using auth::dmarc::ReportRow;

Report report_for(const std::string& policy_domain, const std::string& rua) {
  ReportRow row;
  row.policy_domain = policy_domain;
  row.record = auth::dmarc::parse_record("v=DMARC1; p=reject; rua=" + rua).value();
  row.source_ip = "192.0.2.1";
  row.header_from = policy_domain;
  row.disposition = "reject";
  row.spf_domain = policy_domain;
  row.spf_scope = "mfrom";
  row.spf_result = "fail";
  AggregateReporter reporter(1000);
  reporter.add(row);
  return reporter.take(2000).at(0);
}

class DmarcReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sealpost::testing::fresh_test_dir("sealpost-dmarc-reports");
    store_ = store::open_sqlite_metadata_store((dir_ / "metadata.db").string());
    queue_ = std::make_unique<Queue>(*store_, std::vector<unsigned char>(32, 7));
    config_.hostname = "mx.example.net";
    outbox_ = std::make_unique<ReportOutbox>(config_, *queue_, pool_.get_executor(), keyring_);
    // The policy domain's own reporting domain, and one that agreed to take its reports.
    zone_.node("example.com._report._dmarc.reports.example").txt = {"v=DMARC1"};
    zone_.node("example.com._report._dmarc.wrong.example").txt = {"v=spf1 -all"};
    zone_.node("example.com._report._dmarc.slow.example").timeout = true;
  }
  void TearDown() override {
    pool_.join();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<Queue> queue_;
  boost::asio::thread_pool pool_{1};
  auth::dkim::KeyringHolder keyring_;
  core::Config config_;
  std::unique_ptr<ReportOutbox> outbox_;
  dns::MemoryZone zone_;
  PublicSuffixList psl_ = PublicSuffixList::from_string("com\nexample\n");
};

TEST_F(DmarcReportsTest, ExternalAddressesNeedTheirDomainsAgreement) {
  const auto report =
      report_for("example.com",
                 "mailto:d@example.com,mailto:d@sub.example.com!1k,mailto:agg@reports.example!10m,"
                 "mailto:other@reports.example,mailto:x@unasked.example,mailto:y@wrong.example,"
                 "mailto:z@slow.example,https://r.example.com/dmarc,mailto:d@example.com");
  const auto got = sealpost::testing::run_sync(dmarc_report_destinations(report, zone_, psl_));
  ASSERT_EQ(got.accepted.size(), 4u);
  EXPECT_EQ(got.accepted[0].address, "d@example.com");
  EXPECT_FALSE(got.accepted[0].size_limit);
  EXPECT_EQ(got.accepted[1].address, "d@sub.example.com");  // same organisational domain
  EXPECT_EQ(got.accepted[1].size_limit, 1024u);
  EXPECT_EQ(got.accepted[2].address, "agg@reports.example");
  EXPECT_EQ(got.accepted[2].size_limit, 10u << 20);
  EXPECT_EQ(got.accepted[3].address, "other@reports.example");
  EXPECT_EQ(got.unverified, 3u);  // no record, not a DMARC record, no answer
  EXPECT_EQ(zone_.queries(), 4) << "one lookup per external domain, none for the policy's own";
}

TEST_F(DmarcReportsTest, QueuesOneMessageFromTheNullSenderWithinSizeLimits) {
  std::vector<Report> reports;
  reports.push_back(report_for("example.com",
                               "mailto:big@example.com!10m,mailto:tiny@example.com!100,"
                               "mailto:agg@reports.example"));
  reports.push_back(report_for("example.org", "mailto:x@unasked.example"));
  const auto queued =
      sealpost::testing::run_sync(send_dmarc_reports(std::move(reports), zone_, psl_, *outbox_));
  EXPECT_EQ(queued, 1u);
  const auto entries = store_->queue_list(10);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, "report");
  const auto entry = queue_->load(entries[0].id);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->envelope.sender, "");
  EXPECT_EQ(entry->envelope.recipients,
            (std::vector<std::string>{"big@example.com", "agg@reports.example"}));
  EXPECT_NE(entry->content.find("\r\nTo: big@example.com, agg@reports.example\r\n"),
            std::string::npos)
      << entry->content;
  EXPECT_NE(entry->content.find("\r\nSubject: Report Domain: example.com Submitter: "
                                "mx.example.net Report-ID: <"),
            std::string::npos);
  EXPECT_NE(entry->content.find("filename=\"mx.example.net!example.com!1000!2000.xml.gz\""),
            std::string::npos);
  EXPECT_GT(entry->content.size(), 100u) << "tiny@ asked for at most 100 octets";
}

TEST_F(DmarcReportsTest, AReportWithoutRowsIsNotSent) {
  auto report = report_for("example.com", "mailto:d@example.com");
  report.rows.clear();
  const auto queued =
      sealpost::testing::run_sync(send_dmarc_reports({report}, zone_, psl_, *outbox_));
  EXPECT_EQ(queued, 0u);
  EXPECT_TRUE(store_->queue_list(10).empty());
}

}  // namespace
}  // namespace sealpost::queue
