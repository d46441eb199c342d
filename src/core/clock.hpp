// Wall-clock time as protocols write it: Unix seconds (DKIM t=/x=, ARC, SPF %{t}, DMARC report
// periods, key activation times).
#pragma once

#include <chrono>
#include <cstdint>

namespace sealpost::core {

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sealpost::core
