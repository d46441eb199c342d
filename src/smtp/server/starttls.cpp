// STARTTLS (RFC 3207). Anything the client pipelined after the command is discarded: plaintext
// commands must never be read as if they came over TLS (the CVE-2011-0411 injection).
#include <spdlog/spdlog.h>

#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

boost::asio::awaitable<void> Session::on_starttls() {
  if (!ctx_.tls) {
    reply(502, "5.5.1", "STARTTLS not available");
    count_error();
    co_return;
  }
  if (conn_.is_tls()) {
    reply(503, "5.5.1", "TLS already active");
    count_error();
    co_return;
  }
  reply(220, "2.0.0", "Ready to start TLS");
  input_.clear();
  const auto started = co_await conn_.start_tls(*ctx_.tls, out_);
  if (started != net::LineConnection::TlsStart::kStarted) {
    closing_ = true;
    if (started == net::LineConnection::TlsStart::kHandshakeFailed) end_reason_ = "tls_failed";
    co_return;
  }
  // RFC 3207 section 4.2: the session starts over; the client must EHLO again.
  helo_.clear();
  extended_ = false;
  reset_transaction();
}

}  // namespace sealpost::smtp::server
