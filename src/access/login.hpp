// Logging in to a sealed mailbox over IMAP or POP3, with the protections both share: passwords
// only over TLS (or plaintext on loopback when the operator allows it), failed attempts
// throttled per client address and per account, a bound on sessions per mailbox. The address is
// normalised (local part lowercased, domain as an A-label); nothing readable reaches the log.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "access/context.hpp"

namespace sealpost::access {

// Whether a password may be sent on this connection.
bool password_allowed(const AccessContext& ctx, bool tls, const std::string& client_ip);

enum class LoginStatus {
  kOk,
  kFailed,           // wrong password or unknown account: the same answer for both
  kThrottled,        // too many recent failures: try again later
  kTooManySessions,  // the mailbox has [access] sessions_per_user sessions already
  kBusy,             // the password-hashing pool is full: try again shortly
};

struct LoginResult {
  LoginStatus status = LoginStatus::kFailed;
  std::shared_ptr<store::mailbox::OpenMailbox> mailbox;
  SessionCounter::Ticket ticket;  // held for the session's life
  std::string address;            // normalised
};

// Checks the credential on the password-hashing pool (AccessContext::kdf), then opens the mailbox
// on the worker pool. `password` is wiped once used.
boost::asio::awaitable<LoginResult> login(AccessContext& ctx, const std::string& client_ip,
                                          std::string_view user, std::string password);

// SASL PLAIN (RFC 4616) from its base64 form: authzid NUL authcid NUL passwd. An authzid other
// than empty or the authcid itself is refused (no proxy logins).
struct PlainCredentials {
  std::string user;
  std::string password;
};
std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64);
// The same from the decoded octets.
std::optional<PlainCredentials> parse_sasl_plain(std::string_view raw);

}  // namespace sealpost::access
