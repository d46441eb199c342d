// STARTTLS (RFC 9051 section 6.2.1).
#include <sodium.h>

#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_starttls(const Command& cmd) {
  if (!ctx_.tls || conn_.is_tls()) {
    tagged(cmd, "BAD", conn_.is_tls() ? "TLS is active already" : "STARTTLS is not available");
    count_error();
    co_return;
  }
  tagged(cmd, "OK", "Begin TLS negotiation now");
  // Whatever the client pipelined after STARTTLS came in plaintext: it is dropped, never read
  // as if it had come over TLS (the STARTTLS command injection, CVE-2011-0411 and kin).
  sodium_memzero(in_.data(), in_.size());
  in_pos_ = in_end_ = 0;
  reader_.next();
  reader_advanced_ = true;
  const auto started = co_await conn_.start_tls(*ctx_.tls, out_);
  if (started != net::LineConnection::TlsStart::kStarted) {
    closing_ = true;
    if (started == net::LineConnection::TlsStart::kHandshakeFailed) end_reason_ = "tls_failed";
  }
}

}  // namespace sealpost::imap::server
