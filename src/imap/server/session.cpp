// The IMAP session: reading and framing commands, writing answers, the deadlines, and the
// dispatch of each command to its handler (commands/) in the states the command table allows.
#include "imap/server/session.hpp"

#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/strings.hpp"
#include "crypto/random.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;

namespace {

// Before login, literals carry only names and credentials: no large APPEND from a stranger.
ReaderLimits limits_before_login(const core::Config& config) {
  ReaderLimits l;
  l.max_line = config.access.max_command_line;
  l.max_literal = l.max_argument_literal;
  l.max_command = std::uint64_t{2} * l.max_line + l.max_argument_literal;
  l.wipe = true;
  return l;
}

}  // namespace

std::string internal_date(std::int64_t unix_time) {
  const std::time_t t = unix_time;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "\"%d-%b-%Y %H:%M:%S +0000\"", &tm);
  return {buf, n};
}

void start_session(access::AccessContext& context, asio::ip::tcp::socket socket,
                   net::ConnectionLimiter::Ticket ticket, std::string client_ip,
                   bool implicit_tls) {
  Session::start(std::make_shared<Session>(context, std::move(socket), std::move(ticket),
                                           std::move(client_ip), implicit_tls));
}

Session::Session(access::AccessContext& context, asio::ip::tcp::socket socket,
                 net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls)
    : ctx_(context),
      conn_(std::move(socket)),
      ticket_(std::move(ticket)),
      client_ip_(std::move(client_ip)),
      implicit_tls_(implicit_tls),
      session_id_(crypto::random_hex(6)),
      started_(std::chrono::steady_clock::now()),
      login_deadline_(started_ + context.config.access.login_timeout),
      reader_(limits_before_login(context.config)),
      wake_(conn_.stream().socket().get_executor()) {
  // Until a login, login_timeout from the connection's start (commands do not push it back);
  // then idle_timeout (finish_login).
  conn_.set_deadlines(net::LineConnection::Deadlines::until(login_deadline_));
  conn_.set_goodbye("* BYE Autologout; no login in time\r\n");
}

Session::~Session() {
  if (mailbox_ && watcher_) mailbox_->unwatch(watcher_);
}

void Session::start(const std::shared_ptr<Session>& session) {
  session->conn_.start(session, serve(session));
}

asio::awaitable<void> Session::serve(std::shared_ptr<Session> self) {
  try {
    co_await self->run();
  } catch (const std::exception& e) {
    spdlog::error("imap session id={} internal error: {}", self->session_id_, e.what());
  }
  self->reader_.wipe();  // a LOGIN the connection ended in the middle of
  sodium_memzero(self->in_.data(), self->in_.size());
  self->wake_.cancel();
  self->conn_.close();
  if (self->mailbox_ && self->watcher_) {
    self->mailbox_->unwatch(self->watcher_);
    self->watcher_ = 0;
  }
}

bool Session::count_error() {
  if (++errors_ < ctx_.config.access.max_errors) return false;
  out_ += "* BYE Too many errors\r\n";
  closing_ = true;
  end_reason_ = "errors";
  return true;
}

void Session::tagged(const Command& cmd, std::string_view status, std::string_view text) {
  out_ += cmd.tag;
  out_ += ' ';
  out_ += status;
  out_ += ' ';
  out_ += text;
  out_ += "\r\n";
}

ParseOptions Session::parse_options() const {
  ParseOptions o;
  o.utf8 = utf8_;
  return o;
}

asio::awaitable<bool> Session::flush_if_large() {
  if (out_.size() < kOutputHigh) co_return true;
  co_return co_await flush(false);
}

asio::awaitable<bool> Session::send_literal(std::string_view bytes, bool binary) {
  if (binary && bytes.find('\0') != std::string_view::npos) out_ += '~';
  out_ += '{';
  out_ += std::to_string(bytes.size());
  out_ += "}\r\n";
  co_return co_await send_text(bytes);
}

asio::awaitable<bool> Session::send_text(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::string_view piece = bytes.substr(0, kOutputPiece);
    out_ += piece;
    bytes.remove_prefix(piece.size());
    if (!co_await flush_if_large()) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::send_numbers(const std::vector<std::uint32_t>& numbers) {
  for (const auto n : numbers) {
    out_ += ' ';
    out_ += std::to_string(n);
    if (!co_await flush_if_large()) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::fill() {
  if (!idle_reading_ && !co_await flush()) co_return false;
  const std::size_t n = co_await conn_.read_some(asio::buffer(in_));
  in_pos_ = 0;
  in_end_ = n;
  if (n == 0 && conn_.timed_out()) {
    end_reason_ = "timeout";
    out_.clear();  // the goodbye was the last word
  }
  co_return n > 0;
}

asio::awaitable<std::optional<ReadStatus>> Session::next_unit() {
  while (true) {
    if (in_pos_ < in_end_) {
      std::size_t used = 0;
      const ReadStatus st =
          reader_.feed(std::string_view(in_.data() + in_pos_, in_end_ - in_pos_), used);
      // Before login the input carries passwords: the reader has its copy, this one goes.
      if (state_ == State::kNotAuthenticated) sodium_memzero(in_.data() + in_pos_, used);
      in_pos_ += used;
      if (st != ReadStatus::kNeedMore) co_return st;
      if (in_pos_ < in_end_) continue;
    }
    if (!co_await fill()) co_return std::nullopt;
  }
}

asio::awaitable<void> Session::run() {
  conn_.stream().socket().set_option(asio::ip::tcp::no_delay(true));
  if (implicit_tls_) {
    if (!co_await conn_.accept_tls(*ctx_.tls)) {
      end_reason_ = "tls_failed";
      co_return;
    }
  }
  out_ = "* OK [CAPABILITY " + capabilities() + "] Sealpost ready\r\n";

  while (!closing_) {
    const auto status = co_await next_unit();
    if (!status) break;
    switch (*status) {
      case ReadStatus::kNeedMore:
        break;
      case ReadStatus::kContinue:
        out_ += "+ Ready for literal data\r\n";
        reader_.accept_literal();
        break;
      case ReadStatus::kTooLarge: {
        std::string tag(reader_.tag());
        if (tag.empty()) tag = "*";
        const auto what = reader_.overflow();
        if (what == Overflow::kLiteral && reader_.appending() &&
            reader_.literal_size() > ctx_.config.limits.max_message_size &&
            state_ != State::kNotAuthenticated) {
          out_ += tag + " NO [TOOBIG] The message is larger than APPENDLIMIT\r\n";
        } else if (what == Overflow::kLine) {
          out_ += tag + " BAD Command line too long\r\n";
        } else if (what == Overflow::kNonSyncLiteral) {
          out_ += tag + " BAD Non-synchronizing literal too large\r\n";
        } else {
          out_ += tag + " BAD Command too large\r\n";
        }
        if (!reader_.client_waiting() && reader_.literal_size() == UINT64_MAX) {
          closing_ = true;
          end_reason_ = "overflow";
          break;
        }
        reader_.discard();
        count_error();
        break;
      }
      case ReadStatus::kReady: {
        ++commands_;
        auto parsed = parse_command(reader_.command(), parse_options());
        if (!parsed) {
          const auto& e = parsed.error();
          out_ += e.tag.empty() ? "*" : e.tag;
          out_ += " BAD " + e.reason + "\r\n";
          count_error();
        } else {
          reader_advanced_ = false;
          co_await dispatch(parsed.value());
          wipe_credentials(parsed.value());
        }
        if (!reader_advanced_) reader_.next();
        reader_advanced_ = false;
        break;
      }
    }
  }
  co_await flush();

  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_)
                      .count();
  spdlog::info(
      "imap session id={} client={} tls={} login={} commands={} bytes_out={} peak_out={} "
      "errors={} end={} ms={}",
      session_id_, ctx_.client_hasher.hash(client_ip_), conn_.tls_version(),
      mailbox_ ? "yes" : "no", commands_, conn_.bytes_out(), conn_.peak_out(), errors_, end_reason_,
      ms);
}

namespace {

// Why a command is refused in a state its row does not name.
std::string refusal(const CommandSpec& spec, State state) {
  if (state == State::kNotAuthenticated) return "Log in first";
  if (!spec.states.has(State::kAuthenticated) && !spec.states.has(State::kSelected)) {
    return "Already logged in";
  }
  if (state == State::kSelected) return std::string(spec.name) + " is valid only before SELECT";
  return "No mailbox selected";
}

}  // namespace

asio::awaitable<void> Session::dispatch(const Command& cmd) {
  const CommandSpec& spec = command_spec(cmd.name);
  if (!spec.states.has(state_)) {
    tagged(cmd, "BAD", refusal(spec, state_));
    count_error();
    co_return;
  }
  co_await (this->*kHandlers[static_cast<std::size_t>(cmd.name)])(cmd);
}

}  // namespace sealpost::imap::server
