// MTA-STS (RFC 8461) as a sending server applies it: the destination's `_mta-sts` TXT record
// says a policy exists and which version; the policy itself comes over HTTPS (a verified
// certificate for mta-sts.<domain>, no redirects, at most 64 KiB) and is cached for its max_age.
// A cached policy is used while the TXT id is unchanged, and stays in force while the record or
// the policy host cannot be reached (section 5.1: that is exactly what an attacker would cause).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "smtp/client/mta_sts.hpp"

namespace sealpost::dns {
class Resolver;
}

namespace sealpost::smtp::client {

class StsPolicies {
 public:
  struct Options {
    std::uint16_t https_port = 443;
    boost::asio::ssl::context* https_tls = nullptr;  // verifying (net::make_verifying_client_tls)
    std::chrono::seconds timeout{30};                // the whole fetch
  };

  StsPolicies(boost::asio::any_io_executor executor, dns::Resolver& resolver, Options options);

  // The policy that applies to mail for `domain` now, or nullopt when there is none (or it is
  // "none"). `now`: Unix seconds.
  boost::asio::awaitable<std::optional<StsPolicy>> policy_for(const std::string& domain,
                                                              std::int64_t now);

 private:
  struct Cached {
    StsPolicy policy;
    std::string id;
    std::int64_t expires = 0;
  };
  // The policy body, or an error text.
  boost::asio::awaitable<std::optional<std::string>> fetch(const std::string& domain,
                                                           std::string& error);

  boost::asio::any_io_executor executor_;
  dns::Resolver& resolver_;
  Options options_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
};

}  // namespace sealpost::smtp::client
