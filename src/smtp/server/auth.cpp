// AUTH (RFC 4954) on the submission ports: SASL PLAIN (RFC 4616) and LOGIN, over TLS only. The
// credential unlocks the user's mailbox exactly as an IMAP login does (Argon2id on the worker
// pool, throttled per client and per account); it is wiped once used and never logged.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "access/login.hpp"
#include "core/base64.hpp"
#include "core/strings.hpp"
#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

namespace {

// Failed AUTH attempts in one session before it is closed (the throttle slows each one too).
constexpr std::uint32_t kMaxAuthFailures = 3;

// Zeroes the whole buffer, spare capacity included (a shorter value may have been assigned over
// a longer secret), then empties it.
void wipe(std::string& s) {
  sodium_memzero(s.data(), s.capacity());
  s.clear();
}

}  // namespace

boost::asio::awaitable<std::optional<std::string>> Session::sasl_response(
    std::string_view challenge) {
  reply(334, "", challenge);
  std::string line;
  const LineStatus status = co_await next_line(line);
  if (status == LineStatus::kClosed) {
    closing_ = true;
    co_return std::nullopt;
  }
  if (status != LineStatus::kLine) {
    reply(500, "5.5.2", "Line too long or not ended by CRLF");
    count_error();
    co_return std::nullopt;
  }
  if (line == "*") {  // RFC 4954 section 4: the client cancels
    reply(501, "5.7.0", "Authentication cancelled");
    co_return std::nullopt;
  }
  std::string response = std::move(line);
  wipe(line);  // a short (in-place) string is copied by a move, not taken
  co_return response;
}

boost::asio::awaitable<void> Session::on_auth(const protocol::Command& cmd) {
  if (!conn_.is_tls()) {
    reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
    count_error();
    co_return;
  }
  if (helo_.empty() || !extended_) {
    reply(503, "5.5.1", "Send EHLO first");
    count_error();
    co_return;
  }
  if (!user_.empty()) {
    reply(503, "5.5.1", "Already authenticated");
    count_error();
    co_return;
  }
  if (tx_) {
    reply(503, "5.5.1", "AUTH not allowed during a mail transaction");
    count_error();
    co_return;
  }
  const std::string_view arg = cmd.argument;
  const auto sp = arg.find(' ');
  const std::string_view mechanism = arg.substr(0, sp);
  std::optional<std::string> initial;
  if (sp != std::string_view::npos) initial = std::string(trim(arg.substr(sp + 1)));
  // Whatever happens below, no copy of the credential outlives the exchange: the responses are
  // wiped as they are decoded, the rest here.
  struct Scrub {
    Session& session;
    std::optional<std::string>& initial;
    ~Scrub() {
      if (initial) wipe(*initial);
      session.input_.scrub_consumed();
    }
  } scrub{*this, initial};

  std::string user;
  std::string password;
  const auto decode = [this](std::string_view b64, std::string& out) {
    // "=" is the empty initial response (RFC 4954 section 4).
    if (b64 == "=") {
      out.clear();
      return true;
    }
    auto decoded = core::base64_decode(b64, core::Base64Mode::kStrict);
    if (!decoded) {
      reply(501, "5.5.2", "Cannot decode the response (base64 expected)");
      count_error();
      return false;
    }
    out = std::move(*decoded);
    return true;
  };

  if (iequals(mechanism, "PLAIN")) {
    std::string response;
    if (initial) {
      response = *initial;
    } else {
      auto r = co_await sasl_response("");
      if (!r) co_return;
      response = *r;
      wipe(*r);
    }
    std::string raw;
    const bool ok = decode(response, raw);
    wipe(response);
    if (!ok) co_return;
    auto creds = access::parse_sasl_plain(raw);
    wipe(raw);
    if (!creds) {
      reply(501, "5.5.2", "Malformed PLAIN response");
      count_error();
      co_return;
    }
    user = creds->user;
    password = creds->password;
    wipe(creds->password);
  } else if (iequals(mechanism, "LOGIN")) {
    // The draft-murchison-sasl-login exchange: "Username:" then "Password:", base64 both ways.
    std::string response;
    if (initial) {
      response = std::move(*initial);
    } else {
      auto r = co_await sasl_response("VXNlcm5hbWU6");
      if (!r) co_return;
      response = std::move(*r);
    }
    if (!decode(response, user)) co_return;
    auto r = co_await sasl_response("UGFzc3dvcmQ6");
    if (!r) co_return;
    const bool ok = decode(*r, password);
    wipe(*r);
    if (!ok) {
      wipe(password);
      co_return;
    }
  } else {
    reply(504, "5.5.4", "Unrecognized authentication type (PLAIN and LOGIN are offered)");
    count_error();
    co_return;
  }

  if (user.empty() || user.size() > 320) {
    wipe(password);
    reply(535, "5.7.8", "Authentication credentials invalid");
    co_return;
  }
  // Argon2id takes a while on the pool: keep the idle watchdog from firing meanwhile.
  conn_.arm();
  auto result =
      co_await access::login(ctx_.submission->access, client_ip_, user, std::move(password));
  switch (result.status) {
    case access::LoginStatus::kOk:
      user_ = result.address;
      mailbox_ = std::move(result.mailbox);
      login_ticket_ = std::move(result.ticket);
      reply(235, "2.7.0", "Authentication successful");
      co_return;
    case access::LoginStatus::kThrottled:
      reply(454, "4.7.0", "Too many failed logins, try again later");
      break;
    case access::LoginStatus::kTooManySessions:
      reply(454, "4.7.0", "Too many sessions for this account, try again later");
      break;
    case access::LoginStatus::kBusy:
      // Not the client's failure: it may retry at once, and it does not count towards closing.
      reply(454, "4.7.0", "Too many logins in progress, try again shortly");
      co_return;
    case access::LoginStatus::kFailed:
      reply(535, "5.7.8", "Authentication credentials invalid");
      break;
  }
  if (++auth_failures_ >= kMaxAuthFailures) {
    reply(421, "4.7.0", "Too many failed authentication attempts, closing connection");
    closing_ = true;
    end_reason_ = "auth_failures";
  }
}

}  // namespace sealpost::smtp::server
