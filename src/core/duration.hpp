// Durations as the configuration and the CLI write them: "300", "45s", "2h30m", "5d", and lists
// of them ("5m,10m,1h"). Pure parsing, bounded: no duration past kMaxDuration, no list longer
// than kMaxRetrySteps.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace sealpost::core {

// The longest duration parse_duration() accepts (a give-up time longer than this is a typo).
inline constexpr std::chrono::seconds kMaxDuration = std::chrono::hours(24 * 366);
// A delay step parse_delays() accepts at most, and how many steps.
inline constexpr std::chrono::seconds kMaxRetryDelay = std::chrono::hours(24 * 7);
inline constexpr std::size_t kMaxRetrySteps = 64;

// A duration is either a plain number of seconds or number-unit pairs in the order d, h, m, s,
// each unit at most once ("1d12h", "2h30m"); spaces around the whole are allowed, inside a
// duration not. Units are lowercase ("5M" could be months). From 1 second up to kMaxDuration;
// nullopt for anything else.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// "5m,10m,1h,2h30m" into delays (spaces around the commas allowed); nullopt on anything
// malformed, empty, zero or over kMaxRetryDelay per step, or more than kMaxRetrySteps steps.
std::optional<std::vector<std::chrono::seconds>> parse_delays(std::string_view text);

}  // namespace sealpost::core
