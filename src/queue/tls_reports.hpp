// TLS-RPT (RFC 8460) reports of our outbound TLS sessions, sent once a day through the queue to
// every domain that asks for them (`_smtp._tls` TXT record, mailto: URIs): the day's counts per
// policy domain (smtp::client::TlsResults) as the section 4.4 JSON, gzip'd, in a
// multipart/report; report-type="tlsrpt" message (section 5.3) sent as every report is
// (queue/report_outbox.hpp). https: URIs get the gzip'd JSON POSTed (section 5.4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "mime/report_mail.hpp"
#include "queue/report_outbox.hpp"
#include "smtp/client/tls_rpt.hpp"

namespace sealpost::dns {
class Resolver;
}

namespace sealpost::queue {

// The report message for one policy domain (CRLF lines), unsigned.
std::string tls_report_message(const smtp::client::TlsReport& report, const mime::ReportMail& mail);

// Queues the reports for `results` (the period [start, end) in Unix seconds) through `outbox`.
// Returns how many reports were queued.
boost::asio::awaitable<std::size_t> send_tls_reports(
    std::vector<smtp::client::TlsPolicyResult> results, std::int64_t start, std::int64_t end,
    dns::Resolver& resolver, ReportOutbox& outbox, boost::asio::ssl::context* https_tls);

}  // namespace sealpost::queue
