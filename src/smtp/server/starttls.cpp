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
  if (stream_.is_tls()) {
    reply(503, "5.5.1", "TLS already active");
    count_error();
    co_return;
  }
  reply(220, "2.0.0", "Ready to start TLS");
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  input_.clear();
  arm_idle();
  boost::system::error_code ec;
  co_await stream_.handshake_server(*ctx_.tls, ec);
  if (ec) {
    // Includes clients offering only TLS 1.0/1.1: the handshake fails and the session ends.
    closing_ = true;
    end_reason_ = "tls_failed";
    out_.clear();
    co_return;
  }
  // RFC 3207 section 4.2: the session starts over; the client must EHLO again.
  helo_.clear();
  extended_ = false;
  reset_transaction();
}

}  // namespace sealpost::smtp::server
