#include "net/admission.hpp"

namespace sealpost::net {

ConnectionLimiter::Ticket ConnectionLimiter::admit(const std::string& client, Refusal& why) {
  std::lock_guard lock(mutex_);
  if (count_ >= total_) {
    why = Refusal::kTotal;
    return {};
  }
  auto& n = per_address_[client];
  if (n >= per_client_) {
    why = Refusal::kPerClient;
    return {};
  }
  ++n;
  ++count_;
  why = Refusal::kNone;
  return {this, client};
}

void ConnectionLimiter::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  --count_;
  const auto it = per_address_.find(client);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace sealpost::net
