// The POP3 session's I/O, its command loop and its end. Limits: command lines as the parser
// allows (RFC 2449: 255 octets, PASS 1024), [access] max_errors -ERR replies, login_timeout from
// the connection to a successful login, pop3_idle_timeout after it (RFC 1939's autologout
// timer: closing then deletes nothing). One log line per session, with counts only.
#include "pop3/server/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "crypto/random.hpp"
#include "net/blocking.hpp"
#include "pop3/server/connection.hpp"

namespace sealpost::pop3::server {

namespace asio = boost::asio;
using protocol::Verb;

namespace {

// Output is written once this much waits (a long LIST, a message being sent).
constexpr std::size_t kFlushAt = std::size_t{64} * 1024;

}  // namespace

void start_session(access::AccessContext& context, asio::ip::tcp::socket socket,
                   net::ConnectionLimiter::Ticket ticket, std::string client_ip,
                   bool implicit_tls) {
  Connection::start(std::make_shared<Connection>(context, std::move(socket), std::move(ticket),
                                                 std::move(client_ip), implicit_tls));
}

Connection::Connection(access::AccessContext& context, asio::ip::tcp::socket socket,
                       net::ConnectionLimiter::Ticket ticket, std::string client_ip,
                       bool implicit_tls)
    : ctx_(context),
      conn_(std::move(socket)),
      ticket_(std::move(ticket)),
      client_ip_(std::move(client_ip)),
      implicit_tls_(implicit_tls),
      session_id_(crypto::random_hex(6)),
      started_(std::chrono::steady_clock::now()),
      login_deadline_(started_ + context.config.access.login_timeout) {
  // Until a login, login_timeout from the connection's start; then pop3_idle_timeout, RFC
  // 1939's autologout timer (log_in sets it). A client that stops reading is as idle as one that
  // stops writing.
  conn_.set_deadlines(net::LineConnection::Deadlines::until(login_deadline_));
  conn_.set_goodbye("-ERR Disconnected for inactivity\r\n");
}

void Connection::start(const std::shared_ptr<Connection>& connection) {
  connection->conn_.start(connection, serve(connection));
}

asio::awaitable<void> Connection::serve(std::shared_ptr<Connection> self) {
  try {
    co_await self->run();
  } catch (const std::exception& e) {
    self->end_reason_ = "internal_error";
    spdlog::error("pop3 session id={} internal error: {}", self->session_id_, e.what());
  }
  self->conn_.close();
  const bool logged_in = self->state_ == State::kTransaction;
  co_await self->release_mailbox();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - self->started_)
                      .count();
  spdlog::info(
      "pop3 session id={} client={} tls={} login={} failed_logins={} retrieved={} deleted={} "
      "bytes={} errors={} end={} ms={}",
      self->session_id_, self->ctx_.client_hasher.hash(self->client_ip_), self->conn_.tls_version(),
      logged_in ? "yes" : "no", self->failed_logins_, self->retrieved_, self->expunged_,
      self->bytes_out_, self->errors_, self->end_reason_, ms);
}

// The store closes when its last session lets go: that is SQLite work, for the worker pool.
asio::awaitable<void> Connection::release_mailbox() {
  if (!login_.mailbox) co_return;
  try {
    co_await net::run_blocking(ctx_.blocking, [&] { login_.mailbox.reset(); });
  } catch (const std::exception& e) {
    spdlog::error("pop3 session id={} closing the mailbox: {}", session_id_, e.what());
  }
  login_.ticket = {};
}

void Connection::ok(std::string_view text) {
  out_ += "+OK";
  if (!text.empty()) {
    out_ += ' ';
    out_ += text;
  }
  out_ += "\r\n";
}

void Connection::err(std::string_view text) {
  out_ += "-ERR ";
  out_ += text;
  if (++errors_ >= ctx_.config.access.max_errors && !closing_) {
    out_ += " (too many errors, closing the connection)";
    closing_ = true;
    end_reason_ = "errors";
  }
  out_ += "\r\n";
}

asio::awaitable<bool> Connection::flush_if_large() {
  if (out_.size() < kFlushAt) co_return true;
  co_return co_await flush();
}

asio::awaitable<bool> Connection::fill() {
  // RFC 2449 PIPELINING: replies wait while pipelined commands are pending, never while we read.
  if (!co_await flush()) co_return false;
  if (in_pos_ > 0) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  constexpr std::size_t kChunk = std::size_t{16} * 1024;
  const std::size_t old = in_.size();
  in_.resize(old + kChunk);
  const std::size_t n = co_await conn_.read_some(asio::buffer(in_.data() + old, kChunk));
  in_.resize(old + n);
  if (n == 0 && conn_.timed_out()) end_reason_ = "timeout";
  co_return n > 0;
}

// A line of at most `limit` octets with its line end (CRLF; a bare LF is taken too), without
// the line end. An overlong line is read to its end and dropped. Consumed input is wiped at once:
// PASS and AUTH lines carry passwords.
asio::awaitable<Connection::LineStatus> Connection::next_line(std::string& line,
                                                              std::size_t limit) {
  bool discarding = false;
  while (true) {
    const auto lf = in_.find('\n', in_pos_);
    if (lf != std::string::npos) {
      const std::size_t start = in_pos_;
      in_pos_ = lf + 1;
      const std::size_t end = lf > start && in_[lf - 1] == '\r' ? lf - 1 : lf;
      const bool fits = !discarding && lf + 1 - start <= limit;
      if (fits) line.assign(in_, start, end - start);
      sodium_memzero(in_.data() + start, in_pos_ - start);
      co_return fits ? LineStatus::kLine : LineStatus::kTooLong;
    }
    if (in_.size() - in_pos_ > limit) {
      discarding = true;  // drop what we have, keep reading to the end of the line
      sodium_memzero(in_.data(), in_.size());
      in_.clear();
      in_pos_ = 0;
    }
    if (!co_await fill()) co_return LineStatus::kClosed;
  }
}

asio::awaitable<void> Connection::run() {
  boost::system::error_code ignored;
  conn_.stream().socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (implicit_tls_) {
    if (ctx_.tls == nullptr) {
      end_reason_ = "no_tls";
      co_return;
    }
    if (!co_await conn_.accept_tls(*ctx_.tls)) {
      end_reason_ = "tls_failed";
      co_return;
    }
  }
  // No APOP timestamp: APOP needs the password stored in the clear, which a sealed mailbox
  // never has.
  ok("Sealpost POP3 ready");

  std::string line;
  while (!closing_) {
    const LineStatus status = co_await next_line(line, protocol::kMaxPassLine);
    if (status == LineStatus::kClosed) break;
    if (status == LineStatus::kTooLong) {
      err("Line too long");
      continue;
    }
    auto parsed = protocol::parse_command(line);
    sodium_memzero(line.data(), line.size());
    if (!parsed) {
      err(parsed.error());
      continue;
    }
    protocol::Command& cmd = parsed.value();
    co_await dispatch(cmd);
    sodium_memzero(cmd.argument.data(), cmd.argument.size());
    if (cmd.initial_response) {
      sodium_memzero(cmd.initial_response->data(), cmd.initial_response->size());
    }
  }
  co_await flush();
}

asio::awaitable<void> Connection::dispatch(protocol::Command& cmd) {
  if (state_ == State::kAuthorization) {
    // RFC 1939 section 7: PASS only right after USER.
    if (cmd.verb != Verb::kUser && cmd.verb != Verb::kPass) user_.clear();
    switch (cmd.verb) {
      case Verb::kCapa:
        on_capa();
        break;
      case Verb::kStls:
        co_await on_stls();
        break;
      case Verb::kUser:
        on_user(cmd);
        break;
      case Verb::kPass:
        co_await on_pass(cmd);
        break;
      case Verb::kAuth:
        co_await on_auth(cmd);
        break;
      case Verb::kApop:
        err("APOP is not offered: use USER and PASS, or AUTH PLAIN");
        break;
      case Verb::kQuit:
        ok("Sealpost POP3 signing off");
        closing_ = true;
        end_reason_ = "quit";
        break;
      default:
        err("Log in first");
        break;
    }
    co_return;
  }
  switch (cmd.verb) {
    case Verb::kCapa:
      on_capa();
      break;
    case Verb::kStat:
      on_stat();
      break;
    case Verb::kList:
      co_await on_list(cmd, /*uidl=*/false);
      break;
    case Verb::kUidl:
      co_await on_list(cmd, /*uidl=*/true);
      break;
    case Verb::kTop:
      co_await on_retr(cmd, /*top=*/true);
      break;
    case Verb::kRetr:
      co_await on_retr(cmd, /*top=*/false);
      break;
    case Verb::kDele:
      on_dele(cmd);
      break;
    case Verb::kRset:
      on_rset();
      break;
    case Verb::kNoop:
      ok("");
      break;
    case Verb::kQuit:
      co_await on_quit();
      break;
    case Verb::kUser:
    case Verb::kPass:
    case Verb::kApop:
    case Verb::kAuth:
    case Verb::kStls:
      err("Already logged in");
      break;
  }
}

}  // namespace sealpost::pop3::server
