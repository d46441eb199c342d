// Wall-clock time as protocols write it: Unix seconds (DKIM t=/x=, ARC, SPF %{t}, DMARC report
// periods, key activation times).
#pragma once

#include <chrono>
#include <cstdint>

namespace sealpost::core {

// A proleptic Gregorian calendar date, and the time of day, of Unix seconds in UTC (Howard
// Hinnant's civil_from_days): no locale, no time zone database, no gmtime_r, so the pure layer
// can write dates (RFC 5322, RFC 3339) too.
struct CivilTime {
  std::int64_t year = 1970;
  int month = 1, day = 1;  // 1-12, 1-31
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;  // 0 = Sunday; 1970-01-01 was a Thursday
};

constexpr CivilTime civil_time(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  CivilTime c;
  c.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sealpost::core
