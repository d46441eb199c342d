#include "auth/dmarc/report.hpp"

#include <random>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

void write_file(const std::filesystem::path& p, const std::string& data) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(p.string() + ": cannot write");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error(p.string() + ": write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
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

std::vector<std::filesystem::path> write_reports(const std::vector<Report>& reports,
                                                 const std::filesystem::path& dir,
                                                 const std::string& org_name) {
  std::vector<std::filesystem::path> written;
  if (reports.empty()) return written;
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  std::random_device rd;
  for (const auto& r : reports) {
    std::vector<std::string> to;
    for (const auto& uri : r.record.rua) {
      if (auto a = mailto_address(uri)) to.push_back(*a);
    }
    if (to.empty() || r.rows.empty()) continue;
    const std::string id = std::to_string(r.end) + "." + std::to_string(rd());
    const std::string base = org_name + "!" + r.policy_domain + "!" + std::to_string(r.begin) +
                             "!" + std::to_string(r.end);
    const auto xml = dir / (base + ".xml.gz");
    write_file(xml, core::gzip(to_xml(r, org_name, "postmaster@" + org_name, id)));
    std::string rua;
    for (const auto& a : to) rua += a + "\n";
    write_file(dir / (base + ".rua"), rua);
    written.push_back(xml);
  }
  return written;
}

}  // namespace sealpost::auth::dmarc
