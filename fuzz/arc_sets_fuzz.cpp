// ARC header fields come from every hop a message passed: grouping them into sets must give a
// sound chain or a problem for any bytes, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/arc/sets.hpp"
#include "mime/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto header = sealpost::mime::split_header(in);
  if (!header) return 0;
  const auto sets = sealpost::auth::arc::collect_sets(header.value());
  if (sets.instances < 0 || sets.instances > sealpost::auth::arc::kMaxInstances) __builtin_trap();
  if (sets.problem.empty()) {
    for (int i = 1; i <= sets.instances; ++i) {
      const auto& s = sets.by_instance.at(i);
      if (!s.as || !s.ams || !s.aar) __builtin_trap();
    }
  }
  return 0;
}
