#include "queue/tls_reports.hpp"

#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "core/gzip.hpp"
#include "core/strings.hpp"
#include "crypto/random.hpp"
#include "dns/resolver.hpp"
#include "net/https_client.hpp"

namespace sealpost::queue {

namespace asio = boost::asio;
using smtp::client::TlsPolicyResult;
using smtp::client::TlsReport;

std::string tls_report_message(const TlsReport& report, const mime::ReportMail& mail) {
  const auto& domain = report.policies.front().policy_domain;
  mime::ReportContent content;
  content.subject = mime::report_subject(domain, report.organization_name, report.report_id);
  // Section 5.3: these two fields let receivers sort reports without opening them.
  content.extra_fields = "TLS-Report-Domain: " + domain +
                         "\r\nTLS-Report-Submitter: " + report.organization_name + "\r\n";
  content.multipart = "multipart/report; report-type=\"tlsrpt\"";
  content.text = "This is an aggregate TLS report (RFC 8460) from " + report.organization_name +
                 " about the TLS sessions it made toward " + domain + ".";
  content.attachment_type = "application/tlsrpt+gzip";
  content.attachment_name = mime::report_filename(report.organization_name, domain, report.start,
                                                  report.end, report.report_id, "json.gz");
  content.attachment = core::gzip(smtp::client::tls_report_json(report));
  return mime::report_message(mail, content);
}

asio::awaitable<std::size_t> send_tls_reports(std::vector<TlsPolicyResult> results,
                                              std::int64_t start, std::int64_t end,
                                              dns::Resolver& resolver, ReportOutbox& outbox,
                                              asio::ssl::context* https_tls) {
  std::size_t queued = 0;
  std::size_t posted = 0;
  for (auto& result : results) {
    const auto txt = co_await resolver.txt("_smtp._tls." + result.policy_domain);
    if (txt.status != dns::Status::kOk) continue;
    const auto record = smtp::client::parse_tlsrpt_record(txt.records);
    if (!record) continue;
    const auto addresses = smtp::client::tlsrpt_mailto_addresses(*record);

    TlsReport report;
    report.organization_name = outbox.submitter();
    report.start = start;
    report.end = end;
    report.contact_info = outbox.contact();
    report.report_id = crypto::random_hex(16);
    report.policies.push_back(std::move(result));
    // Section 5.4: an https: URI gets the gzip'd report POSTed, as application/tlsrpt+gzip.
    for (const auto& uri : record->rua) {
      if (!https_tls || !uri.starts_with("https://")) continue;
      const auto rest = std::string_view(uri).substr(8);
      const auto slash = rest.find('/');
      const auto authority = rest.substr(0, slash);
      net::HttpsRequest post;
      post.method = "POST";
      post.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
      const auto colon = authority.rfind(':');
      post.host = std::string(authority.substr(0, colon));
      if (colon != std::string_view::npos) {
        const auto port = parse_decimal(authority.substr(colon + 1), 5);
        if (!port || *port == 0 || *port > 65535) continue;
        post.port = static_cast<std::uint16_t>(*port);
      }
      post.content_type = "application/tlsrpt+gzip";
      post.body = core::gzip(smtp::client::tls_report_json(report));
      const auto answer = co_await net::https_request(co_await asio::this_coro::executor, resolver,
                                                      *https_tls, post);
      if (answer.status >= 200 && answer.status < 300) {
        ++posted;
      } else {
        spdlog::info("tls report post failed status={} {}", answer.status, answer.error);
      }
    }
    if (addresses.empty()) continue;

    const auto mail = outbox.mail(addresses, end);
    co_await outbox.send(mail, tls_report_message(report, mail));
    ++queued;
  }
  if (queued + posted > 0) spdlog::info("tls reports queued={} posted={}", queued, posted);
  co_return queued;
}

}  // namespace sealpost::queue
