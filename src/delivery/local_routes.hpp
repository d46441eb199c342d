// The queue's way into the domains we host: a recipient is routed as the MX would route it
// (aliases, mailboxes, catch-all, plus-addressing) and handed to the MX's delivery agent, without
// a network hop through our own port 25.
#pragma once

#include "queue/runner.hpp"
#include "routing/router.hpp"
#include "smtp/delivery_agent.hpp"

namespace sealpost::delivery {

class LocalRoutes final : public queue::LocalDestination {
 public:
  LocalRoutes(const routing::Router& router, smtp::DeliveryAgent& agent, std::string hostname)
      : router_(router), agent_(agent), hostname_(std::move(hostname)) {}

  [[nodiscard]] bool hosts(const std::string& domain) const override {
    return router_.hosts(domain);
  }
  boost::asio::awaitable<smtp::protocol::ServerReply> deliver(const queue::Envelope& envelope,
                                                              const std::string& recipient,
                                                              std::string_view content,
                                                              std::int64_t now) override;

 private:
  const routing::Router& router_;
  smtp::DeliveryAgent& agent_;
  std::string hostname_;
};

}  // namespace sealpost::delivery
