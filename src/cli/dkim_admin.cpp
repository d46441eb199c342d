// DKIM keys and the DNS records of hosted domains: `domain dns`, `dkim rotate|list|sign|verify`.
#include <chrono>
#include <iostream>
#include <iterator>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "auth/dkim/dkim.hpp"
#include "auth/dkim/keyring.hpp"
#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/domain.hpp"
#include "core/secret_file.hpp"
#include "dns/resolver.hpp"
#include "routing/dns_records.hpp"

namespace sealpost::cli {
namespace {

namespace asio = boost::asio;

std::string require_hosted(store::MetadataStore& store, const std::string& text) {
  const auto d = core::to_a_label(text);
  if (!d) throw std::runtime_error("not a valid domain: " + text);
  for (const auto& h : store.list_domains()) {
    if (h == *d) return *d;
  }
  throw std::runtime_error("domain " + *d + " is not hosted here (sealpost domain add " + *d + ")");
}

// Runs `task` to completion with a resolver configured as the server's.
template <class T>
T with_resolver(const core::Config& config,
                const std::function<asio::awaitable<T>(dns::Resolver&)>& task) {
  asio::io_context io;
  auto resolver = dns::Resolver::create(io.get_executor(), interactive_resolver_options(config));
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, task(*resolver), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
    io.stop();
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

void print_records(const core::Config& config, const std::string& domain,
                   const std::vector<store::DkimKeyRecord>& keys) {
  for (const auto& r : routing::records_to_publish(config, domain, keys)) {
    std::cout << "; " << r.purpose << "\n" << routing::zone_line(r) << "\n";
  }
}

}  // namespace

core::SecretBytes server_key(const core::Config& config) {
  return core::load_or_create_secret(config.data_dir / "server.key", 32, 32);
}

void create_domain_keys(const core::Config& config, store::MetadataStore& store,
                        const std::string& domain) {
  const auto now = core::unix_now();
  auth::dkim::create_keys(store, server_key(config).bytes(), domain, now, now);
}

int domain_dns(const std::filesystem::path& path, const std::string& domain, bool check) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto d = require_hosted(*store, domain);
  const auto keys = store->dkim_keys(d);
  if (!check) {
    std::cout << "; DNS records to publish for " << d << " (zone-file lines)\n";
    print_records(config, d, keys);
    return 0;
  }
  const auto records = routing::records_to_publish(config, d, keys);
  // Every record at once: a missing or slow one costs one timeout, not one each.
  std::vector<routing::CheckResult> results(records.size());
  {
    asio::io_context io;
    auto resolver = dns::Resolver::create(io.get_executor(), interactive_resolver_options(config));
    std::size_t pending = records.size();
    for (std::size_t i = 0; i < records.size(); ++i) {
      asio::co_spawn(io, routing::check_published(*resolver, records[i]),
                     [&, i](std::exception_ptr e, routing::CheckResult r) {
                       if (!e) results[i] = std::move(r);
                       if (--pending == 0) io.stop();
                     });
    }
    io.run();
  }
  int missing = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& res = results[i];
    const char* state = res.state == routing::Published::kYes         ? "ok"
                        : res.state == routing::Published::kMissing   ? "MISSING"
                        : res.state == routing::Published::kDifferent ? "DIFFERENT"
                                                                      : "UNKNOWN (DNS error)";
    if (res.state != routing::Published::kYes) ++missing;
    std::cout << state << "\t" << routing::zone_line(records[i]) << "\n";
    if (res.state == routing::Published::kDifferent)
      std::cout << "\t  DNS has: " << res.found << "\n";
  }
  std::cout << (missing == 0 ? "every record is published\n"
                             : std::to_string(missing) + " record(s) to publish or fix\n");
  return missing == 0 ? 0 : 2;
}

int dkim_rotate(const std::filesystem::path& path, const std::string& domain, int publish_hours,
                int grace_days) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto d = require_hosted(*store, domain);
  const auto now = core::unix_now();
  const auto created =
      auth::dkim::rotate_keys(*store, server_key(config).bytes(), d, now,
                              std::int64_t{publish_hours} * 3600, std::int64_t{grace_days} * 86400);
  std::cout << "; new DKIM keys for " << d << ": publish these now. Signing switches to them in "
            << publish_hours << " h; the old keys retire " << grace_days << " days after that.\n";
  for (const auto& k : created) {
    std::cout << routing::zone_line({k.selector + "._domainkey." + d, "TXT", k.public_record, ""})
              << "\n";
  }
  return 0;
}

int dkim_list(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto d = require_hosted(*store, domain);
  const auto now = core::unix_now();
  store->delete_retired_dkim_keys(now);
  for (const auto& k : store->dkim_keys(d)) {
    const char* state = k.retire_at != 0 ? "retiring" : k.active_from > now ? "pending" : "active";
    std::cout << k.selector << "\t" << k.algorithm << "\t" << state << "\n";
  }
  return 0;
}

int dkim_sign(const std::filesystem::path& path, const std::string& domain) {
  const auto config = core::load_config(path);
  auto store = open_metadata_store(config);
  const auto d = require_hosted(*store, domain);
  const auto ring = auth::dkim::Keyring::load(*store, server_key(config).bytes(), core::unix_now());
  const std::string message{std::istreambuf_iterator<char>(std::cin), {}};
  if (ring->keys(d).empty()) throw std::runtime_error("domain " + d + " has no active DKIM key");
  const std::string fields = ring->sign(message, d);
  if (fields.empty())
    throw std::runtime_error("cannot sign: the message is malformed or has no From");
  std::cout << fields << message;
  return 0;
}

int dkim_verify(const std::filesystem::path& path) {
  const auto config = core::load_config(path);
  const std::string message{std::istreambuf_iterator<char>(std::cin), {}};
  using Results = std::vector<auth::dkim::SignatureResult>;
  const auto results =
      with_resolver<Results>(config, [&](dns::Resolver& r) -> asio::awaitable<Results> {
        co_return co_await auth::dkim::verify(r, message);
      });
  if (results.empty()) {
    std::cout << "dkim=none\n";
    return 1;
  }
  bool pass = false;
  for (const auto& r : results) {
    std::cout << "dkim=" << auth::dkim::to_string(r.status) << " header.d=" << r.domain
              << " header.s=" << r.selector << " header.a=" << auth::dkim::to_string(r.algorithm);
    if (!r.reason.empty()) std::cout << " (" << r.reason << ")";
    std::cout << "\n";
    pass = pass || r.status == auth::dkim::Status::kPass;
  }
  return pass ? 0 : 1;
}

}  // namespace sealpost::cli
