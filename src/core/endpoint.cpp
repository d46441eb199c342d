#include "core/endpoint.hpp"

#include <arpa/inet.h>

#include "core/strings.hpp"

namespace sealpost {

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  const auto p = parse_decimal(port, 5);
  if (!p || *p == 0 || *p > 65535) return std::nullopt;
  const std::string h(host);
  unsigned char buf[16];
  const bool v6 = h.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, h.c_str(), buf) != 1) return std::nullopt;
  return Endpoint{h, static_cast<std::uint16_t>(*p)};
}

}  // namespace sealpost
