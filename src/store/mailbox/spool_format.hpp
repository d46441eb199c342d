// The sealed spool's record format (see spool.hpp), as a pure, bounded parser: spool files are
// read after crashes and must never be misread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

// A record's header: nullopt when it is not one (wrong magic, a zero length). The length is not
// checked against any bound here: the reader compares it with its own and with the file.
struct SpoolHeader {
  SpoolId id{};
  std::uint32_t length = 0;
};
std::optional<SpoolHeader> parse_spool_header(std::span<const unsigned char, kSpoolHeader> bytes);

// Every complete record, in order; parsing stops at the first damaged or truncated one.
std::vector<SpoolRecord> parse_spool(std::span<const unsigned char> bytes);

// What a record seals: the message and what delivery decided about it, so that the import at
// unlock files it as the MX would have.  "SPM1" | INTERNALDATE (8 bytes, big-endian Unix time) |
// flags (1 byte: bit 0 = junk) | the message.
struct SpoolPayload {
  std::int64_t internal_date = 0;
  bool junk = false;
  std::string_view message;
};

std::string encode_spool_payload(const SpoolPayload& payload);
// Nullopt when `bytes` is not a payload; the message views `bytes`.
std::optional<SpoolPayload> parse_spool_payload(std::string_view bytes);

}  // namespace sealpost::store::mailbox
