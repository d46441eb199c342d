// Brute-force protection for logins (IMAP, POP3, submission): failed attempts are counted per
// client address and per account, and the counts decay with time. Past a few free failures the
// next attempt must wait, twice as long after each further failure, up to a cap:
//
//   client address: 5 free failures, then 1 s, 2 s, 4 s ... at most 15 min;
//   account:       10 free failures, then 1 s ... at most 15 min, from any address.
//
// The account limit slows a distributed guesser without locking the owner out for long (the wait
// is bounded). An attempt counts as a failure before its work starts (Argon2id), so parallel
// attempts cannot all slip in before the first failure is known; a success takes back exactly
// what that client's attempts on that account counted, nothing else: logging in to one's own
// account does not wipe a client's failures on other accounts, nor other clients' failures on
// this one. Keys are what the caller chooses (the log's keyed hash of the client's network; the
// account's normalised address): nothing readable needs to be kept. Memory is bounded: past
// `max_entries` the entries that have decayed are dropped, then the oldest.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sealpost::net {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Policy {
    std::uint32_t free_failures;
    std::chrono::seconds decay;  // one failure forgotten per this much time
    std::chrono::seconds max_wait;
  };
  static constexpr Policy kClientPolicy{5, std::chrono::seconds(60), std::chrono::minutes(15)};
  static constexpr Policy kAccountPolicy{10, std::chrono::seconds(60), std::chrono::minutes(15)};

  explicit LoginThrottle(std::size_t max_entries = 100000) : max_entries_(max_entries) {}

  // How long the attempt must wait before it may be tried (zero: now). Callers refuse it with a
  // temporary error ("try again later") rather than sleep, so a guesser holds no resources.
  [[nodiscard]] Clock::duration wait_before(const std::string& client, const std::string& account,
                                            Clock::time_point now);

  // Counts an attempt as a failure, before its work starts. `account` may be empty (a client
  // that failed before naming one).
  void attempting(const std::string& client, const std::string& account, Clock::time_point now);
  // The attempt succeeded: what this client's attempts on this account counted is taken back.
  void succeeded(const std::string& client, const std::string& account, Clock::time_point now);

  [[nodiscard]] std::size_t size();

 private:
  struct Entry {
    double failures = 0;  // decayed count
    Clock::time_point updated;
    Clock::time_point blocked_until;
  };
  static double decayed(const Entry& e, const Policy& p, Clock::time_point now);
  static void bump(std::unordered_map<std::string, Entry>& map, const std::string& key,
                   const Policy& p, Clock::time_point now);
  // Takes `n` failures back from `key`'s entry, lifting its block when no longer over.
  static void take_back(std::unordered_map<std::string, Entry>& map, const std::string& key,
                        const Policy& p, double n, Clock::time_point now);
  void trim(Clock::time_point now);

  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> clients_;
  std::unordered_map<std::string, Entry> accounts_;
  std::unordered_map<std::string, Entry> pairs_;  // client + '\n' + account
};

}  // namespace sealpost::net
