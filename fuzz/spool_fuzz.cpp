// Spool files are read back after crashes: any bytes must parse to the complete records they
// hold, never more, and re-encoding them must give back a prefix of the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

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
  return 0;
}
