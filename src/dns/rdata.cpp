#include "dns/rdata.hpp"

namespace sealpost::dns {

namespace {

constexpr std::size_t kMaxName = 255;  // wire octets (RFC 1035 section 2.3.4)

bool is_host_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

Result<std::string, RdataError> parse_name(std::span<const std::uint8_t> data, std::size_t& pos) {
  std::string name;
  std::size_t wire = 0;
  while (true) {
    if (pos >= data.size()) return unexpected(RdataError::kTruncated);
    const std::uint8_t len = data[pos++];
    ++wire;
    if (len == 0) break;
    if (len > 63) return unexpected(RdataError::kBadName);  // includes 0xC0 pointers
    if (pos + len > data.size()) return unexpected(RdataError::kTruncated);
    wire += len;
    if (wire > kMaxName) return unexpected(RdataError::kBadName);
    if (!name.empty()) name += '.';
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint8_t c = data[pos + i];
      // Host names only: anything else in a name we would connect to is refused, not escaped.
      if (!is_host_char(c)) return unexpected(RdataError::kBadName);
      name += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    pos += len;
  }
  return name;
}

Result<MxRecord, RdataError> parse_mx(std::span<const std::uint8_t> data) {
  if (data.size() < 3) return unexpected(RdataError::kTruncated);
  MxRecord mx;
  mx.preference = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
  std::size_t pos = 2;
  auto host = parse_name(data, pos);
  if (!host) return unexpected(host.error());
  if (pos != data.size()) return unexpected(RdataError::kTrailingData);
  mx.host = std::move(host).value();
  return mx;
}

Result<std::string, RdataError> parse_ptr(std::span<const std::uint8_t> data) {
  std::size_t pos = 0;
  auto name = parse_name(data, pos);
  if (!name) return unexpected(name.error());
  if (pos != data.size()) return unexpected(RdataError::kTrailingData);
  return std::move(name).value();
}

Result<Tlsa, RdataError> parse_tlsa(std::span<const std::uint8_t> data) {
  // RFC 6698 section 2.1: three octets, then at least one octet of association data.
  if (data.size() < 4) return unexpected(RdataError::kTruncated);
  Tlsa t;
  t.usage = data[0];
  t.selector = data[1];
  t.matching_type = data[2];
  t.data.assign(data.begin() + 3, data.end());
  return t;
}

Result<std::vector<std::string>, RdataError> parse_txt(std::span<const std::uint8_t> data) {
  std::vector<std::string> strings;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t len = data[pos++];
    if (pos + len > data.size()) return unexpected(RdataError::kTruncated);
    strings.emplace_back(reinterpret_cast<const char*>(data.data() + pos), len);
    pos += len;
  }
  if (strings.empty()) return unexpected(RdataError::kTruncated);
  return strings;
}

}  // namespace sealpost::dns
