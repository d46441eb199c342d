// Admission control shared by all sessions: connections per client address and in all, and the
// global budget of message bytes held in memory. Each grant is an RAII ticket.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sealpost::net {

// Who "one client" is, for limits and throttles: an IPv4 address, or the network of an IPv6
// address's first `v6_prefix` bits ("2001:db8:1:2::/64"): a host usually holds a whole /64 and
// could otherwise take a fresh address for every connection or every guess. Text that is not an
// address is returned as it is.
std::string client_network(const std::string& ip, unsigned v6_prefix);

class ConnectionLimiter {
 public:
  // Clients are counted by client_network(ip, v6_prefix).
  ConnectionLimiter(std::uint32_t per_client, std::uint32_t total, unsigned v6_prefix = 64)
      : per_client_(per_client), total_(total), v6_prefix_(v6_prefix) {}

  class Ticket {
   public:
    Ticket() = default;
    Ticket(ConnectionLimiter* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), key_(std::move(o.key_)) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket() {
      if (owner_) owner_->release(key_);
    }
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    ConnectionLimiter* owner_ = nullptr;
    std::string key_;
  };

  enum class Refusal { kNone, kPerClient, kTotal };

  // An empty ticket when over a limit; `why` says which. `client_ip` is the peer's address.
  Ticket admit(const std::string& client_ip, Refusal& why);

 private:
  void release(const std::string& client);

  std::uint32_t per_client_;
  std::uint32_t total_;
  unsigned v6_prefix_;
  std::uint32_t count_ = 0;
  std::mutex mutex_;
  std::unordered_map<std::string, std::uint32_t> per_address_;
};

class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t capacity) : capacity_(capacity) {}

  // Reserves `n` more bytes; false (and nothing reserved) when that would pass the capacity.
  bool try_reserve(std::uint64_t n) noexcept {
    std::uint64_t cur = used_.load(std::memory_order_relaxed);
    do {
      if (cur + n > capacity_) return false;
    } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    return true;
  }
  void release(std::uint64_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t used() const noexcept {
    return used_.load(std::memory_order_relaxed);
  }

 private:
  std::uint64_t capacity_;
  std::atomic<std::uint64_t> used_{0};
};

// Bytes of one message reserved against the budget, released when the message is done.
class BudgetReservation {
 public:
  explicit BudgetReservation(ByteBudget& budget) : budget_(budget) {}
  ~BudgetReservation() { budget_.release(held_); }
  BudgetReservation(const BudgetReservation&) = delete;
  BudgetReservation& operator=(const BudgetReservation&) = delete;

  // Grows the reservation to at least `total` bytes, in 16 KiB steps to keep contention low.
  bool ensure(std::uint64_t total) {
    if (total <= held_) return true;
    constexpr std::uint64_t kStep = std::uint64_t{16} * 1024;
    const std::uint64_t step = (total - held_ + kStep - 1) / kStep * kStep;
    if (!budget_.try_reserve(step)) return false;
    held_ += step;
    return true;
  }
  void reset() {
    budget_.release(held_);
    held_ = 0;
  }

 private:
  ByteBudget& budget_;
  std::uint64_t held_ = 0;
};

}  // namespace sealpost::net
