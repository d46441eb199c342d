// What the authentication code (SPF, DKIM, DMARC, ARC) asks of DNS. The resolver implements it
// on libunbound; tests implement it with an in-memory zone (dns/memory_zone.hpp). Every answer
// carries its DNSSEC status and whether the name exists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

namespace sealpost::dns {

enum class Security { kInsecure, kSecure, kBogus };
enum class Status { kOk, kNxDomain, kNoData, kTempFail };

template <class T>
struct Answer {
  Status status = Status::kTempFail;
  Security security = Security::kInsecure;
  std::vector<T> records;
  // Seconds the records may still be kept (the TTL, less the time a cache has held them); 0: do
  // not keep them.
  std::uint32_t ttl = 0;
};

struct MxHost {
  std::uint16_t preference = 0;
  std::string host;  // empty: the root, a null MX (RFC 7505)
};

struct TlsaRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
};

class Lookup {
 public:
  virtual ~Lookup() = default;
  // Each record's character-strings concatenated (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2).
  virtual boost::asio::awaitable<Answer<std::string>> txt(std::string name) = 0;
  virtual boost::asio::awaitable<Answer<boost::asio::ip::address_v4>> a(std::string name) = 0;
  virtual boost::asio::awaitable<Answer<boost::asio::ip::address_v6>> aaaa(std::string name) = 0;
  // In the order the server gave them.
  virtual boost::asio::awaitable<Answer<MxHost>> mx_records(std::string name) = 0;
  // `name` is the reverse name (4.3.2.1.in-addr.arpa); see reverse_name().
  virtual boost::asio::awaitable<Answer<std::string>> ptr(std::string name) = 0;

  // The answer a(name) (aaaa, ptr) would give when it is known without asking anyone (a
  // cache's), or nullopt: a caller with many lookups at once (the filter's blocklists and
  // reverse DNS) waits only for the others. By default nothing is known.
  virtual std::optional<Answer<boost::asio::ip::address_v4>> known_a(const std::string& name);
  virtual std::optional<Answer<boost::asio::ip::address_v6>> known_aaaa(const std::string& name);
  virtual std::optional<Answer<std::string>> known_ptr(const std::string& name);
};

inline std::optional<Answer<boost::asio::ip::address_v4>> Lookup::known_a(
    const std::string& /*name*/) {
  return std::nullopt;
}

inline std::optional<Answer<boost::asio::ip::address_v6>> Lookup::known_aaaa(
    const std::string& /*name*/) {
  return std::nullopt;
}

inline std::optional<Answer<std::string>> Lookup::known_ptr(const std::string& /*name*/) {
  return std::nullopt;
}

}  // namespace sealpost::dns

#include <boost/asio/ip/address.hpp>

namespace sealpost::dns {

// The PTR query name of an address: "4.3.2.1.in-addr.arpa", or the 32 nibbles under "ip6.arpa".
std::string reverse_name(const boost::asio::ip::address& address);

}  // namespace sealpost::dns
