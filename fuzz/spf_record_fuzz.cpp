// SPF records and the macros in them come from DNS: parsing and expansion must return a value or
// an error for any bytes, never crash or grow without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/spf/macro.hpp"
#include "auth/spf/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace sealpost::auth::spf;
  if (auto record = parse_record(in)) {
    for (const auto& d : record->directives) {
      if (!d.domain_spec.empty() && !valid_domain_spec(d.domain_spec)) __builtin_trap();
    }
  }
  MacroContext c;
  c.local_part = "local.part-x";
  c.sender_domain = "example.com";
  c.domain = "sub.example.com";
  c.ip = *Ip::parse(size % 2 ? "2001:db8::1" : "192.0.2.1");
  for (const bool explanation : {false, true}) {
    if (auto e = expand(in, c, explanation)) {
      if (e->size() > 8192 + 1024) __builtin_trap();  // bounded whatever the input
      const auto t = target_name(*e);
      if (t.size() > 253) __builtin_trap();
    }
  }
  (void)Ip::parse(in);
  return 0;
}
