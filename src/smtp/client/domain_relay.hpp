// Delivery of one envelope to one destination domain: the transport map or the domain's MX hosts
// (RFC 5321 section 5.1: implicit MX, null MX per RFC 7505), each host's addresses in turn, and
// opportunistic STARTTLS (RFC 7435) with a plaintext retry when the handshake fails, or, where
// the destination publishes an MTA-STS "enforce" policy (RFC 8461), only its listed MX hosts over
// verified TLS (otherwise the mail waits: a 4.7.5 temporary failure); DANE (RFC 7672), where the
// MX and TLSA records are DNSSEC-secure, takes precedence over MTA-STS. Shared by
// the in-memory forwarder and the outbound queue, so both reach other servers the same way.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "core/config.hpp"
#include "smtp/client/relay_client.hpp"

namespace sealpost::dns {
class Resolver;
}

namespace sealpost::smtp::client {

struct DomainOutcome {
  std::vector<protocol::ServerReply> per_recipient;  // one per envelope recipient
  std::string remote_host;  // the host that gave the answers; empty when none was reached
  std::string tls_failure;  // the last host's TLS-RPT result type when required TLS failed
};

class StsPolicies;
class TlsResults;

class DomainRelay {
 public:
  // `verified_tls`: for MX hosts under an MTA-STS "enforce" policy; `sts`: null when MTA-STS is
  // off. A transport-mapped domain is the operator's choice and gets opportunistic TLS only.
  DomainRelay(const core::Config& config, boost::asio::any_io_executor executor,
              dns::Resolver& resolver, boost::asio::ssl::context* client_tls,
              boost::asio::ssl::context* verified_tls = nullptr, StsPolicies* sts = nullptr,
              boost::asio::ssl::context* dane_tls = nullptr, TlsResults* results = nullptr);

  boost::asio::awaitable<DomainOutcome> deliver(const std::string& domain,
                                                const RelayEnvelope& envelope,
                                                const RelayMessage& message);

  // Where mail for `domain` goes, in order, each host with its TLSA records when DANE applies;
  // empty with `failure` set when nowhere.
  boost::asio::awaitable<std::vector<RelayTarget>> targets_for(const std::string& domain,
                                                               protocol::ServerReply& failure);

 private:
  const core::Config& config_;
  dns::Resolver& resolver_;
  StsPolicies* sts_;
  bool dane_;
  TlsResults* results_;  // null: TLS-RPT off
  RelayClient relay_;
};

}  // namespace sealpost::smtp::client
