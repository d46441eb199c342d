#include "smtp/client/sts_policies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "dns/resolver.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// RFC 8461 section 3.3: the policy body is at most 64 KiB ("Senders MAY impose a timeout and
// limit the size").
constexpr std::uint64_t kMaxBody = kStsMaxPolicyOctets;

}  // namespace

StsPolicies::StsPolicies(asio::any_io_executor executor, dns::Resolver& resolver, Options options)
    : executor_(std::move(executor)), resolver_(resolver), options_(options) {}

asio::awaitable<std::optional<std::string>> StsPolicies::fetch(const std::string& domain,
                                                               std::string& error) {
  const std::string host = "mta-sts." + domain;
  auto addrs = co_await resolver_.addresses(host);
  if (addrs.status != dns::Status::kOk || addrs.records.empty()) {
    error = "no address for the policy host";
    co_return std::nullopt;
  }
  if (!options_.https_tls) {
    error = "no TLS context for policy fetches";
    co_return std::nullopt;
  }
  for (const auto& address : addrs.records) {
    beast::ssl_stream<beast::tcp_stream> stream(executor_, *options_.https_tls);
    SSL* ssl = stream.native_handle();
    SSL_set_tlsext_host_name(ssl, host.c_str());
    // Section 3.3: the certificate must be valid for the policy host (WebPKI, RFC 6125).
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, host.c_str());
    beast::get_lowest_layer(stream).expires_after(options_.timeout);
    auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(
        asio::ip::tcp::endpoint(address, options_.https_port), kNoThrow);
    if (cec) {
      error = "cannot connect to the policy host";
      continue;
    }
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
    if (hec) {
      error = "TLS with the policy host failed (is its certificate valid for its name?)";
      continue;
    }
    http::request<http::empty_body> req{http::verb::get, "/.well-known/mta-sts.txt", 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "Sealpost");
    auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
    if (wec) {
      error = "the policy host closed the connection";
      continue;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxBody);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (rec) {
      error = rec == http::error::body_limit ? "the policy is larger than 64 KiB"
                                             : "no valid HTTP answer from the policy host";
      continue;
    }
    const auto& res = parser.get();
    // Section 3.3: HTTP 200 only; redirects are not followed.
    if (res.result() != http::status::ok) {
      error = "the policy host answered HTTP " + std::to_string(res.result_int());
      co_return std::nullopt;
    }
    co_return res.body();
  }
  co_return std::nullopt;
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
