// What happens to a submitted message (DESIGN.md "Submission"): the sender and the From: header
// must belong to the authenticated user; a missing Date: or Message-ID: is added (RFC 6409
// section 8); the message is DKIM-signed with every active key of the From: domain (RSA and
// Ed25519, RFC 8463 asks for both while receivers catch up); it is committed to the encrypted
// queue before the 250; a copy goes to the user's Sent folder; rates per user and per domain are
// bounded per hour and per day.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "auth/dkim/keyring.hpp"
#include "core/config.hpp"
#include "mime/header.hpp"
#include "queue/committer.hpp"
#include "queue/queue.hpp"
#include "routing/router.hpp"
#include "smtp/server/submission.hpp"
#include "store/mailbox/local_delivery.hpp"

namespace sealpost::delivery {

// Fixed-window counters per key (a user's address, a domain): bounded state, O(1) per check.
class SendingRates {
 public:
  struct Limits {
    std::uint32_t per_hour = 0;
    std::uint32_t per_day = 0;
  };
  // Whether one more message fits for `key` at `now` (Unix seconds).
  [[nodiscard]] bool allows(const std::string& key, const Limits& limits, std::int64_t now);
  void count(const std::string& key, std::int64_t now);

 private:
  struct Window {
    std::int64_t hour = 0, day = 0;  // the windows' numbers (now / 3600, now / 86400)
    std::uint32_t in_hour = 0, in_day = 0;
  };
  void roll(Window& w, std::int64_t now);
  std::mutex mutex_;
  std::map<std::string, Window> windows_;
};

class Submitter final : public smtp::server::SubmissionAgent {
 public:
  using Clock = std::function<std::int64_t()>;
  Submitter(const core::Config& config, const routing::Router& router, queue::Queue& queue,
            const auth::dkim::KeyringHolder& keyring, store::mailbox::MailboxDirectory& mailboxes,
            boost::asio::any_io_executor blocking, std::function<void()> queued, Clock clock);

  [[nodiscard]] std::optional<smtp::protocol::Reply> check_sender(
      const std::string& owner, std::string_view sender) const override;
  [[nodiscard]] std::optional<smtp::protocol::Reply> check_rate(const std::string& owner) override;
  // From:, Sender:, Resent-From: and Resent-Sender: name only the user's addresses, each list
  // read whole (a refusal, never a skipped address) and From: holding at most kMaxAuthors.
  [[nodiscard]] std::optional<smtp::protocol::Reply> check_identity_fields(
      const mime::Header& header, const std::string& owner) const;
  boost::asio::awaitable<smtp::protocol::Reply> submit(
      const smtp::server::SubmissionRequest& request) override;

 private:
  const core::Config& config_;
  const routing::Router& router_;
  queue::Committer committer_;  // concurrent submissions share a commit (one fsync)
  const auth::dkim::KeyringHolder& keyring_;
  store::mailbox::MailboxDirectory& mailboxes_;
  // The Sent copies, one at a time on the pool: a burst of submissions must not fill the pool
  // with copies while queue commits and mailbox reads wait for a thread.
  boost::asio::strand<boost::asio::any_io_executor> sent_copies_;
  std::function<void()> queued_;
  Clock clock_;
  SendingRates rates_;
};

// Authors one submitted From: may name (RFC 5322 allows several; more than a few is abuse).
inline constexpr std::size_t kMaxAuthors = 10;
// RFC 5322 section 2.1.1: at most 998 octets on a line before its CRLF.
inline constexpr std::size_t kMaxSubmittedLine = 998;

// A refusal when the submitted content cannot be relayed as it is (a line past
// kMaxSubmittedLine).
std::optional<smtp::protocol::Reply> check_submitted_content(std::string_view content);

// `content` without its Bcc: and Resent-Bcc: fields.
std::string without_blind_copies(std::string_view content, const mime::Header& header);

// The fields RFC 6409 section 8 lets a submission server add when the client left them out:
// "Date: ...\r\n" and "Message-ID: <random@domain>\r\n", as the header lines to put on top.
std::string missing_submission_fields(const mime::Header& header, std::string_view domain,
                                      std::int64_t now);

}  // namespace sealpost::delivery
