#include "net/stream.hpp"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace sealpost::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

Stream::Stream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

asio::awaitable<std::size_t> Stream::read_some(asio::mutable_buffer buffer,
                                               boost::system::error_code& ec) {
  auto [e, n] = tls_ ? co_await tls_->async_read_some(buffer, kNoThrow)
                     : co_await socket_.async_read_some(buffer, kNoThrow);
  ec = e;
  co_return e ? 0 : n;
}

asio::awaitable<void> Stream::write(std::string_view data, boost::system::error_code& ec) {
  auto [e, n] = tls_ ? co_await asio::async_write(*tls_, asio::buffer(data), kNoThrow)
                     : co_await asio::async_write(socket_, asio::buffer(data), kNoThrow);
  ec = e;
}

asio::awaitable<void> Stream::write(std::string_view a, std::string_view b,
                                    boost::system::error_code& ec) {
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(a), asio::buffer(b)};
  auto [e, n] = tls_ ? co_await asio::async_write(*tls_, bufs, kNoThrow)
                     : co_await asio::async_write(socket_, bufs, kNoThrow);
  ec = e;
}

asio::awaitable<void> Stream::handshake_server(ssl::context& ctx, boost::system::error_code& ec) {
  tls_ = std::make_unique<ssl::stream<asio::ip::tcp::socket&>>(socket_, ctx);
  auto [e] = co_await tls_->async_handshake(ssl::stream_base::server, kNoThrow);
  ec = e;
}

asio::awaitable<void> Stream::handshake_client(ssl::context& ctx, const std::string& sni,
                                               boost::system::error_code& ec,
                                               const std::function<bool(SSL*)>& prepare) {
  tls_ = std::make_unique<ssl::stream<asio::ip::tcp::socket&>>(socket_, ctx);
  if (!sni.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), sni.c_str());
  if (prepare && !prepare(tls_->native_handle())) {
    ec = asio::error::invalid_argument;
    co_return;
  }
  auto [e] = co_await tls_->async_handshake(ssl::stream_base::client, kNoThrow);
  ec = e;
}

long Stream::tls_verify_result() const {
  return tls_ ? SSL_get_verify_result(tls_->native_handle()) : X509_V_OK;
}

std::string Stream::tls_version() const {
  return tls_ ? SSL_get_version(tls_->native_handle()) : "none";
}

std::string Stream::tls_cipher() const {
  return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : "none";
}

void Stream::close() noexcept {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace sealpost::net
