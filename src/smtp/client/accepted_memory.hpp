// Remembers, for a while, which destinations already accepted which message, so that when one
// destination fails temporarily and the sender retries, the others do not get a second copy.
// Keys are keyed hashes of (message digest, destination): nothing readable is kept.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace sealpost::smtp::client {

class AcceptedMemory {
 public:
  using Clock = std::chrono::steady_clock;
  using Digest = std::array<unsigned char, 16>;

  AcceptedMemory(std::chrono::seconds ttl, std::size_t max_entries);

  // Digest of a message as the sender sent it (envelope sender and content).
  [[nodiscard]] Digest message_digest(std::string_view sender, std::string_view content) const;

  [[nodiscard]] bool contains(const Digest& message, std::string_view destination);
  void remember(const Digest& message, std::string_view destination);
  [[nodiscard]] std::size_t size();

 private:
  struct KeyHash {
    std::size_t operator()(const Digest& d) const noexcept {
      std::size_t h;
      static_assert(sizeof h <= sizeof(Digest));
      __builtin_memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };
  [[nodiscard]] Digest key(const Digest& message, std::string_view destination) const;
  void expire(Clock::time_point now);

  std::chrono::seconds ttl_;
  std::size_t max_entries_;
  std::array<unsigned char, 32> secret_{};
  std::mutex mutex_;
  std::unordered_map<Digest, Clock::time_point, KeyHash> entries_;
  std::deque<std::pair<Clock::time_point, Digest>> order_;
};

}  // namespace sealpost::smtp::client
