// The sealed spool's record format (see spool.hpp), as a pure, bounded parser: spool files are
// read after crashes and must never be misread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace sealpost::store::mailbox {

using SpoolId = std::array<unsigned char, 16>;

struct SpoolRecord {
  SpoolId id{};
  std::vector<unsigned char> sealed;
};

constexpr std::size_t kMaxSpoolRecord = std::size_t{256} << 20;
constexpr std::size_t kSpoolHeader = 4 + 16 + 4;  // "SPL1", id, big-endian length

std::vector<unsigned char> encode_spool_record(const SpoolId& id,
                                               std::span<const unsigned char> sealed);

// Every complete record, in order; parsing stops at the first damaged or truncated one.
std::vector<SpoolRecord> parse_spool(std::span<const unsigned char> bytes);

}  // namespace sealpost::store::mailbox
