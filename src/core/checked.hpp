// Arithmetic on numbers that came from the network. A size or count a client sends (SIZE=, BDAT,
// an IMAP literal, a partial range) is attacker-chosen: adding it to what a session already holds
// must never wrap around and pass a limit check it should have failed. These helpers say "does
// it fit" without computing a sum that can overflow.
#pragma once

#include <concepts>
#include <limits>
#include <optional>

namespace sealpost::core {

// a + b, or nullopt when it does not fit in T.
template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> checked_add(T a, T b) noexcept {
  T sum{};
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

// a * b, or nullopt when it does not fit in T.
template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> checked_mul(T a, T b) noexcept {
  T product{};
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

// a + b, or the largest (smallest) T when it would pass the top (bottom): for limits and times,
// where "too much" is all that matters.
template <std::integral T>
[[nodiscard]] constexpr T saturating_add(T a, T b) noexcept {
  T sum{};
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min();
}

// Whether `held` plus `more` stays within `limit`, computed without forming the sum.
template <std::unsigned_integral T>
[[nodiscard]] constexpr bool fits_within(T held, T more, T limit) noexcept {
  return held <= limit && more <= limit - held;
}

}  // namespace sealpost::core
