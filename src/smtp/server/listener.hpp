// Accepts SMTP connections on one endpoint, applies the connection limits, and starts a
// session on its own strand for each admitted client.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/endpoint.hpp"
#include "smtp/server/server_context.hpp"

namespace sealpost::smtp::server {

class Listener {
 public:
  // Binds at once; throws std::runtime_error naming the endpoint when it cannot.
  Listener(boost::asio::io_context& io, ServerContext& context, const Endpoint& endpoint);
  void start();
  void stop();
  [[nodiscard]] std::uint16_t port() const;

 private:
  boost::asio::awaitable<void> accept_loop();

  boost::asio::io_context& io_;
  ServerContext& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace sealpost::smtp::server
