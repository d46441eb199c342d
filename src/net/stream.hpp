// A TCP connection that may be upgraded to TLS in place (STARTTLS), with coroutine reads and
// writes that report errors as values: a peer going away is normal, not exceptional.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace sealpost::net {

class Stream {
 public:
  explicit Stream(boost::asio::ip::tcp::socket socket);

  // Returns 0 with `ec` set on EOF or error.
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                boost::system::error_code& ec);
  boost::asio::awaitable<void> write(std::string_view data, boost::system::error_code& ec);
  boost::asio::awaitable<void> write(std::string_view a, std::string_view b,
                                     boost::system::error_code& ec);

  boost::asio::awaitable<void> handshake_server(boost::asio::ssl::context& ctx,
                                                boost::system::error_code& ec);
  // `prepare` sets up what this connection verifies (a host name, DANE TLSA records) on the
  // SSL object before the handshake; false from it fails the handshake with invalid_argument.
  boost::asio::awaitable<void> handshake_client(boost::asio::ssl::context& ctx,
                                                const std::string& sni,
                                                boost::system::error_code& ec,
                                                const std::function<bool(SSL*)>& prepare = {});
  // OpenSSL's X509_V_* result of the last handshake's verification (X509_V_OK when none).
  [[nodiscard]] long tls_verify_result() const;

  [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
  [[nodiscard]] std::string tls_version() const;
  [[nodiscard]] std::string tls_cipher() const;
  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  void close() noexcept;

 private:
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace sealpost::net
