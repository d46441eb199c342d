// The connection under a line-based protocol session (SMTP, IMAP, POP3): the stream and the
// watchdog that enforces the session's deadlines, replies written in one go, reads that say
// goodbye when a deadline passes, TLS from the first byte or switched on by STARTTLS/STLS, and a
// closing that does not lose the last reply.
//
// The session keeps its own input buffer and reply buffer (`out`), and decides the deadlines:
// each read or write must end within `idle` of its start and before `limit`, whichever is first
// (login_timeout is a limit from the connection's start; idle timeouts follow the session).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "net/stream.hpp"
#include "net/watchdog.hpp"

namespace sealpost::net {

class LineConnection {
 public:
  using Clock = std::chrono::steady_clock;

  struct Deadlines {
    std::optional<Clock::duration> idle;                 // from the start of each read or write
    Clock::time_point limit = Clock::time_point::max();  // whatever the client does

    static Deadlines until(Clock::time_point limit) { return {std::nullopt, limit}; }
    static Deadlines idle_for(Clock::duration idle,
                              Clock::time_point limit = Clock::time_point::max()) {
      return {idle, limit};
    }
  };

  enum class TlsStart : std::uint8_t {
    kStarted,
    kPeerGone,         // the go-ahead reply could not be written
    kHandshakeFailed,  // (a client offering only TLS 1.0 or 1.1 ends here)
  };

  explicit LineConnection(boost::asio::ip::tcp::socket socket);

  // Starts `serve` (the session's coroutine) and the watchdog on the socket's executor; both
  // keep `owner`, the session, alive. `serve` must call close() when it ends.
  void start(std::shared_ptr<void> owner, boost::asio::awaitable<void> serve);
  // Stops the watchdog and closes the socket: pending operations fail.
  void close() noexcept;

  void set_deadlines(const Deadlines& deadlines) noexcept { deadlines_ = deadlines; }
  // Arms the watchdog with the deadlines for the read or write about to start.
  void arm();
  // The line (CRLF included) written when a deadline passes while the session waits for the
  // client: "421 4.4.2 ... Timeout", "* BYE Autologout", "-ERR Disconnected for inactivity".
  void set_goodbye(std::string line) { goodbye_ = std::move(line); }

  // Writes `out` and clears it; false when the peer is gone. `shrink`: give back a large
  // buffer's memory (at command boundaries, so an idle session is small).
  boost::asio::awaitable<bool> write(std::string& out, bool shrink = true);
  // Reads what the client sent next into `buffer`: 0 when the connection ended, after the
  // goodbye when it ended because a deadline passed (timed_out()).
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer);
  // TLS from the first byte (RFC 8314); false when the handshake failed.
  boost::asio::awaitable<bool> accept_tls(boost::asio::ssl::context& tls);
  // STARTTLS (RFC 3207, RFC 2595, RFC 9051 6.2.1): writes `out`, which ends with the go-ahead
  // reply, then the handshake. The session must first drop what it has read: whatever the
  // client pipelined after the command came in plaintext and must never be read as if it had
  // come over TLS (CVE-2011-0411 and kin). On failure `out` is cleared: the session ends.
  boost::asio::awaitable<TlsStart> start_tls(boost::asio::ssl::context& tls, std::string& out);
  // Writes `out` and closes without losing it: shuts down sending, then reads and drops what the
  // client still sends for Watchdog::kGoodbyeGrace, so the last reply is not lost to a reset.
  boost::asio::awaitable<void> hang_up(std::string& out);

  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }
  [[nodiscard]] bool is_tls() const noexcept { return stream_.is_tls(); }
  [[nodiscard]] std::string tls_version() const { return stream_.tls_version(); }
  [[nodiscard]] std::uint64_t bytes_out() const noexcept { return bytes_out_; }
  // The most one write held: what the session's reply buffer grew to.
  [[nodiscard]] std::size_t peak_out() const noexcept { return peak_out_; }
  Stream& stream() noexcept { return stream_; }
  [[nodiscard]] const Stream& stream() const noexcept { return stream_; }
  Watchdog& watchdog() noexcept { return dog_; }

 private:
  Stream stream_;
  Watchdog dog_;
  Deadlines deadlines_;
  std::string goodbye_;
  bool timed_out_ = false;
  std::uint64_t bytes_out_ = 0;
  std::size_t peak_out_ = 0;
};

}  // namespace sealpost::net
