// Spool files are read back after crashes: any bytes must parse to the complete records they
// hold, never more, and re-encoding them must give back a prefix of the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "store/mailbox/spool_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sealpost::store::mailbox;
  const auto records = parse_spool(std::span<const unsigned char>(data, size));
  std::size_t pos = 0;
  for (const auto& r : records) {
    const auto encoded = encode_spool_record(r.id, r.sealed);
    if (pos + encoded.size() > size ||
        std::memcmp(data + pos, encoded.data(), encoded.size()) != 0) {
      __builtin_trap();
    }
    pos += encoded.size();
  }
  // A payload that parses re-encodes to the same bytes.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (const auto payload = parse_spool_payload(bytes)) {
    if (encode_spool_payload(*payload) != bytes) __builtin_trap();
  }
  return 0;
}
