// "IP:PORT" and "[IPv6]:PORT" endpoints as written in the config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

struct Endpoint {
  std::string host;  // an IP address literal (no brackets)
  std::uint16_t port = 0;

  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses "192.0.2.1:25", "[2001:db8::1]:25". Only numeric addresses; port 1-65535.
std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace sealpost
