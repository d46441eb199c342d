#include "filter/greylist.hpp"

#include <algorithm>
#include <vector>

#include "core/strings.hpp"
#include "net/connection_rate.hpp"

namespace sealpost::filter {

Greylist::Greylist(GreylistSettings settings, const core::ClientHasher& hasher, Clock clock)
    : settings_(settings), hasher_(hasher), clock_(std::move(clock)) {}

std::chrono::seconds Greylist::check(const std::string& client_ip, std::string_view sender,
                                     std::string_view recipient) {
  // One keyed hash of the three, separated by what none of them may hold.
  std::string triplet = net::ConnectionRate::network_of(client_ip);
  triplet += '\n';
  triplet += to_lower_ascii(sender);
  triplet += '\n';
  triplet += to_lower_ascii(recipient);
  const std::string key = hasher_.hash(triplet);
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Entry& e = it->second;
    if (now < e.passed_until) return std::chrono::seconds(0);
    const auto waited = now - e.first;
    if (waited >= settings_.delay && waited <= settings_.window) {
      e.passed_until = now + settings_.pass_for;
      return std::chrono::seconds(0);
    }
    if (waited < settings_.delay) {
      return std::chrono::ceil<std::chrono::seconds>(settings_.delay - waited);
    }
    entries_.erase(it);  // the window passed, or the pass expired: start again
  }
  if (entries_.size() >= settings_.max_entries) forget_oldest();
  entries_.emplace(key, Entry{now});
  return settings_.delay;
}

void Greylist::forget_oldest() {
  // A tenth at a time, so that a full table costs one sort per many triplets.
  std::vector<std::chrono::steady_clock::time_point> firsts;
  firsts.reserve(entries_.size());
  for (const auto& [key, e] : entries_) firsts.push_back(std::max(e.first, e.passed_until));
  const auto cut = firsts.begin() + static_cast<std::ptrdiff_t>(firsts.size() / 10);
  std::nth_element(firsts.begin(), cut, firsts.end());
  const auto before = *cut;
  std::erase_if(entries_, [&](const auto& kv) {
    return std::max(kv.second.first, kv.second.passed_until) <= before;
  });
}

std::size_t Greylist::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace sealpost::filter
