#include "core/duration.hpp"

#include <cstdint>

#include "core/strings.hpp"

namespace sealpost::core {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;

  // 10 digits are enough for any accepted duration in seconds and keep the sums far from
  // overflowing.
  constexpr std::size_t kMaxDigits = 10;
  if (const auto plain = parse_decimal(text, kMaxDigits)) {
    if (*plain == 0 || *plain > static_cast<std::uint64_t>(kMaxDuration.count())) {
      return std::nullopt;
    }
    return std::chrono::seconds(static_cast<std::int64_t>(*plain));
  }

  constexpr std::string_view kUnits = "dhms";
  constexpr std::uint64_t kUnitSeconds[] = {86400, 3600, 60, 1};
  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // units must come in kUnits order, each once
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && is_ascii_digit(text[i])) ++i;
    const auto number = parse_decimal(text.substr(start, i - start), kMaxDigits);
    if (!number || i >= text.size()) return std::nullopt;
    const auto unit = kUnits.find(text[i], next_unit);
    if (unit == std::string_view::npos) return std::nullopt;
    total += *number * kUnitSeconds[unit];
    if (total > static_cast<std::uint64_t>(kMaxDuration.count())) return std::nullopt;
    next_unit = unit + 1;
    ++i;
  }
  if (total == 0) return std::nullopt;
  return std::chrono::seconds(static_cast<std::int64_t>(total));
}

std::optional<std::vector<std::chrono::seconds>> parse_delays(std::string_view text) {
  std::vector<std::chrono::seconds> delays;
  if (trim(text).empty()) return std::nullopt;
  while (true) {
    const auto comma = text.find(',');
    const auto delay = parse_duration(text.substr(0, comma));
    if (!delay || *delay > kMaxRetryDelay || delays.size() == kMaxRetrySteps) return std::nullopt;
    delays.push_back(*delay);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return delays;
}

}  // namespace sealpost::core
