// DNS RDATA is attacker-controlled: every parser must return a value or an error, never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dns/rdata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  (void)sealpost::dns::parse_mx(in);
  (void)sealpost::dns::parse_ptr(in);
  (void)sealpost::dns::parse_txt(in);
  (void)sealpost::dns::parse_tlsa(in);
  std::size_t pos = 0;
  const auto name = sealpost::dns::parse_name(in, pos);
  if (name && (pos > size || name->size() > 253)) __builtin_trap();
  return 0;
}
