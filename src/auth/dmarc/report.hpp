// DMARC aggregate reports (RFC 7489 section 7.2, appendix C): what this MX saw of the domains
// whose policy asked for reports (rua=), counted in memory only, and the message that carries a
// domain's report once a day (and at shutdown) to its rua= addresses. Nothing else about a message
// is kept, and no report is ever written to disk in the clear: sending is the queue's
// (queue/dmarc_reports.hpp), which seals what it holds.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "auth/dmarc/record.hpp"
#include "mime/report_mail.hpp"

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

// The report mail (section 7.2.1.1) to mail.recipients, unsigned: Subject "Report Domain:
// <policy domain> Submitter: <org_name> Report-ID: <report_id>", a short text part, and to_xml()
// gzip'd as an application/gzip attachment named "<org_name>!<policy domain>!<begin>!<end>.xml.gz".
std::string report_message(const Report& report, const std::string& org_name,
                           const std::string& email, const std::string& report_id,
                           const mime::ReportMail& mail);

}  // namespace sealpost::auth::dmarc
