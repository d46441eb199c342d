#include "smtp/server/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <sodium.h>

#include "core/log.hpp"
#include "crypto/random.hpp"

namespace sealpost::smtp::server {

namespace asio = boost::asio;
using protocol::Command;
using protocol::Verb;

Session::Session(ServerContext& context, asio::ip::tcp::socket socket,
                 net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls)
    : ctx_(context),
      conn_(std::move(socket)),
      ticket_(std::move(ticket)),
      client_ip_(std::move(client_ip)),
      session_id_(crypto::random_hex(6)),
      started_(std::chrono::steady_clock::now()),
      deadline_(started_ + context.config.limits.session_timeout),
      implicit_tls_(implicit_tls) {
  conn_.set_deadlines(
      net::LineConnection::Deadlines::idle_for(context.config.limits.idle_timeout, deadline_));
  // RFC 5321 section 4.5.3.2: a server that times out should say so before closing.
  std::string goodbye;
  protocol::make_reply(421, "4.4.2", context.config.hostname + " Timeout, closing connection")
      .append_to(goodbye);
  conn_.set_goodbye(std::move(goodbye));
}

void Session::start(const std::shared_ptr<Session>& session) {
  session->conn_.start(session, serve(session));
}

asio::awaitable<void> Session::serve(std::shared_ptr<Session> self) {
  try {
    co_await self->run();
  } catch (const std::exception& e) {
    spdlog::error("session id={} internal error: {}", self->session_id_, e.what());
  }
  self->conn_.close();
}

void Session::reply(const protocol::Reply& r) {
  r.append_to(out_);
}

void Session::reply(int code, std::string_view enhanced, std::string_view text) {
  reply(protocol::make_reply(code, enhanced, text));
}

bool Session::count_error() {
  if (++errors_ < ctx_.config.limits.max_errors) return false;
  reply(421, "4.7.0", "Too many errors, closing connection");
  closing_ = true;
  end_reason_ = "errors";
  return true;
}

asio::awaitable<bool> Session::fill() {
  // RFC 2920: replies may be held while pipelined commands are pending, never while we wait.
  if (!co_await flush()) co_return false;
  const auto room = input_.prepare();
  const std::size_t n = co_await conn_.read_some(asio::buffer(room.data(), room.size()));
  input_.commit(n);
  if (n == 0 && conn_.timed_out()) end_reason_ = "timeout";
  co_return n > 0;
}

asio::awaitable<Session::LineStatus> Session::next_line(std::string& line) {
  using Line = protocol::SessionInput::Line;
  // (No co_await inside a switch: g++ 12 miscompiles that coroutine into a trap.)
  while (true) {
    const Line status = input_.next_line(line);
    if (status == Line::kLine) co_return LineStatus::kLine;
    if (status == Line::kTooLong) co_return LineStatus::kTooLong;
    if (status == Line::kBareLineEnding) co_return LineStatus::kBareLineEnding;
    if (!co_await fill()) co_return LineStatus::kClosed;
  }
}

asio::awaitable<void> Session::ask_refusing_lists() {
  boost::system::error_code bad;
  const auto client = asio::ip::make_address(client_ip_, bad);
  std::vector<std::string> lists;
  if (!bad) lists = co_await ctx_.filter->refusing_lists(client);
  refusing_lists_ = std::move(lists);
}

asio::awaitable<void> Session::run() {
  conn_.stream().socket().set_option(asio::ip::tcp::no_delay(true));
  if (implicit_tls_) {
    if (!co_await conn_.accept_tls(*ctx_.tls)) {
      spdlog::info("session id={} client={} end=tls_failed", session_id_,
                   ctx_.client_hasher.hash(client_ip_));
      co_return;
    }
  }
  reply(220, "",
        ctx_.config.hostname + (submission() ? " ESMTP Sealpost submission" : " ESMTP Sealpost"));

  std::string line;
  while (!closing_) {
    const LineStatus status = co_await next_line(line);
    if (status == LineStatus::kClosed) break;
    if (status == LineStatus::kTooLong) {
      reply(500, "5.5.2", "Line too long");
      count_error();
      continue;
    }
    if (status == LineStatus::kBareLineEnding) {
      reply(500, "5.5.2", "Command lines must end with CRLF");
      count_error();
      continue;
    }
    auto parsed = protocol::parse_command(line, tx_ && tx_->smtputf8);
    if (!parsed) {
      reply(parsed.error());
      count_error();
      continue;
    }
    const Command& cmd = parsed.value();
    switch (cmd.verb) {
      case Verb::kHelo:
      case Verb::kEhlo:
        on_helo(cmd, cmd.verb == Verb::kEhlo);
        break;
      case Verb::kMail:
        on_mail(cmd);
        break;
      case Verb::kRcpt:
        // The client's blocklist listings, asked once per session at its first recipient
        // ([filter] dnsbl_refuse_score): on_rcpt refuses it for recipients whose domain filters.
        if (tx_ && ctx_.filter != nullptr && ctx_.filter->refuses_listed_clients() &&
            !submission() && !refusing_lists_) {
          co_await ask_refusing_lists();
        }
        on_rcpt(cmd);
        break;
      case Verb::kData:
        co_await on_data();
        break;
      case Verb::kBdat:
        co_await on_bdat(cmd);
        break;
      case Verb::kRset:
        reset_transaction();
        reply(250, "2.0.0", "OK");
        break;
      case Verb::kNoop:
        reply(250, "2.0.0", "OK");
        break;
      case Verb::kQuit:
        reply(221, "2.0.0", "Bye");
        closing_ = true;
        end_reason_ = "quit";
        break;
      case Verb::kVrfy:
        // RFC 5321 section 3.5.3: never confirm or deny a user (no enumeration oracle).
        reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
        break;
      case Verb::kExpn:
        reply(502, "5.5.1", "EXPN is not available");
        count_error();
        break;
      case Verb::kHelp:
        reply(214, "2.0.0", "Sealpost: see RFC 5321");
        break;
      case Verb::kStarttls:
        co_await on_starttls();
        break;
      case Verb::kAuth:
        if (!submission()) {
          reply(502, "5.5.1", "AUTH is not available on this port");
          count_error();
          break;
        }
        co_await on_auth(cmd);
        // The credential was also in the command line and its parsed argument.
        sodium_memzero(line.data(), line.capacity());
        sodium_memzero(parsed.value().argument.data(), parsed.value().argument.capacity());
        break;
    }
  }
  co_await flush();

  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_)
                      .count();
  spdlog::info(
      "session id={} client={} port={} tls={} messages={} rcpt_ok={} rcpt_refused={} bytes={} "
      "errors={} end={} ms={}",
      session_id_, ctx_.client_hasher.hash(client_ip_), submission() ? "submission" : "mx",
      conn_.tls_version(), messages_, recipients_ok_, recipients_refused_, bytes_, errors_,
      end_reason_, ms);
}

}  // namespace sealpost::smtp::server
