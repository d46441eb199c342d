// One timer per connection that enforces whatever deadline the protocol step in progress has
// set: when it passes, the connection is closed and the pending read or write fails. Cheaper and
// plainer than racing every operation against its own timer.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/stream.hpp"

namespace sealpost::net {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kGoodbyeGrace{5};

  explicit Watchdog(const boost::asio::any_io_executor& ex) : timer_(ex) {}

  // Sets the deadline; must be called on the connection's executor.
  void arm(Clock::time_point deadline) {
    const bool earlier = deadline < deadline_;
    deadline_ = deadline;
    if (earlier) timer_.cancel();
  }
  void arm_for(Clock::duration d) { arm(Clock::now() + d); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }
  // Safe to read from any thread (a connection pool checks it).
  [[nodiscard]] bool expired() const noexcept { return expired_.load(); }

  // Runs until stopped or expired; on expiry closes `stream`, failing its pending operations.
  // With `warn_first`, the first expiry only cancels the pending operations, so the owner can
  // say goodbye (an SMTP server's "421 4.4.2 timeout") under a fresh, short deadline; the next
  // expiry closes. (It takes the stream, not a callback: g++ 12 double-frees a capturing lambda
  // that appears in a co_await expression.)
  boost::asio::awaitable<void> run(Stream& stream, bool warn_first = false) {
    bool warned = false;
    while (!stopped_) {
      timer_.expires_at(deadline_);
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (stopped_) break;
      if (Clock::now() >= deadline_) {
        expired_ = true;
        if (warn_first && !warned) {
          warned = true;
          // The owner's goodbye gets a grace period of its own, whether or not its re-arm runs
          // before this loop looks at the (expired) deadline again: without it, the close
          // could win the race and the goodbye never be written.
          deadline_ = Clock::now() + kGoodbyeGrace;
          boost::system::error_code ignored;
          stream.socket().cancel(ignored);
          continue;
        }
        stream.close();
        break;
      }
    }
  }

 private:
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool stopped_ = false;
  std::atomic<bool> expired_{false};
};

namespace detail {
// Holds `owner` (the session that has `dog` and `stream` as members) alive while `dog` runs.
// A plain function, not a capturing coroutine lambda: see Watchdog::run.
inline boost::asio::awaitable<void> watch(std::shared_ptr<void> owner, Watchdog& dog,
                                          Stream& stream) {
  co_await dog.run(stream, /*warn_first=*/true);
}
}  // namespace detail

// Starts a connection on its socket's executor: its watchdog (warning first, so the protocol
// can say goodbye) and its protocol coroutine `serve`, which stops the watchdog when it ends.
// Both keep `owner` alive.
inline void start_watched(std::shared_ptr<void> owner, Watchdog& dog, Stream& stream,
                          boost::asio::awaitable<void> serve) {
  const auto ex = stream.socket().get_executor();
  boost::asio::co_spawn(ex, detail::watch(std::move(owner), dog, stream), boost::asio::detached);
  boost::asio::co_spawn(ex, std::move(serve), boost::asio::detached);
}

}  // namespace sealpost::net
