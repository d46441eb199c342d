// What every report we mail (TLS-RPT, DMARC aggregate) has in common, decided in one place: the
// address it comes from, the contact it names, a DKIM signature by our host name's domain when we
// hold its keys, and a queue entry from the null sender, so the report travels sealed like any
// other outbound message and one that cannot be delivered bounces nowhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "auth/dkim/keyring.hpp"
#include "core/config.hpp"
#include "mime/report_mail.hpp"
#include "queue/queue.hpp"

namespace sealpost::queue {

class ReportOutbox {
 public:
  ReportOutbox(const core::Config& config, Queue& queue, boost::asio::any_io_executor blocking,
               const auth::dkim::KeyringHolder& keyring);

  // Our name as the report's submitter (organisation, receiver): the host name.
  [[nodiscard]] const std::string& submitter() const;
  // The contact a report names (TLS-RPT contact-info, DMARC report_metadata email).
  [[nodiscard]] std::string contact() const;
  // A new message's From, Message-ID, boundary and Date, to `recipients`.
  [[nodiscard]] mime::ReportMail mail(std::vector<std::string> recipients, std::int64_t now) const;

  // DKIM-signs `message` with the keys of our host name's domain (or its nearest parent we hold
  // keys for) and queues it to mail.recipients. Throws when the queue cannot commit.
  boost::asio::awaitable<void> send(const mime::ReportMail& mail, std::string message);

 private:
  const core::Config& config_;
  Queue& queue_;
  boost::asio::any_io_executor blocking_;
  const auth::dkim::KeyringHolder& keyring_;
};

}  // namespace sealpost::queue
