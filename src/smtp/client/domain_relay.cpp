#include "smtp/client/domain_relay.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "dns/resolver.hpp"
#include "smtp/client/sts_policies.hpp"
#include "smtp/client/tls_results.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
using protocol::ServerReply;

namespace {

constexpr std::size_t kMaxMxHosts = 5;
constexpr std::size_t kMaxAddressesPerHost = 2;
constexpr std::size_t kMaxAttempts = 10;

RelaySettings relay_settings(const core::Config& config, asio::ssl::context* client_tls,
                             asio::ssl::context* verified_tls, asio::ssl::context* dane_tls) {
  RelaySettings settings;
  settings.helo_name = config.hostname;
  settings.tls = client_tls;
  settings.verified_tls = verified_tls;
  settings.dane_tls = dane_tls;
  settings.connect_timeout = config.limits.relay_connect_timeout;
  settings.command_timeout = config.limits.relay_timeout;
  return settings;
}

}  // namespace

DomainRelay::DomainRelay(const core::Config& config, asio::any_io_executor executor,
                         dns::Resolver& resolver, asio::ssl::context* client_tls,
                         asio::ssl::context* verified_tls, StsPolicies* sts,
                         asio::ssl::context* dane_tls, TlsResults* results)
    : config_(config),
      resolver_(resolver),
      sts_(sts),
      dane_(dane_tls != nullptr),
      results_(results),
      relay_(std::move(executor), relay_settings(config, client_tls, verified_tls, dane_tls)) {}

asio::awaitable<std::vector<RelayTarget>> DomainRelay::targets_for(const std::string& domain,
                                                                   ServerReply& failure) {
  std::vector<RelayTarget> targets;
  if (const auto it = config_.transport.find(domain); it != config_.transport.end()) {
    targets.push_back(
        RelayTarget{asio::ip::make_address(it->second.host), it->second.port, it->second.host, {}});
    co_return targets;
  }

  auto mx = co_await resolver_.mx(domain);
  // RFC 7672 section 2.2.1: DANE applies only where the MX RRset (or, without one, the domain's
  // own addresses) is DNSSEC-secure; then each host whose address and TLSA records are secure.
  const bool secure_mx = mx.security == dns::Security::kSecure;
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
      // A secure denial of the MX records leaves the domain's own records to decide.
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
  bool dane_lookup_failed = false;
  for (const auto& host : hosts) {
    auto addrs = co_await resolver_.addresses(host);
    if (addrs.status != dns::Status::kOk) continue;
    std::vector<dns::TlsaRecord> tlsa;
    if (dane_ && secure_mx && addrs.security == dns::Security::kSecure) {
      auto answer = co_await resolver_.tlsa("_25._tcp." + host);
      if (answer.status == dns::Status::kOk && answer.security == dns::Security::kSecure) {
        // Section 3.1: only DANE-TA(2) and DANE-EE(3) mean anything for SMTP.
        for (auto& r : answer.records) {
          if ((r.usage == 2 || r.usage == 3) && r.selector <= 1 && r.matching_type <= 2) {
            tlsa.push_back(std::move(r));
          }
        }
      } else if (answer.status == dns::Status::kTempFail ||
                 answer.security == dns::Security::kBogus) {
        // Section 2.2: a host whose TLSA records cannot be had securely is not used now; the
        // mail waits rather than going without the authentication the domain asked for.
        dane_lookup_failed = true;
        continue;
      }
    }
    std::size_t n = 0;
    for (const auto& a : addrs.records) {
      if (n++ >= kMaxAddressesPerHost) break;
      targets.push_back(RelayTarget{a, config_.relay_port, host, tlsa});
    }
  }
  if (targets.empty()) {
    failure = dane_lookup_failed
                  ? local_reply(451, "4.7.5",
                                "DANE: the destination's TLSA records cannot be "
                                "verified now")
                  : local_reply(451, "4.4.4", "No address found for the destination's mail hosts");
  }
  co_return targets;
}

namespace {

std::string tlsa_text(const dns::TlsaRecord& r) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
                    std::to_string(r.matching_type) + " ";
  for (const auto b : r.data) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

asio::awaitable<DomainOutcome> DomainRelay::deliver(const std::string& domain,
                                                    const RelayEnvelope& envelope,
                                                    const RelayMessage& message) {
  std::optional<StsPolicy> policy;
  if (sts_ && !config_.transport.count(domain)) {
    policy = co_await sts_->policy_for(domain, core::unix_now());
  }
  ServerReply failure;
  auto targets = co_await targets_for(domain, failure);
  // RFC 8461 section 2: where DANE applies, it takes precedence over MTA-STS.
  const bool dane = std::any_of(targets.begin(), targets.end(),
                                [](const RelayTarget& t) { return !t.tlsa.empty(); });
  const bool sts = !dane && policy.has_value();
  const bool enforce = sts && policy->mode == StsMode::kEnforce;
  DomainOutcome result;

  // TLS-RPT (RFC 8460): each session toward a destination with a policy is counted.
  const auto report = [&](const RelayTarget* target, const std::string& tls_failure) {
    if (!results_ || (!dane && !sts)) return;
    TlsResults::Session s;
    s.policy_domain = domain;
    s.type = dane ? TlsPolicyType::kTlsa : TlsPolicyType::kSts;
    if (dane && target) {
      for (const auto& r : target->tlsa) s.policy_strings.push_back(tlsa_text(r));
    } else if (sts) {
      s.policy_strings = sts_policy_strings(*policy);
    }
    if (target) {
      s.mx_host = target->host_name;
      s.receiving_ip = target->address.to_string();
    }
    s.failure = tls_failure;
    results_->record(s);
  };

  if (sts && !targets.empty()) {
    // RFC 8461 section 4.1: only MX hosts the policy names may receive the mail ("testing":
    // reported, not enforced).
    const auto listed = std::count_if(targets.begin(), targets.end(), [&](const RelayTarget& t) {
      return sts_policy_allows_mx(*policy, t.host_name);
    });
    if (listed == 0) report(nullptr, "validation-failure");
    if (enforce) {
      std::erase_if(targets, [&](const RelayTarget& t) {
        return !sts_policy_allows_mx(*policy, t.host_name);
      });
      if (targets.empty()) {
        failure = local_reply(
            451, "4.7.5", "MTA-STS: none of the destination's MX hosts is listed in its policy");
        result.tls_failure = "validation-failure";
      }
    }
  }
  if (targets.empty()) {
    result.per_recipient.assign(envelope.recipients.size(), failure);
    co_return result;
  }
  RelayOutcome outcome;
  std::size_t attempts = 0;
  for (const auto& target : targets) {
    if (attempts++ >= kMaxAttempts) break;
    const TlsMode mode = !target.tlsa.empty() ? TlsMode::kDane
                         : sts                ? TlsMode::kVerified
                                              : TlsMode::kOpportunistic;
    outcome = co_await relay_.relay(target, envelope, message, mode);
    if (mode != TlsMode::kOpportunistic) {
      // A session only counts when TLS was tried: an unreachable host is no TLS result.
      if (!outcome.tls_failure.empty()) {
        report(&target, outcome.tls_failure);
      } else if (outcome.tls) {
        report(&target, {});
      }
    }
    bool opportunistic = mode == TlsMode::kOpportunistic;
    if (sts && !enforce && !outcome.tls_failure.empty()) {
      // "testing" (RFC 8461 section 5): the failure is reported, the mail goes anyway.
      outcome = co_await relay_.relay(target, envelope, message, TlsMode::kOpportunistic);
      opportunistic = true;
    }
    if (outcome.tls_failed && opportunistic) {
      // Opportunistic TLS (RFC 7435): a failed handshake falls back to plaintext once.
      outcome = co_await relay_.relay(target, envelope, message, TlsMode::kNone);
    }
    result.remote_host = target.host_name;
    result.tls_failure = outcome.tls_failure;
    if (!outcome.try_next_host) break;
  }
  result.per_recipient = std::move(outcome.per_recipient);
  co_return result;
}

}  // namespace sealpost::smtp::client
