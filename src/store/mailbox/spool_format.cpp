#include "store/mailbox/spool_format.hpp"

#include <cstring>

namespace sealpost::store::mailbox {

namespace {
constexpr unsigned char kMagic[4] = {'S', 'P', 'L', '1'};
}  // namespace

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

std::vector<SpoolRecord> parse_spool(std::span<const unsigned char> bytes) {
  std::vector<SpoolRecord> out;
  std::size_t pos = 0;
  while (bytes.size() - pos >= kSpoolHeader) {
    const unsigned char* h = bytes.data() + pos;
    if (std::memcmp(h, kMagic, 4) != 0) break;
    const std::uint32_t n = (std::uint32_t{h[20]} << 24) | (std::uint32_t{h[21]} << 16) |
                            (std::uint32_t{h[22]} << 8) | h[23];
    if (n == 0 || n > kMaxSpoolRecord || bytes.size() - pos - kSpoolHeader < n) break;
    SpoolRecord r;
    std::memcpy(r.id.data(), h + 4, r.id.size());
    r.sealed.assign(h + kSpoolHeader, h + kSpoolHeader + n);
    out.push_back(std::move(r));
    pos += kSpoolHeader + n;
  }
  return out;
}

}  // namespace sealpost::store::mailbox
