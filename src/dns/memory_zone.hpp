// An in-memory DNS for tests, fuzzers and conformance suites: names map to records, CNAMEs are
// followed, a name can be made to time out, and every query is counted. Names are compared
// without case and without a trailing dot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dns/lookup.hpp"

namespace sealpost::dns {

class MemoryZone final : public Lookup {
 public:
  struct Node {
    std::vector<std::string> txt;
    std::vector<boost::asio::ip::address_v4> a;
    std::vector<boost::asio::ip::address_v6> aaaa;
    std::vector<MxHost> mx;
    std::vector<std::string> ptr;
    std::optional<std::string> cname;
    bool timeout = false;  // queries for types the name has no records of fail temporarily
    Security security = Security::kInsecure;
    std::uint32_t ttl = 300;  // of every answer for the name
  };

  Node& node(const std::string& name);  // creates the name (so it exists, with no records)

  boost::asio::awaitable<Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address_v4>> a(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address_v6>> aaaa(std::string name) override;
  boost::asio::awaitable<Answer<MxHost>> mx_records(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> ptr(std::string name) override;

  [[nodiscard]] int queries() const { return queries_; }

 private:
  template <class T>
  Answer<T> find(std::string name, std::vector<T> Node::*field);

  std::map<std::string, Node> nodes_;
  int queries_ = 0;
};

}  // namespace sealpost::dns
