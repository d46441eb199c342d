#include "net/login_throttle.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sealpost::net {

double LoginThrottle::decayed(const Entry& e, const Policy& p, Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - e.updated).count();
  return std::max(0.0, e.failures - elapsed / static_cast<double>(p.decay.count()));
}

void LoginThrottle::bump(std::unordered_map<std::string, Entry>& map, const std::string& key,
                         const Policy& p, Clock::time_point now) {
  Entry& e = map[key];
  e.failures = decayed(e, p, now) + 1;
  e.updated = now;
  const double over = e.failures - static_cast<double>(p.free_failures);
  if (over > 0) {
    // 1 s after the first failure past the free ones, doubling, capped.
    const double seconds = std::min(std::ldexp(1.0, static_cast<int>(std::min(over, 30.0)) - 1),
                                    static_cast<double>(p.max_wait.count()));
    e.blocked_until =
        now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }
}

LoginThrottle::Clock::duration LoginThrottle::wait_before(const std::string& client,
                                                          const std::string& account,
                                                          Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  Clock::duration wait{0};
  for (auto* map : {&clients_, &accounts_}) {
    const auto it = map->find(map == &clients_ ? client : account);
    if (it != map->end() && it->second.blocked_until > now) {
      wait = std::max(wait, it->second.blocked_until - now);
    }
  }
  return wait;
}

void LoginThrottle::take_back(std::unordered_map<std::string, Entry>& map, const std::string& key,
                              const Policy& p, double n, Clock::time_point now) {
  const auto it = map.find(key);
  if (it == map.end()) return;
  Entry& e = it->second;
  e.failures = std::max(0.0, decayed(e, p, now) - n);
  e.updated = now;
  if (e.failures <= static_cast<double>(p.free_failures)) e.blocked_until = now;
  if (e.failures <= 0) map.erase(it);
}

void LoginThrottle::attempting(const std::string& client, const std::string& account,
                               Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  bump(clients_, client, kClientPolicy, now);
  if (!account.empty()) {
    bump(accounts_, account, kAccountPolicy, now);
    bump(pairs_, client + '\n' + account, kClientPolicy, now);
  }
  if (clients_.size() + accounts_.size() + pairs_.size() > max_entries_) trim(now);
}

void LoginThrottle::succeeded(const std::string& client, const std::string& account,
                              Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto pair = pairs_.find(client + '\n' + account);
  if (pair == pairs_.end()) return;
  const double mine = decayed(pair->second, kClientPolicy, now);
  pairs_.erase(pair);
  take_back(clients_, client, kClientPolicy, mine, now);
  take_back(accounts_, account, kAccountPolicy, mine, now);
}

std::size_t LoginThrottle::size() {
  const std::lock_guard lock(mutex_);
  return clients_.size() + accounts_.size() + pairs_.size();
}

void LoginThrottle::trim(Clock::time_point now) {
  // First what has decayed and is no longer blocked; then, if still over, the oldest half.
  const auto sweep = [&](std::unordered_map<std::string, Entry>& map, const Policy& p) {
    std::erase_if(map, [&](const auto& kv) {
      return decayed(kv.second, p, now) <= 0 && kv.second.blocked_until <= now;
    });
  };
  sweep(clients_, kClientPolicy);
  sweep(accounts_, kAccountPolicy);
  sweep(pairs_, kClientPolicy);
  for (auto* map : {&pairs_, &clients_, &accounts_}) {
    if (clients_.size() + accounts_.size() + pairs_.size() <= max_entries_) break;
    std::vector<Clock::time_point> times;
    times.reserve(map->size());
    for (const auto& kv : *map) times.push_back(kv.second.updated);
    if (times.empty()) continue;
    auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    const auto cutoff = *middle;
    std::erase_if(*map, [&](const auto& kv) { return kv.second.updated <= cutoff; });
  }
}

}  // namespace sealpost::net
