// One inbound SMTP session (RFC 5321), as one coroutine that reads like the protocol. The
// stages live in their own files (ehlo.cpp, mail.cpp, rcpt.cpp, data.cpp, starttls.cpp) so each
// stage's rules and limits are in one place; this file holds the state they share.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "access/context.hpp"
#include "net/admission.hpp"
#include "net/line_connection.hpp"
#include "smtp/protocol/command.hpp"
#include "smtp/protocol/reply.hpp"
#include "smtp/protocol/session_input.hpp"
#include "smtp/server/server_context.hpp"

namespace sealpost::smtp::server {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `implicit_tls`: TLS from the first byte (port 465, RFC 8314) instead of STARTTLS.
  Session(ServerContext& context, boost::asio::ip::tcp::socket socket,
          net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls = false);

  // Starts the session on its own strand; it keeps itself alive until it ends.
  static void start(const std::shared_ptr<Session>& session);

 private:
  // One mail transaction: MAIL, RCPTs, and the content as it arrives.
  struct Transaction {
    explicit Transaction(net::ByteBudget& budget) : reservation(budget) {}
    std::string sender;  // reverse-path as received; empty for <>
    bool smtputf8 = false;
    bool eightbit = false;
    std::uint32_t recipients = 0;
    std::vector<std::string> destinations;                // distinct normalised addresses
    std::vector<store::mailbox::LocalMailbox> mailboxes;  // distinct mailboxes
    std::string seal_domain;  // the first forwarded recipient's domain: its key ARC-seals
    // What the content filter does for every recipient: the first one's domain decides.
    std::optional<filter::Treatment> treatment;
    std::string content;
    net::BudgetReservation reservation;
    // BDAT state (RFC 3030)
    bool chunking = false;
    bool chunk_failed = false;
    bool oversize = false;
    bool over_budget = false;
  };

  enum class LineStatus { kLine, kTooLong, kBareLineEnding, kClosed };

  static boost::asio::awaitable<void> serve(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<LineStatus> next_line(std::string& line);
  // Reads more of the client's input (after writing the replies that wait); false when the
  // connection ended.
  boost::asio::awaitable<bool> fill();
  boost::asio::awaitable<bool> flush() { return conn_.write(out_); }
  void reply(const protocol::Reply& r);
  void reply(int code, std::string_view enhanced, std::string_view text);
  // Sends what is pending and ends the session without losing it (LineConnection::hang_up).
  boost::asio::awaitable<void> hang_up();
  // Counts a protocol error; true when the session must end because of too many.
  bool count_error();

  // Stages.
  void on_helo(const protocol::Command& cmd, bool extended);
  void on_mail(const protocol::Command& cmd);
  void on_rcpt(const protocol::Command& cmd);
  // Sets refusing_lists_ ([filter] dnsbl_refuse_score).
  boost::asio::awaitable<void> ask_refusing_lists();
  boost::asio::awaitable<void> on_data();
  boost::asio::awaitable<void> on_bdat(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_starttls();
  boost::asio::awaitable<void> on_auth(const protocol::Command& cmd);
  // One SASL continuation (RFC 4954 section 4): "334 challenge", then the client's line; nullopt
  // when the session ended or the exchange was refused (the reply is written).
  boost::asio::awaitable<std::optional<std::string>> sasl_response(std::string_view challenge);
  void on_rcpt_submission(const protocol::Command& cmd);
  boost::asio::awaitable<void> finish_message();
  boost::asio::awaitable<void> finish_submission();
  [[nodiscard]] bool submission() const noexcept { return ctx_.submission != nullptr; }
  std::string received_header() const;
  void reset_transaction() { tx_.reset(); }

  ServerContext& ctx_;
  net::LineConnection conn_;
  net::ConnectionLimiter::Ticket ticket_;
  std::string client_ip_;
  // The DNSBL zones that refuse this client at RCPT (empty: none), once asked.
  std::optional<std::vector<std::string>> refusing_lists_;
  bool dnsbl_refusal_logged_ = false;
  std::string session_id_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_;

  protocol::SessionInput input_{protocol::kMaxCommandLine};
  std::string out_;

  std::string helo_;
  bool extended_ = false;
  bool implicit_tls_ = false;

  // Submission: who logged in (AUTH), and their mailbox, open for the Sent copy.
  std::string user_;
  std::shared_ptr<store::mailbox::OpenMailbox> mailbox_;
  access::SessionCounter::Ticket login_ticket_;
  std::uint32_t auth_failures_ = 0;
  std::optional<Transaction> tx_;
  bool closing_ = false;
  std::string end_reason_ = "eof";

  // For the session's log line: counts only.
  std::uint32_t messages_ = 0;
  std::uint32_t recipients_ok_ = 0;
  std::uint32_t recipients_refused_ = 0;
  std::uint32_t unknown_recipients_ = 0;
  std::uint32_t errors_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace sealpost::smtp::server
