#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace sealpost::net {

namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(asio::io_context& io, const Endpoint& endpoint, ConnectionLimiter& connections,
                   const core::ClientHasher& hasher, std::string busy_line, Start start)
    : io_(io),
      acceptor_(io),
      connections_(connections),
      hasher_(hasher),
      busy_line_(std::move(busy_line)),
      start_(std::move(start)) {
  const tcp::endpoint ep(asio::ip::make_address(endpoint.host), endpoint.port);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + endpoint.to_string() + ": " + ec.message());
}

std::uint16_t Listener::port() const {
  return acceptor_.local_endpoint().port();
}

void Listener::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void Listener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Listener::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of file descriptors or similar: back off briefly instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code pec;
    const auto peer = socket.remote_endpoint(pec);
    if (pec) continue;
    std::string ip =
        peer.address().is_v6() && peer.address().to_v6().is_v4_mapped()
            ? asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address().to_v6()).to_string()
            : peer.address().to_string();
    ConnectionLimiter::Refusal why{};
    const bool in_rate = rate_ == nullptr || rate_->admit(ip);
    auto ticket = in_rate ? connections_.admit(ip, why) : ConnectionLimiter::Ticket{};
    if (!ticket) {
      spdlog::info("refused client={} reason={}", hasher_.hash(ip),
                   !in_rate                                        ? "connection_rate"
                   : why == ConnectionLimiter::Refusal::kPerClient ? "connections_per_client"
                                                                   : "connections");
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      auto text = std::make_shared<std::string>(busy_line_);
      asio::async_write(*s, asio::buffer(*text), [s, text](boost::system::error_code, std::size_t) {
        boost::system::error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
        s->close(ignored);
      });
      continue;
    }
    start_(std::move(socket), std::move(ticket), std::move(ip));
  }
}

}  // namespace sealpost::net
