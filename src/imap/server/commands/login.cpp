// LOGIN (RFC 9051 section 6.2.3), and what every login ends with: the mailbox unlocked, the
// larger limits of a logged-in session.
#include <sodium.h>

#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

namespace {

ReaderLimits limits_after_login(const core::Config& config) {
  ReaderLimits l;
  l.max_line = config.access.max_command_line;
  l.max_literal = config.limits.max_message_size;
  l.max_command = l.max_literal + l.max_line + l.max_argument_literal * 4;
  return l;
}

}  // namespace

bool Session::refused_password(const Command& cmd) {
  if (access::password_allowed(ctx_, conn_.is_tls(), client_ip_)) return false;
  tagged(cmd, "NO", "[PRIVACYREQUIRED] Use STARTTLS (or port 993) before sending a password");
  count_error();
  return true;
}

asio::awaitable<void> Session::on_login(const Command& cmd) {
  const auto& args = std::get<Login>(cmd.arguments);
  if (refused_password(cmd)) co_return;
  co_await finish_login(cmd, args.user, args.password);
}

// Zeroes a string's whole buffer: a moved-from or shrunk string keeps old octets there.
void wipe(std::string& s) noexcept {
  s.resize(s.capacity());
  sodium_memzero(s.data(), s.size());
  s.clear();
}

asio::awaitable<void> Session::finish_login(const Command& cmd, std::string user,
                                            std::string password) {
  co_await flush();
  // The work is ours now, not the client's: the login deadline gives way while it runs (a first
  // login may import a large spool), as POP3 does.
  conn_.watchdog().arm_for(ctx_.config.access.idle_timeout);
  auto result = co_await access::login(ctx_, client_ip_, user, std::move(password));
  wipe(password);  // moved from, but a short one was copied
  switch (result.status) {
    case access::LoginStatus::kOk:
      break;
    case access::LoginStatus::kFailed:
      tagged(cmd, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
      count_error();
      co_return;
    case access::LoginStatus::kThrottled:
      tagged(cmd, "NO", "[UNAVAILABLE] Too many failed logins, try again later");
      count_error();
      co_return;
    case access::LoginStatus::kTooManySessions:
      tagged(cmd, "NO", "[LIMIT] Too many sessions for this mailbox");
      co_return;
    case access::LoginStatus::kBusy:
      tagged(cmd, "NO", "[UNAVAILABLE] Too many logins in progress, try again shortly");
      co_return;
  }
  mailbox_ = std::move(result.mailbox);
  user_ticket_ = std::move(result.ticket);
  state_ = State::kAuthenticated;
  conn_.set_deadlines(net::LineConnection::Deadlines::idle_for(ctx_.config.access.idle_timeout));
  conn_.set_goodbye("* BYE Autologout; idle for too long\r\n");
  reader_.next();  // wipes the LOGIN or AUTHENTICATE that is still in it
  reader_ = CommandReader(limits_after_login(ctx_.config));
  // The ready command lives in the old reader: nothing more to read from it.
  reader_advanced_ = true;
  watch_mailbox();
  tagged(cmd, "OK", "[CAPABILITY " + capabilities() + "] Logged in");
}

}  // namespace sealpost::imap::server
