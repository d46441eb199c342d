// When the outbound queue tries a deferred message again, and when it stops. Growing delays keep
// a dead destination from costing a connection every few minutes for five days, the cap on the
// total time is what RFC 5321 section 4.5.4.1 asks for ("give up ... at least 4-5 days"), and the
// jitter keeps a queue that built up during an outage from hitting the destination all at once
// when it comes back. Pure arithmetic on unix seconds: the caller owns the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sealpost::queue {

// Used when `delays` is empty or a step is not positive: never a retry loop without a pause.
inline constexpr std::chrono::seconds kFallbackRetryDelay = std::chrono::minutes(5);

struct RetrySchedule {
  // Delays after the 1st, 2nd, ... failed attempt; past the list, the last one repeats.
  std::vector<std::chrono::seconds> delays{std::chrono::minutes(5),  std::chrono::minutes(10),
                                           std::chrono::minutes(20), std::chrono::minutes(40),
                                           std::chrono::minutes(80), std::chrono::hours(2),
                                           std::chrono::hours(3),    std::chrono::hours(4)};
  std::chrono::seconds give_up_after{std::chrono::hours(24 * 5)};  // from first queued
  std::chrono::seconds delay_notice_after{std::chrono::hours(4)};  // DSN "delayed" once
};

// Unix seconds of the next attempt after `failed_attempts` (>=1) failures at `now`. `jitter` in
// [0,1) spreads retries (adds up to 10% of the delay) so a destination that comes back is not hit
// by the whole queue at once. Returns nullopt when the next attempt would be past
// queued_at + give_up_after (the caller then gives up: final failure).
//
// One exception to that: while `now` is still before the deadline, a next attempt that would
// fall after it is moved onto the deadline instead. A message queued with the default schedule
// otherwise gives up up to 4 hours before the promised 5 days, just because its last delay was
// long; the last try at the deadline costs one connection and may be the one that works.
// failed_attempts 0 counts as 1; jitter outside [0,1) (or NaN) is clamped.
std::optional<std::int64_t> next_attempt(const RetrySchedule& s, std::uint32_t failed_attempts,
                                         std::int64_t queued_at, std::int64_t now, double jitter);

}  // namespace sealpost::queue
