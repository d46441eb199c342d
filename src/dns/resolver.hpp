// The asynchronous resolver, on libunbound. Queries run inside the io_context: libunbound's
// file descriptor is watched by Asio and processed on a strand, so no thread blocks per query.
// Each answer says whether DNSSEC found it secure, insecure or bogus (bogus data is dropped).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "core/endpoint.hpp"
#include "dns/lookup.hpp"

namespace sealpost::dns {

class Resolver final : public Lookup {
 public:
  struct Options {
    std::vector<Endpoint> servers;  // recursive resolvers to forward to; empty: /etc/resolv.conf
    std::string trust_anchor_file;  // DNSSEC root anchor; empty: nothing validates as secure
    std::chrono::milliseconds timeout{10000};
  };

  // Throws std::runtime_error with libunbound's reason when it cannot be set up.
  static std::unique_ptr<Resolver> create(const boost::asio::any_io_executor& executor,
                                          const Options& options);
  ~Resolver() override;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Sorted by preference; hosts of equal preference in random order (RFC 5321 section 5.1).
  boost::asio::awaitable<Answer<MxHost>> mx(std::string domain);
  // A and AAAA, asked at once; IPv4 addresses first.
  boost::asio::awaitable<Answer<boost::asio::ip::address>> addresses(std::string host);

  boost::asio::awaitable<Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address_v4>> a(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address_v6>> aaaa(std::string name) override;
  boost::asio::awaitable<Answer<MxHost>> mx_records(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> ptr(std::string name) override;
  boost::asio::awaitable<Answer<TlsaRecord>> tlsa(std::string name);
  // From the answer cache (and for names that are not valid, which are never asked).
  std::optional<Answer<boost::asio::ip::address_v4>> known_a(const std::string& name) override;
  std::optional<Answer<boost::asio::ip::address_v6>> known_aaaa(const std::string& name) override;
  std::optional<Answer<std::string>> known_ptr(const std::string& name) override;

  // Queries handed to libunbound so far: those the answer cache could not answer.
  [[nodiscard]] std::uint64_t queries_sent() const noexcept;

  struct Impl;

 private:
  explicit Resolver(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sealpost::dns
