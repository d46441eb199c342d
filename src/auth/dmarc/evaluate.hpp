// DMARC evaluation (RFC 7489 section 6.6): policy discovery at the From domain or its
// organisational domain, SPF and DKIM identifier alignment, and the policy that applies.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/dkim/dkim.hpp"
#include "auth/dmarc/public_suffix.hpp"
#include "auth/dmarc/record.hpp"
#include "auth/spf/check.hpp"
#include "dns/lookup.hpp"

namespace sealpost::auth::dmarc {

enum class Result { kNone, kPass, kFail, kTempError, kPermError };
std::string_view to_string(Result r) noexcept;

struct Input {
  std::string from_domain;  // RFC5322.From's domain, lowercase
  std::string spf_domain;   // the SPF-authenticated identity's domain (MAIL FROM, or HELO for <>)
  spf::Outcome spf = spf::Outcome::kNone;
  const std::vector<dkim::SignatureResult>* dkim = nullptr;
};

struct Verdict {
  Result result = Result::kNone;
  std::optional<Record> record;    // the policy found
  std::string policy_domain;       // where it was found
  Policy applied = Policy::kNone;  // what a failure gets, after sp= and pct=
  bool spf_aligned = false;
  bool dkim_aligned = false;
};

// `sample` returns a number in [0, 100) for pct= (tests pass a fixed one).
boost::asio::awaitable<Verdict> evaluate(dns::Lookup& dns, const PublicSuffixList& psl,
                                         const Input& input,
                                         const std::function<unsigned()>& sample);

}  // namespace sealpost::auth::dmarc
