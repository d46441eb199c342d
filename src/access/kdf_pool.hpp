// Password hashing on a pool of its own (DESIGN.md principle 5). Argon2id is deliberately slow and
// memory-hungry: run on the pool that reads mailboxes and commits deliveries, a burst of logins
// (or of guesses) would make every logged-in user and every delivery wait behind it. Here a few
// threads take the work and a bounded number of logins may wait for one; past that the login is
// refused at once (the protocols' "try again later"), so a storm costs the stormer a retry and
// never grows a queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "net/blocking.hpp"

namespace sealpost::access {

class KdfPool {
 public:
  KdfPool(std::uint32_t workers, std::uint32_t queue)
      : pool_(workers), capacity_(workers + queue) {}
  KdfPool(const KdfPool&) = delete;
  KdfPool& operator=(const KdfPool&) = delete;
  ~KdfPool() { pool_.join(); }

  // Runs `work` on the pool and resumes the caller with its result; nullopt, without running it,
  // when the pool is full (workers busy and `queue` logins waiting).
  template <typename F, typename R = std::invoke_result_t<F&>>
  boost::asio::awaitable<std::optional<R>> run(F work) {
    if (in_flight_.fetch_add(1) >= capacity_) {
      in_flight_.fetch_sub(1);
      refused_.fetch_add(1);
      co_return std::nullopt;
    }
    struct Release {
      std::atomic<std::uint32_t>& n;
      ~Release() { n.fetch_sub(1); }
    } release{in_flight_};
    co_return co_await net::run_blocking(pool_.get_executor(), std::move(work));
  }

  // Logins running or waiting now, and refused since the start (for tests and metrics).
  [[nodiscard]] std::uint32_t in_flight() const noexcept { return in_flight_.load(); }
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(); }

 private:
  boost::asio::thread_pool pool_;
  std::uint32_t capacity_;
  std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace sealpost::access
