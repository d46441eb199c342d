#include "queue/report_outbox.hpp"

#include "crypto/random.hpp"
#include "net/blocking.hpp"

namespace sealpost::queue {

namespace asio = boost::asio;

ReportOutbox::ReportOutbox(const core::Config& config, Queue& queue, asio::any_io_executor blocking,
                           const auth::dkim::KeyringHolder& keyring)
    : config_(config), queue_(queue), blocking_(std::move(blocking)), keyring_(keyring) {}

const std::string& ReportOutbox::submitter() const {
  return config_.hostname;
}

std::string ReportOutbox::contact() const {
  return "postmaster@" + config_.hostname;
}

mime::ReportMail ReportOutbox::mail(std::vector<std::string> recipients, std::int64_t now) const {
  mime::ReportMail mail;
  // One sender for TLS-RPT and DMARC reports: it sends reports, and reads no replies.
  mail.from = "reports-noreply@" + config_.hostname;
  mail.recipients = std::move(recipients);
  mail.message_id = crypto::random_hex(16) + "@" + config_.hostname;
  mail.boundary = "=_report_" + crypto::random_hex(12);
  mail.now = now;
  return mail;
}

asio::awaitable<void> ReportOutbox::send(const mime::ReportMail& mail, std::string message) {
  const auto ring = keyring_.get();
  for (std::string name = config_.hostname; name.find('.') != std::string::npos;
       name.erase(0, name.find('.') + 1)) {
    if (ring->keys(name).empty()) continue;
    message.insert(0, ring->sign(message, name));
    break;
  }
  Envelope envelope;  // the null sender
  envelope.recipients = mail.recipients;
  co_await net::run_blocking(blocking_,
                             [&] { return queue_.add(envelope, message, "report", mail.now); });
}

}  // namespace sealpost::queue
