// One POP3 connection, as one coroutine on its strand that reads like RFC 1939's state machine:
// AUTHORIZATION (authorization.cpp: CAPA, STLS, USER/PASS, AUTH PLAIN), TRANSACTION
// (transaction.cpp: STAT, LIST, UIDL, TOP, RETR, DELE, RSET, NOOP) and UPDATE at QUIT. This file
// holds the state they share; session.cpp the I/O, the command loop and the session's log line.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "access/context.hpp"
#include "access/login.hpp"
#include "net/admission.hpp"
#include "net/line_connection.hpp"
#include "pop3/protocol/command.hpp"
#include "pop3/server/maildrop.hpp"

namespace sealpost::pop3::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(access::AccessContext& context, boost::asio::ip::tcp::socket socket,
             net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls);

  // Starts the session on the socket's strand; it keeps itself alive until it ends.
  static void start(const std::shared_ptr<Connection>& connection);

 private:
  enum class State { kAuthorization, kTransaction };
  enum class LineStatus { kLine, kTooLong, kClosed };

  static boost::asio::awaitable<void> serve(std::shared_ptr<Connection> self);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> dispatch(protocol::Command& cmd);
  boost::asio::awaitable<void> release_mailbox();

  // I/O. Replies are held in `out_` while pipelined commands wait, and flushed before a read.
  boost::asio::awaitable<LineStatus> next_line(std::string& line, std::size_t limit);
  boost::asio::awaitable<bool> fill();
  boost::asio::awaitable<bool> flush() { return conn_.write(out_); }
  // Flushes once `out_` holds enough to be worth a write (long multi-line responses).
  boost::asio::awaitable<bool> flush_if_large();
  void ok(std::string_view text);
  // An -ERR, counted; the one that reaches [access] max_errors also ends the session.
  void err(std::string_view text);

  // authorization.cpp
  void on_capa();
  void on_user(const protocol::Command& cmd);
  boost::asio::awaitable<void> on_pass(protocol::Command& cmd);
  boost::asio::awaitable<void> on_auth(protocol::Command& cmd);
  boost::asio::awaitable<void> on_stls();
  boost::asio::awaitable<void> log_in(const std::string& user, std::string& password);
  [[nodiscard]] bool passwords_allowed() const;
  void refuse_password();

  // transaction.cpp
  void on_stat();
  boost::asio::awaitable<void> on_list(const protocol::Command& cmd, bool uidl);
  boost::asio::awaitable<void> on_retr(const protocol::Command& cmd, bool top);
  void on_dele(const protocol::Command& cmd);
  void on_rset();
  boost::asio::awaitable<void> on_quit();
  // The message `number` for a command about it, or null after answering -ERR.
  const MaildropMessage* message_or_err(std::uint32_t number);

  access::AccessContext& ctx_;
  net::LineConnection conn_;
  net::ConnectionLimiter::Ticket ticket_;
  std::string client_ip_;
  bool implicit_tls_;
  std::string session_id_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point login_deadline_;

  std::string in_;
  std::size_t in_pos_ = 0;  // lines before it are consumed, and wiped (they may be passwords)
  std::string out_;

  State state_ = State::kAuthorization;
  std::string user_;  // from USER, for the PASS that must follow it
  bool closing_ = false;
  std::string end_reason_ = "eof";

  // TRANSACTION state.
  access::LoginResult login_;
  std::int64_t folder_ = 0;  // the INBOX
  Maildrop drop_;

  // For the session's log line: counts only.
  std::uint32_t failed_logins_ = 0;
  std::uint32_t retrieved_ = 0;
  std::uint32_t expunged_ = 0;
  std::uint32_t errors_ = 0;
  std::uint64_t bytes_out_ = 0;
};

}  // namespace sealpost::pop3::server
