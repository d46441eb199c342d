#include "net/line_connection.hpp"

#include <algorithm>
#include <array>

namespace sealpost::net {

namespace asio = boost::asio;

LineConnection::LineConnection(asio::ip::tcp::socket socket)
    : stream_(std::move(socket)), dog_(stream_.socket().get_executor()) {}

void LineConnection::start(std::shared_ptr<void> owner, asio::awaitable<void> serve) {
  start_watched(std::move(owner), dog_, stream_, std::move(serve));
}

void LineConnection::close() noexcept {
  dog_.stop();
  stream_.close();
}

void LineConnection::arm() {
  const auto now = Clock::now();
  auto deadline = deadlines_.limit;
  // (Clock::duration::max() as an idle timeout must not overflow now + idle.)
  if (deadlines_.idle && *deadlines_.idle < deadline - now) deadline = now + *deadlines_.idle;
  dog_.arm(deadline);
}

asio::awaitable<bool> LineConnection::write(std::string& out, bool shrink) {
  if (out.empty()) co_return true;
  arm();
  bytes_out_ += out.size();
  peak_out_ = std::max(peak_out_, out.size());
  boost::system::error_code ec;
  co_await stream_.write(out, ec);
  out.clear();
  if (shrink && out.capacity() > std::size_t{64} * 1024) out.shrink_to_fit();
  co_return !ec;
}

asio::awaitable<std::size_t> LineConnection::read_some(asio::mutable_buffer buffer) {
  arm();
  boost::system::error_code ec;
  const std::size_t n = co_await stream_.read_some(buffer, ec);
  if (!ec && n > 0) co_return n;
  if (dog_.expired() && !timed_out_) {
    // The watchdog cancelled the read and gives a moment to say why the connection closes
    // (RFC 5321 section 4.5.3.2, RFC 9051 section 7.1.5, RFC 1939 section 3).
    timed_out_ = true;
    dog_.arm_for(Watchdog::kGoodbyeGrace);
    boost::system::error_code ignored;
    co_await stream_.write(goodbye_, ignored);
  }
  co_return 0;
}

asio::awaitable<bool> LineConnection::accept_tls(asio::ssl::context& tls) {
  arm();
  boost::system::error_code ec;
  co_await stream_.handshake_server(tls, ec);
  co_return !ec;
}

asio::awaitable<LineConnection::TlsStart> LineConnection::start_tls(asio::ssl::context& tls,
                                                                    std::string& out) {
  if (!co_await write(out)) co_return TlsStart::kPeerGone;
  arm();
  boost::system::error_code ec;
  co_await stream_.handshake_server(tls, ec);
  if (!ec) co_return TlsStart::kStarted;
  out.clear();
  co_return TlsStart::kHandshakeFailed;
}

asio::awaitable<void> LineConnection::hang_up(std::string& out) {
  if (!co_await write(out)) co_return;
  boost::system::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  dog_.arm_for(Watchdog::kGoodbyeGrace);
  std::array<char, 4096> sink{};
  while (!ec) {
    const std::size_t n = co_await stream_.read_some(asio::buffer(sink), ec);
    if (n == 0) break;
  }
}

}  // namespace sealpost::net
