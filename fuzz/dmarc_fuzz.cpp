// DMARC records come from DNS and From: fields from anyone: parsing (records, their report URIs'
// size limits, address lists) must return a value or an error for any bytes, within bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dmarc/record.hpp"
#include "mime/address_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = sealpost::auth::dmarc::parse_record(in)) {
    if (r->pct > 100 || r->rua.size() > 16) __builtin_trap();
    for (const auto& u : r->rua) {
      (void)sealpost::auth::dmarc::mailto_address(u);
      // A URI parse_record kept has a well-formed limit, if any.
      if (u.find('!') != std::string::npos && !sealpost::auth::dmarc::report_size_limit(u)) {
        __builtin_trap();
      }
    }
  }
  (void)sealpost::auth::dmarc::report_size_limit(in);
  const auto boxes = sealpost::mime::parse_address_list(in, 64);
  if (boxes.size() > 64) __builtin_trap();
  for (const auto& m : boxes) {
    if (m.domain.empty() || m.domain.size() > size) __builtin_trap();
  }
  return 0;
}
