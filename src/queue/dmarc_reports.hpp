// DMARC aggregate reports (RFC 7489 section 7.2) mailed through the queue: each policy domain's
// report, counted by auth::dmarc::AggregateReporter, goes once a day (and at shutdown) as the
// section 7.2.1.1 message (auth/dmarc/report.hpp) to the mailto: URIs of the domain's rua= tag,
// sent as every report is (queue/report_outbox.hpp): sealed in the queue, never a plaintext file.
//
// Two rules decide which URIs get it. Section 7.1: an address outside the policy domain's
// organisational domain gets reports only if its own domain agreed to take them for that policy
// domain (a "v=DMARC1" TXT record at <policy domain>._report._dmarc.<its domain>); otherwise anyone
// could point a DMARC record at a victim and have every receiver on the Internet mail it daily.
// Section 6.2: a URI's "!size" limit is the largest report its owner takes; a larger message is
// not sent to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/dmarc/public_suffix.hpp"
#include "auth/dmarc/report.hpp"
#include "dns/lookup.hpp"
#include "queue/report_outbox.hpp"

namespace sealpost::queue {

struct DmarcReportDestination {
  std::string address;
  std::optional<std::uint64_t> size_limit;  // octets; none: any size
};

struct DmarcReportDestinations {
  std::vector<DmarcReportDestination> accepted;  // in the record's order, each address once
  std::size_t unverified = 0;  // external addresses whose domain did not agree (section 7.1)
};

// The mailto: URIs of `report`'s rua= that may receive it under section 7.1. A lookup that fails
// (time-out, no such name, no DMARC record) counts as no agreement: the URI is skipped.
boost::asio::awaitable<DmarcReportDestinations> dmarc_report_destinations(
    const auth::dmarc::Report& report, dns::Lookup& dns, const auth::dmarc::PublicSuffixList& psl);

// Queues each report with rows to its destinations, within their size limits. Returns how many
// messages were queued. Logs counts only: no domain, address or report id.
boost::asio::awaitable<std::size_t> send_dmarc_reports(std::vector<auth::dmarc::Report> reports,
                                                       dns::Lookup& dns,
                                                       const auth::dmarc::PublicSuffixList& psl,
                                                       ReportOutbox& outbox);

}  // namespace sealpost::queue
