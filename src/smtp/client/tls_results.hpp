// What our outbound TLS sessions met, per policy domain, for TLS-RPT (RFC 8460): counted in
// memory as mail goes out, taken once a day to build the reports. Only destinations with a
// policy (MTA-STS or DANE) are counted; what is kept is theirs (MX names, addresses, policy
// text) and counts, never anything about our users or their mail. Bounded: at most kMaxDomains
// domains and kMaxDetails failure details per domain are kept between two reports.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "smtp/client/tls_rpt.hpp"

namespace sealpost::smtp::client {

class TlsResults {
 public:
  static constexpr std::size_t kMaxDomains = 10'000;
  static constexpr std::size_t kMaxDetails = 100;

  struct Session {
    std::string policy_domain;
    TlsPolicyType type = TlsPolicyType::kSts;
    std::vector<std::string> policy_strings;
    std::string mx_host;       // empty when no MX host could be tried
    std::string receiving_ip;  // empty when none was reached
    std::string failure;       // RFC 8460 4.3 result type; empty for a successful session
  };

  void record(const Session& session);
  // Everything counted since the last call, one result per policy domain.
  std::vector<TlsPolicyResult> take();

 private:
  std::mutex mutex_;
  std::map<std::string, TlsPolicyResult> by_domain_;
};

// "starttls-not-supported"... back to the enum; nullopt for anything else.
std::optional<TlsResultType> tls_result_type_from(std::string_view name);

}  // namespace sealpost::smtp::client
