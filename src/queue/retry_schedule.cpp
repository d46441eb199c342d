#include "queue/retry_schedule.hpp"

#include <cmath>
#include <limits>

#include "core/checked.hpp"

namespace sealpost::queue {
namespace {

// Times come from the spool and the configuration: saturate instead of overflowing.
using core::saturating_add;

std::int64_t delay_for(const RetrySchedule& s, std::uint32_t failed_attempts) noexcept {
  if (s.delays.empty()) return kFallbackRetryDelay.count();
  const std::size_t step = failed_attempts == 0 ? 0 : failed_attempts - 1;
  const auto delay = s.delays[step < s.delays.size() ? step : s.delays.size() - 1];
  return delay.count() > 0 ? static_cast<std::int64_t>(delay.count()) : kFallbackRetryDelay.count();
}

}  // namespace

std::optional<std::int64_t> next_attempt(const RetrySchedule& s, std::uint32_t failed_attempts,
                                         std::int64_t queued_at, std::int64_t now, double jitter) {
  const std::int64_t deadline =
      saturating_add(queued_at, static_cast<std::int64_t>(s.give_up_after.count()));
  if (now >= deadline) return std::nullopt;

  const std::int64_t delay = delay_for(s, failed_attempts);
  if (!(jitter >= 0.0)) jitter = 0.0;  // also NaN
  if (jitter >= 1.0) jitter = std::nextafter(1.0, 0.0);
  // delay <= ~2^63 and the factor < 0.1: the product fits and stays below delay / 10 + 1.
  const auto spread = static_cast<std::int64_t>(static_cast<double>(delay) * 0.1 * jitter);

  const std::int64_t next = saturating_add(saturating_add(now, delay), spread);
  return next > deadline ? deadline : next;
}

}  // namespace sealpost::queue
