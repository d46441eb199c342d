#include "queue/tls_reports.hpp"

#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "access/login.hpp"
#include "core/gzip.hpp"
#include "core/strings.hpp"
#include "crypto/random.hpp"
#include "dns/resolver.hpp"
#include "mime/content.hpp"
#include "net/blocking.hpp"
#include "smtp/client/https_client.hpp"

namespace sealpost::queue {

namespace asio = boost::asio;
using smtp::client::TlsPolicyResult;
using smtp::client::TlsReport;

namespace {

// Base64 in lines of 76 characters (RFC 2045 section 6.8).
std::string wrapped_base64(std::string_view bytes) {
  const std::string b64 = access::encode_base64(bytes);
  std::string out;
  out.reserve(b64.size() + b64.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    out.append(b64, i, 76);
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string tls_report_message(const TlsReport& report, const TlsReportMail& mail) {
  const auto& domain = report.policies.front().policy_domain;
  const std::string json = smtp::client::tls_report_json(report);
  const std::string file = smtp::client::tls_report_filename(
      report.organization_name, domain, report.start, report.end, report.report_id);
  std::string to;
  for (const auto& r : mail.recipients) to += (to.empty() ? "" : ", ") + r;
  std::string m;
  m += "From: " + mail.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Date: " + mime::format_rfc5322_date(mail.now) + "\r\n";
  m += "Message-ID: <" + mail.message_id + ">\r\n";
  m += "Subject: " +
       smtp::client::tls_report_subject(domain, report.organization_name, report.report_id) +
       "\r\n";
  // Section 5.3: these two fields let receivers sort reports without opening them.
  m += "TLS-Report-Domain: " + domain + "\r\n";
  m += "TLS-Report-Submitter: " + report.organization_name + "\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"" + mail.boundary +
       "\"\r\n\r\n";
  m += "--" + mail.boundary + "\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is an aggregate TLS report (RFC 8460) from " + report.organization_name +
       " about the TLS sessions it made toward " + domain + ".\r\n\r\n";
  m += "--" + mail.boundary + "\r\n";
  m += "Content-Type: application/tlsrpt+gzip\r\n";
  m += "Content-Transfer-Encoding: base64\r\n";
  m += "Content-Disposition: attachment; filename=\"" + file + "\"\r\n\r\n";
  m += wrapped_base64(core::gzip(json));
  m += "\r\n--" + mail.boundary + "--\r\n";
  return m;
}

asio::awaitable<std::size_t> send_tls_reports(std::vector<TlsPolicyResult> results,
                                              std::int64_t start, std::int64_t end,
                                              const core::Config& config, dns::Resolver& resolver,
                                              Queue& queue, asio::any_io_executor blocking,
                                              const auth::dkim::KeyringHolder& keyring,
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
    report.organization_name = config.hostname;
    report.start = start;
    report.end = end;
    report.contact_info = "postmaster@" + config.hostname;
    report.report_id = crypto::random_hex(16);
    report.policies.push_back(std::move(result));
    // Section 5.4: an https: URI gets the gzip'd report POSTed, as application/tlsrpt+gzip.
    for (const auto& uri : record->rua) {
      if (!https_tls || !uri.starts_with("https://")) continue;
      const auto rest = std::string_view(uri).substr(8);
      const auto slash = rest.find('/');
      const auto authority = rest.substr(0, slash);
      smtp::client::HttpsRequest post;
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
      const auto answer = co_await smtp::client::https_request(co_await asio::this_coro::executor,
                                                               resolver, *https_tls, post);
      if (answer.status >= 200 && answer.status < 300) {
        ++posted;
      } else {
        spdlog::info("tls report post failed status={} {}", answer.status, answer.error);
      }
    }
    if (addresses.empty()) continue;

    TlsReportMail mail;
    mail.from = "tlsrpt-noreply@" + config.hostname;
    mail.recipients = addresses;
    mail.message_id = crypto::random_hex(16) + "@" + config.hostname;
    mail.boundary = "=_tlsrpt_" + crypto::random_hex(12);
    mail.now = end;
    std::string message = tls_report_message(report, mail);

    // DKIM-sign with the keys of our host name's domain (or a parent) when we host it.
    const auto ring = keyring.get();
    for (std::string name = config.hostname; name.find('.') != std::string::npos;
         name.erase(0, name.find('.') + 1)) {
      if (ring->keys(name).empty()) continue;
      message.insert(0, ring->sign(message, name));
      break;
    }

    Envelope envelope;  // the null sender: a report that cannot be delivered bounces nowhere
    envelope.recipients = addresses;
    co_await net::run_blocking(blocking,
                               [&] { return queue.add(envelope, message, "report", end); });
    ++queued;
  }
  if (queued + posted > 0) spdlog::info("tls reports queued={} posted={}", queued, posted);
  co_return queued;
}

}  // namespace sealpost::queue
