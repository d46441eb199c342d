// SPF records (RFC 7208 section 4.5 and the grammar of section 12), parsed completely before any
// term is evaluated: a syntax error anywhere makes the whole record a "permerror" (section 4.6).
// Records come from DNS and are hostile input; the parser is bounded by the record's length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::auth::spf {

// An IPv4 or IPv6 address, without the networking library (the pure layer has none).
struct Ip {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first four octets

  static std::optional<Ip> parse(std::string_view text);
  [[nodiscard]] std::string to_string() const;
  // Whether the first `prefix` bits equal those of `network` (of the same family).
  [[nodiscard]] bool in_network(const Ip& network, unsigned prefix) const;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it maps (RFC 4291 2.5.5.2).
  [[nodiscard]] Ip unmapped() const;
};

enum class Qualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };
enum class Mechanism { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

struct Directive {
  Qualifier qualifier = Qualifier::kPass;
  Mechanism mechanism = Mechanism::kAll;
  std::string domain_spec;  // macro-string; empty: the current domain (a, mx, ptr)
  Ip network;               // ip4, ip6
  unsigned cidr4 = 32;
  unsigned cidr6 = 128;
};

struct Record {
  std::vector<Directive> directives;
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
};

enum class RecordError { kNotSpf, kSyntax, kNotAscii, kDuplicateModifier, kTooLong };

// Whether a TXT string is an SPF record: "v=spf1" alone or followed by a space (section 4.5).
bool is_spf_record(std::string_view txt) noexcept;

Result<Record, RecordError> parse_record(std::string_view txt);

}  // namespace sealpost::auth::spf
