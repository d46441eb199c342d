// Bounded parsers for the RDATA libunbound hands back (RFC 1035 section 3.3 wire format). DNS
// answers are hostile input: every length is checked, compression pointers (which may not
// appear in these uncompressed RDATA) and over-long names are refused.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sealpost::dns {

enum class RdataError { kTruncated, kBadName, kTrailingData };

struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // lowercase, no trailing dot; empty for the root (a null MX, RFC 7505)
};

// A domain name in wire labels starting at `pos`; advances `pos` past it.
Result<std::string, RdataError> parse_name(std::span<const std::uint8_t> data, std::size_t& pos);

Result<MxRecord, RdataError> parse_mx(std::span<const std::uint8_t> data);
Result<std::string, RdataError> parse_ptr(std::span<const std::uint8_t> data);
struct Tlsa {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
};
Result<Tlsa, RdataError> parse_tlsa(std::span<const std::uint8_t> data);

// The record's character-strings, each as it is, and their concatenation (RFC 7208 section 3.3).
Result<std::vector<std::string>, RdataError> parse_txt(std::span<const std::uint8_t> data);

}  // namespace sealpost::dns
