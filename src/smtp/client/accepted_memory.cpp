#include "smtp/client/accepted_memory.hpp"

#include <sodium.h>

namespace sealpost::smtp::client {

AcceptedMemory::AcceptedMemory(std::chrono::seconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  randombytes_buf(secret_.data(), secret_.size());
}

AcceptedMemory::Digest AcceptedMemory::message_digest(std::string_view sender,
                                                      std::string_view content) const {
  Digest d{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, secret_.data(), secret_.size(), d.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(sender.data()),
                            sender.size());
  const unsigned char sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(content.data()),
                            content.size());
  crypto_generichash_final(&st, d.data(), d.size());
  return d;
}

AcceptedMemory::Digest AcceptedMemory::key(const Digest& message,
                                           std::string_view destination) const {
  Digest k{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, secret_.data(), secret_.size(), k.size());
  crypto_generichash_update(&st, message.data(), message.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(destination.data()),
                            destination.size());
  crypto_generichash_final(&st, k.data(), k.size());
  return k;
}

void AcceptedMemory::expire(Clock::time_point now) {
  while (!order_.empty() && (order_.front().first <= now || order_.size() > max_entries_)) {
    const auto it = entries_.find(order_.front().second);
    if (it != entries_.end() && it->second == order_.front().first) entries_.erase(it);
    order_.pop_front();
  }
}

bool AcceptedMemory::contains(const Digest& message, std::string_view destination) {
  if (ttl_.count() == 0) return false;
  const auto k = key(message, destination);
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  expire(now);
  const auto it = entries_.find(k);
  return it != entries_.end() && it->second > now;
}

void AcceptedMemory::remember(const Digest& message, std::string_view destination) {
  if (ttl_.count() == 0) return;
  const auto k = key(message, destination);
  std::lock_guard lock(mutex_);
  const auto expiry = Clock::now() + ttl_;
  entries_[k] = expiry;
  order_.emplace_back(expiry, k);
  expire(Clock::now());
}

std::size_t AcceptedMemory::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace sealpost::smtp::client
