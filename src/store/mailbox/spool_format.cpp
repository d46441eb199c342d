#include "store/mailbox/spool_format.hpp"

#include <cstring>

namespace sealpost::store::mailbox {

namespace {
constexpr unsigned char kMagic[4] = {'S', 'P', 'L', '1'};
constexpr std::string_view kPayloadMagic = "SPM1";
constexpr std::size_t kPayloadHeader = 4 + 8 + 1;
}  // namespace

std::string encode_spool_payload(const SpoolPayload& payload) {
  std::string out;
  out.reserve(kPayloadHeader + payload.message.size());
  out += kPayloadMagic;
  const auto date = static_cast<std::uint64_t>(payload.internal_date);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((date >> shift) & 0xff);
  out += static_cast<char>(payload.junk ? 1 : 0);
  out += payload.message;
  return out;
}

std::optional<SpoolPayload> parse_spool_payload(std::string_view bytes) {
  if (bytes.size() < kPayloadHeader || bytes.substr(0, 4) != kPayloadMagic) return std::nullopt;
  std::uint64_t date = 0;
  for (std::size_t i = 4; i < 12; ++i) date = (date << 8) | static_cast<unsigned char>(bytes[i]);
  const auto flags = static_cast<unsigned char>(bytes[12]);
  if (flags > 1) return std::nullopt;
  SpoolPayload p;
  p.internal_date = static_cast<std::int64_t>(date);
  p.junk = flags == 1;
  p.message = bytes.substr(kPayloadHeader);
  return p;
}

std::vector<unsigned char> encode_spool_record(const SpoolId& id,
                                               std::span<const unsigned char> sealed) {
  std::vector<unsigned char> record(kSpoolHeader + sealed.size());
  std::memcpy(record.data(), kMagic, 4);
  std::memcpy(record.data() + 4, id.data(), id.size());
  const auto n = static_cast<std::uint32_t>(sealed.size());
  record[20] = static_cast<unsigned char>(n >> 24);
  record[21] = static_cast<unsigned char>(n >> 16);
  record[22] = static_cast<unsigned char>(n >> 8);
  record[23] = static_cast<unsigned char>(n);
  if (!sealed.empty()) std::memcpy(record.data() + kSpoolHeader, sealed.data(), sealed.size());
  return record;
}

std::optional<SpoolHeader> parse_spool_header(std::span<const unsigned char, kSpoolHeader> bytes) {
  const unsigned char* h = bytes.data();
  if (std::memcmp(h, kMagic, 4) != 0) return std::nullopt;
  SpoolHeader header;
  std::memcpy(header.id.data(), h + 4, header.id.size());
  header.length = (std::uint32_t{h[20]} << 24) | (std::uint32_t{h[21]} << 16) |
                  (std::uint32_t{h[22]} << 8) | h[23];
  if (header.length == 0) return std::nullopt;
  return header;
}

std::vector<SpoolRecord> parse_spool(std::span<const unsigned char> bytes) {
  std::vector<SpoolRecord> out;
  std::size_t pos = 0;
  while (bytes.size() - pos >= kSpoolHeader) {
    const unsigned char* h = bytes.data() + pos;
    const auto header =
        parse_spool_header(std::span<const unsigned char, kSpoolHeader>(h, kSpoolHeader));
    if (!header) break;
    const std::uint32_t n = header->length;
    if (n > kMaxSpoolRecord || bytes.size() - pos - kSpoolHeader < n) break;
    SpoolRecord r;
    r.id = header->id;
    r.sealed.assign(h + kSpoolHeader, h + kSpoolHeader + n);
    out.push_back(std::move(r));
    pos += kSpoolHeader + n;
  }
  return out;
}

}  // namespace sealpost::store::mailbox
