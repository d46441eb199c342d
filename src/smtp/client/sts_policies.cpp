#include "smtp/client/sts_policies.hpp"

#include <spdlog/spdlog.h>

#include "dns/resolver.hpp"
#include "net/https_client.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;

StsPolicies::StsPolicies(asio::any_io_executor executor, dns::Resolver& resolver, Options options)
    : executor_(std::move(executor)), resolver_(resolver), options_(options) {}

asio::awaitable<std::optional<std::string>> StsPolicies::fetch(const std::string& domain,
                                                               std::string& error) {
  if (!options_.https_tls) {
    error = "no TLS context for policy fetches";
    co_return std::nullopt;
  }
  net::HttpsRequest request;
  request.host = "mta-sts." + domain;
  request.port = options_.https_port;
  request.target = "/.well-known/mta-sts.txt";
  request.max_answer = kStsMaxPolicyOctets;  // section 3.3: at most 64 KiB
  request.timeout = options_.timeout;
  const auto answer =
      co_await net::https_request(executor_, resolver_, *options_.https_tls, request);
  // Section 3.3: HTTP 200 only; redirects are not followed.
  if (answer.status != 200) {
    error = answer.status == 0 ? answer.error
                               : "the policy host answered HTTP " + std::to_string(answer.status);
    co_return std::nullopt;
  }
  co_return answer.body;
}

asio::awaitable<std::optional<StsPolicy>> StsPolicies::policy_for(const std::string& domain,
                                                                  std::int64_t now) {
  std::optional<Cached> cached;
  {
    const std::lock_guard lock(mutex_);
    const auto it = cache_.find(domain);
    if (it != cache_.end()) {
      if (it->second.expires > now) {
        cached = it->second;
      } else {
        cache_.erase(it);
      }
    }
  }
  const auto usable = [](const std::optional<Cached>& c) -> std::optional<StsPolicy> {
    if (!c || c->policy.mode == StsMode::kNone) return std::nullopt;
    return c->policy;
  };

  const auto txt = co_await resolver_.txt("_mta-sts." + domain);
  if (txt.status != dns::Status::kOk) {
    // No record (or no answer): a cached policy stays in force until it expires (section 5.1).
    co_return usable(cached);
  }
  const auto record = parse_sts_record(txt.records);
  if (!record) co_return usable(cached);
  if (cached && cached->id == record->id) co_return usable(cached);

  std::string error;
  const auto body = co_await fetch(domain, error);
  std::optional<StsPolicy> policy;
  if (body) {
    auto parsed = parse_sts_policy(*body);
    if (parsed) {
      policy = std::move(parsed).value();
    } else {
      error = "invalid policy: " + parsed.error();
    }
  }
  if (!policy) {
    spdlog::info("mta-sts policy fetch failed: {}", error);
    co_return usable(cached);  // keep what we had (section 5.1)
  }
  Cached fresh{*policy, record->id, now + policy->max_age};
  {
    const std::lock_guard lock(mutex_);
    cache_[domain] = fresh;
  }
  co_return usable(fresh);
}

}  // namespace sealpost::smtp::client
