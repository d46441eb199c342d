// EHLO/HELO (RFC 5321 section 4.1.1.1): greets, resets any transaction, lists extensions.
#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

void Session::on_helo(const protocol::Command& cmd, bool extended) {
  reset_transaction();
  helo_ = cmd.argument;
  extended_ = extended;
  if (!extended) {
    reply(250, "", ctx_.config.hostname);
    return;
  }
  std::string text = ctx_.config.hostname + " Hello";
  text += "\nSIZE " + std::to_string(ctx_.config.limits.max_message_size);
  text += "\n8BITMIME\nSMTPUTF8\nPIPELINING\nCHUNKING\nENHANCEDSTATUSCODES";
  if (ctx_.tls && !conn_.is_tls()) text += "\nSTARTTLS";
  // RFC 4954 section 4 / RFC 8314: credentials only ever travel under TLS, so AUTH is offered
  // only once it is active.
  if (submission() && conn_.is_tls() && user_.empty()) text += "\nAUTH PLAIN LOGIN";
  reply(250, "", text);
}

}  // namespace sealpost::smtp::server
