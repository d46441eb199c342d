// Accepts connections on one endpoint for any protocol: applies the connection limits, answers
// a refused client with the protocol's own "too busy" line, and hands each admitted connection,
// on its own strand, to the protocol's session starter.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/endpoint.hpp"
#include "core/log.hpp"
#include "net/admission.hpp"
#include "net/connection_rate.hpp"

namespace sealpost::net {

class Listener {
 public:
  using Start = std::function<void(boost::asio::ip::tcp::socket, ConnectionLimiter::Ticket,
                                   std::string client_ip)>;

  // Binds at once; throws std::runtime_error naming the endpoint when it cannot. `busy_line` is
  // written to a refused client ("" closes without a word: a TLS port cannot speak plaintext).
  Listener(boost::asio::io_context& io, const Endpoint& endpoint, ConnectionLimiter& connections,
           const core::ClientHasher& hasher, std::string busy_line, Start start);
  // Also refuses a client whose network is over `rate` (null: no rate limit).
  void limit_rate(ConnectionRate* rate) { rate_ = rate; }
  void start();
  void stop();
  [[nodiscard]] std::uint16_t port() const;

 private:
  boost::asio::awaitable<void> accept_loop();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  ConnectionLimiter& connections_;
  const core::ClientHasher& hasher_;
  std::string busy_line_;
  Start start_;
  ConnectionRate* rate_ = nullptr;
};

}  // namespace sealpost::net
