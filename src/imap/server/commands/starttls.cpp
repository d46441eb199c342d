// STARTTLS (RFC 9051 section 6.2.1).
#include <sodium.h>

#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_starttls(const Command& cmd) {
  if (!ctx_.tls || stream_.is_tls()) {
    tagged(cmd, "BAD", stream_.is_tls() ? "TLS is active already" : "STARTTLS is not available");
    count_error();
    co_return;
  }
  tagged(cmd, "OK", "Begin TLS negotiation now");
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  // Whatever the client pipelined after STARTTLS came in plaintext: it is dropped, never read
  // as if it had come over TLS (the STARTTLS command injection, CVE-2011-0411 and kin).
  sodium_memzero(in_.data(), in_.size());
  in_pos_ = in_end_ = 0;
  reader_.next();
  reader_advanced_ = true;
  arm_idle();
  boost::system::error_code ec;
  co_await stream_.handshake_server(*ctx_.tls, ec);
  if (ec) {
    closing_ = true;
    end_reason_ = "tls_failed";
    out_.clear();
  }
}

}  // namespace sealpost::imap::server
