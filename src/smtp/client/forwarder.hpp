// In-memory forwarding: the message a session received goes to every destination over SMTP,
// one connection per destination domain, all domains at once, and the sender is answered from
// the destinations' answers. Nothing is queued or written anywhere.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/config.hpp"
#include "smtp/client/accepted_memory.hpp"
#include "smtp/client/domain_relay.hpp"
#include "smtp/client/relay_client.hpp"
#include "smtp/delivery_agent.hpp"

namespace sealpost::dns {
class Resolver;
}
namespace sealpost::auth::srs {
class Srs;
}

namespace sealpost::smtp::client {

class Forwarder final : public DeliveryAgent {
 public:
  // `executor` runs the outbound connections (each on a strand of its own).
  Forwarder(const core::Config& config, boost::asio::any_io_executor executor,
            dns::Resolver& resolver, const auth::srs::Srs& srs,
            boost::asio::ssl::context* client_tls,
            boost::asio::ssl::context* verified_tls = nullptr, StsPolicies* sts = nullptr,
            boost::asio::ssl::context* dane_tls = nullptr, TlsResults* results = nullptr);

  boost::asio::awaitable<DeliveryReport> deliver(const DeliveryRequest& request) override;

 private:
  struct DomainResult {
    std::vector<protocol::ServerReply> per_recipient;
  };
  boost::asio::awaitable<DomainResult> deliver_domain(const std::string& domain,
                                                      const RelayEnvelope& envelope,
                                                      const RelayMessage& message);

  const auth::srs::Srs& srs_;
  DomainRelay relay_;
  AcceptedMemory memory_;
};

// A destination's reply made fit to pass back to the sender: addresses and control characters
// removed (the sender must not learn where an alias forwards), length bounded.
std::string sanitize_remote_text(std::string_view text);

}  // namespace sealpost::smtp::client
