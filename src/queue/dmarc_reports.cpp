#include "queue/dmarc_reports.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include <spdlog/spdlog.h>

#include "auth/dmarc/record.hpp"
#include "core/strings.hpp"
#include "crypto/random.hpp"

namespace sealpost::queue {

namespace asio = boost::asio;

namespace {

std::string normalised_domain(std::string_view d) {
  while (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return to_lower_ascii(d);
}

std::vector<std::string> addresses_of(const std::vector<DmarcReportDestination>& destinations) {
  std::vector<std::string> out;
  out.reserve(destinations.size());
  for (const auto& d : destinations) out.push_back(d.address);
  return out;
}

}  // namespace

asio::awaitable<DmarcReportDestinations> dmarc_report_destinations(
    const auth::dmarc::Report& report, dns::Lookup& dns, const auth::dmarc::PublicSuffixList& psl) {
  DmarcReportDestinations out;
  const std::string policy_domain = normalised_domain(report.policy_domain);
  const std::string policy_org = psl.organizational_domain(policy_domain);
  std::map<std::string, bool> agreed;  // by the address's domain: one lookup each
  for (const auto& uri : report.record.rua) {
    auto address = auth::dmarc::mailto_address(uri);
    if (!address) continue;  // another scheme: we only mail reports
    const auto same = [&address](const DmarcReportDestination& d) { return d.address == *address; };
    if (std::any_of(out.accepted.begin(), out.accepted.end(), same)) continue;
    const std::string domain = normalised_domain(domain_of(*address));
    if (domain.empty()) continue;
    // Section 7.1 compares organisational domains: reports for a.example.com may go to
    // dmarc@example.com without asking, reports for example.com to dmarc@example.net only if
    // example.net agreed.
    if (psl.organizational_domain(domain) != policy_org) {
      auto it = agreed.find(domain);
      if (it == agreed.end()) {
        std::string name = policy_domain;
        name.append("._report._dmarc.").append(domain);
        const auto txt = co_await dns.txt(std::move(name));
        const bool yes =
            txt.status == dns::Status::kOk &&
            std::any_of(txt.records.begin(), txt.records.end(),
                        [](const std::string& t) { return auth::dmarc::is_dmarc_record(t); });
        it = agreed.emplace(domain, yes).first;
      }
      if (!it->second) {
        ++out.unverified;
        continue;
      }
    }
    out.accepted.push_back({std::move(*address), auth::dmarc::report_size_limit(uri)});
  }
  co_return out;
}

asio::awaitable<std::size_t> send_dmarc_reports(std::vector<auth::dmarc::Report> reports,
                                                dns::Lookup& dns,
                                                const auth::dmarc::PublicSuffixList& psl,
                                                ReportOutbox& outbox) {
  std::size_t queued = 0;
  std::size_t unverified = 0;
  std::size_t too_large = 0;
  std::size_t failed = 0;
  for (const auto& report : reports) {
    // A domain whose first row came after AggregateReporter::kMaxRows has a report and no rows.
    if (report.rows.empty()) continue;
    auto destinations = co_await dmarc_report_destinations(report, dns, psl);
    unverified += destinations.unverified;
    if (destinations.accepted.empty()) continue;

    // The Report-ID is a msg-id, as the section 7.2.1.1 Subject grammar has it.
    const std::string report_id = crypto::random_hex(16) + "@" + outbox.submitter();
    const auto end = static_cast<std::int64_t>(report.end);
    const auto build = [&](const mime::ReportMail& mail) {
      return auth::dmarc::report_message(report, outbox.submitter(), outbox.contact(), report_id,
                                         mail);
    };
    auto mail = outbox.mail(addresses_of(destinations.accepted), end);
    std::string message = build(mail);
    // Section 6.2's limit, held against the whole message (the report is the larger part of it);
    // leaving a recipient out only makes the message shorter.
    std::vector<DmarcReportDestination> fitting;
    for (auto& d : destinations.accepted) {
      if (d.size_limit && message.size() > *d.size_limit) {
        ++too_large;
      } else {
        fitting.push_back(std::move(d));
      }
    }
    if (fitting.empty()) continue;
    if (fitting.size() != destinations.accepted.size()) {
      mail = outbox.mail(addresses_of(fitting), end);
      message = build(mail);
    }
    try {
      co_await outbox.send(mail, std::move(message));
      ++queued;
    } catch (const std::exception& e) {
      ++failed;
      spdlog::error("dmarc report not queued: {}", e.what());
    }
  }
  if (queued + unverified + too_large + failed > 0) {
    spdlog::info("dmarc reports queued={} failed={} uris_unverified={} uris_over_size_limit={}",
                 queued, failed, unverified, too_large);
  }
  co_return queued;
}

}  // namespace sealpost::queue
