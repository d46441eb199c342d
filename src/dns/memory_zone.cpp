#include "dns/memory_zone.hpp"

#include <algorithm>

namespace sealpost::dns {

namespace {

std::string canonical(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  });
  return name;
}

}  // namespace

MemoryZone::Node& MemoryZone::node(const std::string& name) {
  return nodes_[canonical(name)];
}

template <class T>
Answer<T> MemoryZone::find(std::string name, std::vector<T> Node::*field) {
  ++queries_;
  Answer<T> answer;
  name = canonical(std::move(name));
  for (int hops = 0; hops < 8; ++hops) {
    const auto it = nodes_.find(name);
    if (it == nodes_.end()) {
      answer.status = Status::kNxDomain;
      return answer;
    }
    const Node& n = it->second;
    if (n.timeout && (n.*field).empty() && !n.cname) {
      answer.status = Status::kTempFail;
      return answer;
    }
    if (n.cname && (n.*field).empty()) {
      name = canonical(*n.cname);
      continue;
    }
    answer.security = n.security;
    answer.ttl = n.ttl;
    answer.records = n.*field;
    answer.status = answer.records.empty() ? Status::kNoData : Status::kOk;
    return answer;
  }
  answer.status = Status::kTempFail;  // a CNAME loop, as a resolver reports it (SERVFAIL)
  return answer;
}

boost::asio::awaitable<Answer<std::string>> MemoryZone::txt(std::string name) {
  co_return find(std::move(name), &Node::txt);
}
boost::asio::awaitable<Answer<boost::asio::ip::address_v4>> MemoryZone::a(std::string name) {
  co_return find(std::move(name), &Node::a);
}
boost::asio::awaitable<Answer<boost::asio::ip::address_v6>> MemoryZone::aaaa(std::string name) {
  co_return find(std::move(name), &Node::aaaa);
}
boost::asio::awaitable<Answer<MxHost>> MemoryZone::mx_records(std::string name) {
  co_return find(std::move(name), &Node::mx);
}
boost::asio::awaitable<Answer<std::string>> MemoryZone::ptr(std::string name) {
  co_return find(std::move(name), &Node::ptr);
}

}  // namespace sealpost::dns
