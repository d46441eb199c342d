// `sealpost dns lookup NAME [--type T]`: what the server's resolver (its forwarders and DNSSEC
// trust anchor) says about a name, with the DNSSEC verdict. For checking a setup by hand.
#include <chrono>
#include <iostream>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/config.hpp"
#include "core/strings.hpp"
#include "dns/resolver.hpp"

namespace sealpost::cli {
namespace {

namespace asio = boost::asio;

const char* status_name(dns::Status s) {
  switch (s) {
    case dns::Status::kOk:
      return "ok";
    case dns::Status::kNxDomain:
      return "nxdomain";
    case dns::Status::kNoData:
      return "nodata";
    case dns::Status::kTempFail:
      return "tempfail";
  }
  return "tempfail";
}

const char* security_name(dns::Security s) {
  switch (s) {
    case dns::Security::kSecure:
      return "secure";
    case dns::Security::kInsecure:
      return "insecure";
    case dns::Security::kBogus:
      return "bogus";
  }
  return "insecure";
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

template <class T, class Print>
asio::awaitable<int> show(asio::awaitable<dns::Answer<T>> query, Print print) {
  const auto a = co_await std::move(query);
  std::cout << "status=" << status_name(a.status) << " dnssec=" << security_name(a.security)
            << "\n";
  for (const auto& r : a.records) std::cout << print(r) << "\n";
  co_return a.status == dns::Status::kOk ? 0 : 1;
}

}  // namespace

int dns_lookup(const std::filesystem::path& path, const std::string& name,
               const std::string& type) {
  const auto config = core::load_config(path);
  asio::io_context io;
  auto r = dns::Resolver::create(io.get_executor(), interactive_resolver_options(config));
  const std::string t = to_lower_ascii(type);
  std::optional<asio::awaitable<int>> task;
  if (t == "txt") {
    task = show(r->txt(name), [](const std::string& s) { return "\"" + s + "\""; });
  } else if (t == "a") {
    task = show(r->a(name), [](const auto& a) { return a.to_string(); });
  } else if (t == "aaaa") {
    task = show(r->aaaa(name), [](const auto& a) { return a.to_string(); });
  } else if (t == "mx") {
    task = show(r->mx_records(name), [](const dns::MxHost& m) {
      return std::to_string(m.preference) + " " + (m.host.empty() ? "." : m.host + ".");
    });
  } else if (t == "ptr") {
    task = show(r->ptr(name), [](const std::string& h) { return h + "."; });
  } else if (t == "tlsa") {
    task = show(r->tlsa(name), [](const dns::TlsaRecord& x) {
      return std::to_string(x.usage) + " " + std::to_string(x.selector) + " " +
             std::to_string(x.matching_type) + " " + hex(x.data);
    });
  } else {
    throw std::runtime_error("--type: expected TXT, A, AAAA, MX, PTR or TLSA");
  }
  int status = 2;
  asio::co_spawn(io, std::move(*task), [&](std::exception_ptr e, int s) {
    status = e ? 2 : s;
    io.stop();
  });
  io.run();
  return status;
}

}  // namespace sealpost::cli
