// The AUTHORIZATION state: CAPA (RFC 2449), STLS (RFC 2595), USER/PASS (RFC 1939) and
// AUTH PLAIN (RFC 5034, RFC 4616), then the maildrop taken at login. Passwords are refused until
// TLS is up unless access::password_allowed says otherwise (loopback, when the operator allows
// it); CAPA then offers neither USER nor SASL, so a client knows to send STLS first. Replies
// carry RFC 2449/3206 response codes: [AUTH] for credentials, [SYS/TEMP] for throttling, [IN-USE]
// for the bound on sessions per mailbox.
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/strings.hpp"
#include "net/blocking.hpp"
#include "pop3/server/connection.hpp"

namespace sealpost::pop3::server {

namespace asio = boost::asio;
using store::mailbox::MessageStore;

namespace {

// A line answering the AUTH challenge: base64 of "\0user\0password" at their longest.
constexpr std::size_t kMaxSaslLine = 2048;

// Wipes a string's whole buffer: a moved-from string keeps its old bytes there.
void wipe(std::string& s) noexcept {
  sodium_memzero(s.data(), s.capacity());
  s.clear();
}

}  // namespace

bool Connection::passwords_allowed() const {
  return access::password_allowed(ctx_, conn_.is_tls(), client_ip_);
}

void Connection::refuse_password() {
  if (ctx_.tls != nullptr && !conn_.is_tls()) {
    err("[SYS/PERM] TLS required: send STLS first, passwords are not accepted in plaintext");
  } else {
    err("[SYS/PERM] Passwords are not accepted on this connection");
  }
}

void Connection::on_capa() {
  ok("Capability list follows");
  out_ +=
      "TOP\r\n"
      "UIDL\r\n"
      "RESP-CODES\r\n"
      "AUTH-RESP-CODE\r\n"
      "PIPELINING\r\n";
  if (state_ == State::kAuthorization) {
    if (passwords_allowed()) out_ += "USER\r\nSASL PLAIN\r\n";
    if (ctx_.tls != nullptr && !conn_.is_tls()) out_ += "STLS\r\n";
  }
  out_ += "IMPLEMENTATION Sealpost\r\n.\r\n";
}

// RFC 2595 section 4. What the client pipelined after STLS is discarded: plaintext commands
// must never be read as if they came over TLS (the CVE-2011-0411 injection).
asio::awaitable<void> Connection::on_stls() {
  if (ctx_.tls == nullptr) {
    err("STLS is not available");
    co_return;
  }
  if (conn_.is_tls()) {
    err("TLS is already active");
    co_return;
  }
  ok("Begin TLS negotiation");
  sodium_memzero(in_.data(), in_.size());
  in_.clear();
  in_pos_ = 0;
  const auto started = co_await conn_.start_tls(*ctx_.tls, out_);
  if (started != net::LineConnection::TlsStart::kStarted) {
    closing_ = true;
    if (started == net::LineConnection::TlsStart::kHandshakeFailed) end_reason_ = "tls_failed";
    co_return;
  }
  user_.clear();
}

void Connection::on_user(const protocol::Command& cmd) {
  if (!passwords_allowed()) {
    refuse_password();
    return;
  }
  // The same answer for every name: no account enumeration.
  user_ = cmd.argument;
  ok("Send PASS");
}

asio::awaitable<void> Connection::on_pass(protocol::Command& cmd) {
  if (!passwords_allowed()) {
    refuse_password();
    co_return;
  }
  if (user_.empty()) {
    err("Send USER first");
    co_return;
  }
  const std::string user = std::exchange(user_, std::string());
  co_await log_in(user, cmd.argument);
}

asio::awaitable<void> Connection::on_auth(protocol::Command& cmd) {
  if (!passwords_allowed()) {
    refuse_password();
    co_return;
  }
  if (cmd.argument.empty()) {
    // A bare AUTH lists the mechanisms (what clients older than CAPA ask).
    ok("Mechanisms follow");
    out_ += "PLAIN\r\n.\r\n";
    co_return;
  }
  if (!iequals(cmd.argument, "PLAIN")) {
    err("Unsupported SASL mechanism: use PLAIN");
    co_return;
  }
  std::string response;
  if (cmd.initial_response) {
    if (*cmd.initial_response != "=") response = *cmd.initial_response;  // "=": empty
  } else {
    out_ += "+ \r\n";
    std::string line;
    const LineStatus status = co_await next_line(line, kMaxSaslLine);
    if (status == LineStatus::kClosed) {
      closing_ = true;
      co_return;
    }
    if (status == LineStatus::kTooLong) {
      err("SASL response too long");
      co_return;
    }
    auto parsed = protocol::parse_sasl_response(line);
    if (!parsed) {
      wipe(line);
      err(parsed.error());
      co_return;
    }
    if (parsed->cancelled) {
      err("Authentication cancelled");  // RFC 5034 section 4
      co_return;
    }
    response.assign(parsed->base64);
    wipe(line);
  }
  auto credentials = access::decode_sasl_plain(response);
  wipe(response);
  if (!credentials) {
    err("Malformed SASL PLAIN response");
    co_return;
  }
  co_await log_in(credentials->user, credentials->password);
}

asio::awaitable<void> Connection::log_in(const std::string& user, std::string& password) {
  // The work is ours now, not the client's: the login deadline gives way while it runs (a first
  // login may import a large spool).
  conn_.watchdog().arm_for(ctx_.config.access.pop3_idle_timeout);
  access::LoginResult result = co_await access::login(ctx_, client_ip_, user, std::move(password));
  wipe(password);
  switch (result.status) {
    case access::LoginStatus::kOk:
      break;
    case access::LoginStatus::kFailed:
      ++failed_logins_;
      err("[AUTH] Authentication failed");
      co_return;
    case access::LoginStatus::kThrottled:
      ++failed_logins_;
      err("[SYS/TEMP] Too many failed logins, try again later");
      co_return;
    case access::LoginStatus::kTooManySessions:
      err("[IN-USE] Too many sessions for this mailbox, try again later");
      co_return;
    case access::LoginStatus::kBusy:
      err("[SYS/TEMP] Too many logins in progress, try again shortly");
      co_return;
  }
  login_ = std::move(result);

  // The maildrop: the INBOX's UIDs and sizes now. Mail that arrives later waits for the next
  // session; the bytes are read one message at a time, by RETR and TOP.
  bool failed = false;
  try {
    co_await net::run_blocking(ctx_.blocking, [&] {
      login_.mailbox->with([&](MessageStore& message_store) {
        const store::mailbox::Folder inbox =
            message_store.special_folder(store::mailbox::SpecialUse::kInbox);
        std::vector<MaildropMessage> messages;
        for (const store::mailbox::MessageInfo& m : message_store.messages(inbox.id)) {
          messages.push_back({.uid = m.uid, .size = m.size});
        }
        folder_ = inbox.id;
        drop_ = Maildrop(inbox.uidvalidity, std::move(messages));
      });
    });
  } catch (const std::exception& e) {
    spdlog::error("pop3 session id={} reading the maildrop: {}", session_id_, e.what());
    failed = true;
  }
  if (failed) {
    co_await release_mailbox();
    err("[SYS/TEMP] The mailbox cannot be read now, try again later");
    co_return;
  }
  state_ = State::kTransaction;
  conn_.set_deadlines(
      net::LineConnection::Deadlines::idle_for(ctx_.config.access.pop3_idle_timeout));
  ok(fmt::format("Logged in, {} messages ({} octets)", drop_.live_count(), drop_.live_octets()));
}

}  // namespace sealpost::pop3::server
