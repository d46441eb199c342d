// DMARC aggregate reports (RFC 7489 section 7.2, appendix C): what this MX saw of the domains
// whose policy asked for reports (rua=), counted in memory, written once a day (and at shutdown)
// as gzip'd XML files with the addresses to send them to. Nothing else about a message is kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "auth/dmarc/record.hpp"

namespace sealpost::auth::dmarc {

struct ReportRow {
  std::string policy_domain;  // where the record was found
  Record record;
  std::string source_ip;
  std::string header_from;
  std::string disposition;  // none, quarantine, reject
  bool dkim_aligned_pass = false;
  bool spf_aligned_pass = false;
  // auth_results: each DKIM signature (domain, selector, result) and the SPF check.
  std::vector<std::tuple<std::string, std::string, std::string>> dkim;
  std::string spf_domain;
  std::string spf_scope;  // mfrom or helo
  std::string spf_result;
};

struct Report {
  std::string policy_domain;
  Record record;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::vector<std::pair<ReportRow, std::uint64_t>> rows;  // distinct rows and their counts
};

class AggregateReporter {
 public:
  static constexpr std::size_t kMaxRows = 100000;  // beyond, rows are dropped (and counted)

  explicit AggregateReporter(std::uint64_t begin) : begin_(begin) {}
  void add(const ReportRow& row);
  // The reports since the last take, one per policy domain; starts a new period at `now`.
  std::vector<Report> take(std::uint64_t now);
  [[nodiscard]] std::uint64_t dropped() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t begin_;
  std::map<std::string, Report> reports_;     // by policy domain
  std::map<std::string, std::size_t> index_;  // row key -> position in its report's rows
  std::size_t rows_ = 0;
  std::uint64_t dropped_ = 0;
};

// The report as appendix C's XML.
std::string to_xml(const Report& report, const std::string& org_name, const std::string& email,
                   const std::string& report_id);

// Writes "<org>!<domain>!<begin>!<end>.xml.gz" (section 7.2.1.1) and "<same>.rua" (one address per
// line) into `dir`, mode 0600; returns the paths written.
std::vector<std::filesystem::path> write_reports(const std::vector<Report>& reports,
                                                 const std::filesystem::path& dir,
                                                 const std::string& org_name);

}  // namespace sealpost::auth::dmarc
