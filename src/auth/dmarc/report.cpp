#include "auth/dmarc/report.hpp"

#include "core/gzip.hpp"

namespace sealpost::auth::dmarc {

namespace {

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

std::string key_of(const ReportRow& r) {
  std::string k = r.policy_domain + '\n' + r.source_ip + '\n' + r.header_from + '\n' +
                  r.disposition + '\n' + (r.dkim_aligned_pass ? "1" : "0") +
                  (r.spf_aligned_pass ? "1" : "0") + '\n' + r.spf_domain + '\n' + r.spf_scope +
                  '\n' + r.spf_result;
  for (const auto& [d, s, res] : r.dkim) k += '\n' + d + ' ' + s + ' ' + res;
  return k;
}

std::string tag(const char* name, std::string_view value) {
  return std::string("<") + name + ">" + escape(value) + "</" + name + ">";
}

const char* alignment(Alignment a) {
  return a == Alignment::kStrict ? "s" : "r";
}

}  // namespace

void AggregateReporter::add(const ReportRow& row) {
  std::lock_guard lock(mutex_);
  const std::string key = key_of(row);
  auto& report = reports_[row.policy_domain];
  if (report.policy_domain.empty()) {
    report.policy_domain = row.policy_domain;
    report.record = row.record;
  }
  const auto it = index_.find(key);
  if (it != index_.end()) {
    ++report.rows[it->second].second;
    return;
  }
  if (rows_ >= kMaxRows) {
    ++dropped_;
    return;
  }
  index_.emplace(key, report.rows.size());
  report.rows.emplace_back(row, 1);
  ++rows_;
}

std::vector<Report> AggregateReporter::take(std::uint64_t now) {
  std::lock_guard lock(mutex_);
  std::vector<Report> out;
  for (auto& [domain, report] : reports_) {
    report.begin = begin_;
    report.end = now;
    out.push_back(std::move(report));
  }
  reports_.clear();
  index_.clear();
  rows_ = 0;
  begin_ = now;
  return out;
}

std::uint64_t AggregateReporter::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::string to_xml(const Report& r, const std::string& org_name, const std::string& email,
                   const std::string& report_id) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n";
  x += "  <version>1.0</version>\n  <report_metadata>\n    " + tag("org_name", org_name) +
       "\n    " + tag("email", email) + "\n    " + tag("report_id", report_id) +
       "\n    <date_range>" + tag("begin", std::to_string(r.begin)) +
       tag("end", std::to_string(r.end)) + "</date_range>\n  </report_metadata>\n";
  x += "  <policy_published>\n    " + tag("domain", r.policy_domain) +
       tag("adkim", alignment(r.record.adkim)) + tag("aspf", alignment(r.record.aspf)) +
       tag("p", to_string(r.record.p)) + tag("sp", to_string(r.record.sp.value_or(r.record.p))) +
       tag("pct", std::to_string(r.record.pct)) + tag("fo", r.record.fo) +
       "\n  </policy_published>\n";
  for (const auto& [row, count] : r.rows) {
    x += "  <record>\n    <row>" + tag("source_ip", row.source_ip) +
         tag("count", std::to_string(count)) + "<policy_evaluated>" +
         tag("disposition", row.disposition) +
         tag("dkim", row.dkim_aligned_pass ? "pass" : "fail") +
         tag("spf", row.spf_aligned_pass ? "pass" : "fail") + "</policy_evaluated></row>\n";
    x += "    <identifiers>" + tag("header_from", row.header_from) + "</identifiers>\n";
    x += "    <auth_results>";
    for (const auto& [d, s, res] : row.dkim) {
      x += "<dkim>" + tag("domain", d) + tag("selector", s) + tag("result", res) + "</dkim>";
    }
    x += "<spf>" + tag("domain", row.spf_domain) + tag("scope", row.spf_scope) +
         tag("result", row.spf_result) + "</spf></auth_results>\n  </record>\n";
  }
  x += "</feedback>\n";
  return x;
}

std::string report_message(const Report& report, const std::string& org_name,
                           const std::string& email, const std::string& report_id,
                           const mime::ReportMail& mail) {
  mime::ReportContent content;
  content.subject = mime::report_subject(report.policy_domain, org_name, report_id);
  // Aggregate reports are no multipart/report (that type is for failure reports, RFC 6591):
  // section 7.2.1.1 asks only for a MIME message with the report in one of its parts.
  content.multipart = "multipart/mixed";
  content.text = "This is a DMARC aggregate report (RFC 7489) from " + org_name + ".";
  content.attachment_type = "application/gzip";
  content.attachment_name =
      mime::report_filename(org_name, report.policy_domain, static_cast<std::int64_t>(report.begin),
                            static_cast<std::int64_t>(report.end), "", "xml.gz");
  content.attachment = core::gzip(to_xml(report, org_name, email, report_id));
  return mime::report_message(mail, content);
}

}  // namespace sealpost::auth::dmarc
