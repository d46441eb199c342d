#include "smtp/client/tls_results.hpp"

#include <algorithm>

namespace sealpost::smtp::client {

std::optional<TlsResultType> tls_result_type_from(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(TlsResultType::kStsWebpkiInvalid); ++i) {
    const auto t = static_cast<TlsResultType>(i);
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

void TlsResults::record(const Session& s) {
  const std::lock_guard lock(mutex_);
  auto it = by_domain_.find(s.policy_domain);
  if (it == by_domain_.end()) {
    if (by_domain_.size() >= kMaxDomains) return;
    TlsPolicyResult fresh;
    fresh.policy_domain = s.policy_domain;
    it = by_domain_.emplace(s.policy_domain, std::move(fresh)).first;
  }
  TlsPolicyResult& r = it->second;
  // The policy in force last wins (a policy may change within a day; the report shows one).
  r.policy_type = s.type;
  r.policy_string = s.policy_strings;
  if (!s.mx_host.empty() &&
      std::find(r.mx_host.begin(), r.mx_host.end(), s.mx_host) == r.mx_host.end() &&
      r.mx_host.size() < kMaxDetails) {
    r.mx_host.push_back(s.mx_host);
  }
  if (s.failure.empty()) {
    ++r.successful_session_count;
    return;
  }
  const auto type = tls_result_type_from(s.failure).value_or(TlsResultType::kValidationFailure);
  ++r.failed_session_count;
  for (auto& d : r.failure_details) {
    if (d.result_type == type && d.receiving_mx_hostname == s.mx_host &&
        d.receiving_ip == s.receiving_ip) {
      ++d.failed_session_count;
      return;
    }
  }
  if (r.failure_details.size() >= kMaxDetails) return;  // still counted in failed_session_count
  TlsFailureDetail d;
  d.result_type = type;
  d.receiving_mx_hostname = s.mx_host;
  d.receiving_ip = s.receiving_ip;
  d.failed_session_count = 1;
  r.failure_details.push_back(std::move(d));
}

std::vector<TlsPolicyResult> TlsResults::take() {
  std::map<std::string, TlsPolicyResult> taken;
  {
    const std::lock_guard lock(mutex_);
    taken.swap(by_domain_);
  }
  std::vector<TlsPolicyResult> out;
  out.reserve(taken.size());
  for (auto& [domain, r] : taken) out.push_back(std::move(r));
  return out;
}

}  // namespace sealpost::smtp::client
