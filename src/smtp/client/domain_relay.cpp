#include "smtp/client/domain_relay.hpp"

#include "dns/resolver.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
using protocol::ServerReply;

namespace {

constexpr std::size_t kMaxMxHosts = 5;
constexpr std::size_t kMaxAddressesPerHost = 2;
constexpr std::size_t kMaxAttempts = 10;

RelaySettings relay_settings(const core::Config& config, asio::ssl::context* client_tls) {
  RelaySettings settings;
  settings.helo_name = config.hostname;
  settings.tls = client_tls;
  settings.connect_timeout = config.limits.relay_connect_timeout;
  settings.command_timeout = config.limits.relay_timeout;
  return settings;
}

}  // namespace

DomainRelay::DomainRelay(const core::Config& config, asio::any_io_executor executor,
                         dns::Resolver& resolver, asio::ssl::context* client_tls)
    : config_(config),
      resolver_(resolver),
      relay_(std::move(executor), relay_settings(config, client_tls)) {}

asio::awaitable<std::vector<RelayTarget>> DomainRelay::targets_for(const std::string& domain,
                                                                   ServerReply& failure) {
  std::vector<RelayTarget> targets;
  if (const auto it = config_.transport.find(domain); it != config_.transport.end()) {
    targets.push_back(
        RelayTarget{asio::ip::make_address(it->second.host), it->second.port, it->second.host});
    co_return targets;
  }

  auto mx = co_await resolver_.mx(domain);
  std::vector<std::string> hosts;
  switch (mx.status) {
    case dns::Status::kTempFail:
      failure = local_reply(451, "4.4.3", "Temporary DNS failure for the destination domain");
      co_return targets;
    case dns::Status::kNxDomain:
      failure = local_reply(550, "5.1.2", "The destination domain does not exist");
      co_return targets;
    case dns::Status::kNoData:
      hosts.push_back(domain);  // RFC 5321 section 5.1: the implicit MX
      break;
    case dns::Status::kOk:
      if (mx.records.size() == 1 && (mx.records[0].host.empty() || mx.records[0].host == ".")) {
        failure = local_reply(556, "5.1.10", "The destination domain accepts no mail (null MX)");
        co_return targets;
      }
      for (const auto& r : mx.records) {
        if (hosts.size() < kMaxMxHosts && !r.host.empty()) hosts.push_back(r.host);
      }
      break;
  }
  for (const auto& host : hosts) {
    auto addrs = co_await resolver_.addresses(host);
    if (addrs.status != dns::Status::kOk) continue;
    std::size_t n = 0;
    for (const auto& a : addrs.records) {
      if (n++ >= kMaxAddressesPerHost) break;
      targets.push_back(RelayTarget{a, config_.relay_port, host});
    }
  }
  if (targets.empty()) {
    failure = local_reply(451, "4.4.4", "No address found for the destination's mail hosts");
  }
  co_return targets;
}

asio::awaitable<DomainOutcome> DomainRelay::deliver(const std::string& domain,
                                                    const RelayEnvelope& envelope,
                                                    const RelayMessage& message) {
  ServerReply failure;
  const auto targets = co_await targets_for(domain, failure);
  DomainOutcome result;
  if (targets.empty()) {
    result.per_recipient.assign(envelope.recipients.size(), failure);
    co_return result;
  }
  RelayOutcome outcome;
  std::size_t attempts = 0;
  for (const auto& target : targets) {
    if (attempts++ >= kMaxAttempts) break;
    outcome = co_await relay_.relay(target, envelope, message, /*use_tls=*/true);
    if (outcome.tls_failed) {
      // Opportunistic TLS (RFC 7435): a failed handshake falls back to plaintext once.
      outcome = co_await relay_.relay(target, envelope, message, /*use_tls=*/false);
    }
    result.remote_host = target.host_name;
    if (!outcome.try_next_host) break;
  }
  result.per_recipient = std::move(outcome.per_recipient);
  co_return result;
}

}  // namespace sealpost::smtp::client
