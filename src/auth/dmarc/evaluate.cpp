#include "auth/dmarc/evaluate.hpp"

#include "core/strings.hpp"

namespace sealpost::auth::dmarc {

namespace asio = boost::asio;

namespace {

bool aligned(const PublicSuffixList& psl, Alignment mode, const std::string& a,
             const std::string& b) {
  if (a.empty() || b.empty()) return false;
  if (iequals(a, b)) return true;
  return mode == Alignment::kRelaxed &&
         psl.organizational_domain(a) == psl.organizational_domain(b);
}

struct Found {
  Result result = Result::kNone;  // kNone: no record; kTempError; kPass means found
  Record record;
};

asio::awaitable<Found> lookup(dns::Lookup& dns, const std::string& domain) {
  Found f;
  const auto txt = co_await dns.txt("_dmarc." + domain);
  if (txt.status == dns::Status::kTempFail) {
    f.result = Result::kTempError;
    co_return f;
  }
  int found = 0;
  for (const auto& t : txt.records) {
    if (!is_dmarc_record(t)) continue;
    if (++found > 1) break;
    if (auto r = parse_record(t)) {
      f.record = std::move(r).value();
      f.result = Result::kPass;
    }
  }
  if (found != 1) f.result = Result::kNone;  // none, or several: no policy (section 6.6.3)
  co_return f;
}

Policy weaker(Policy p) {
  return p == Policy::kReject ? Policy::kQuarantine : Policy::kNone;
}

}  // namespace

std::string_view to_string(Result r) noexcept {
  switch (r) {
    case Result::kNone:
      return "none";
    case Result::kPass:
      return "pass";
    case Result::kFail:
      return "fail";
    case Result::kTempError:
      return "temperror";
    case Result::kPermError:
      return "permerror";
  }
  return "none";
}

asio::awaitable<Verdict> evaluate(dns::Lookup& dns, const PublicSuffixList& psl, const Input& input,
                                  const std::function<unsigned()>& sample) {
  Verdict v;
  if (input.from_domain.empty()) {
    v.result = Result::kPermError;
    co_return v;
  }
  const std::string org = psl.organizational_domain(input.from_domain);
  Found f = co_await lookup(dns, input.from_domain);
  v.policy_domain = input.from_domain;
  bool at_org = false;
  if (f.result == Result::kNone && org != input.from_domain) {
    f = co_await lookup(dns, org);
    v.policy_domain = org;
    at_org = true;
  }
  if (f.result == Result::kTempError) {
    v.result = Result::kTempError;
    co_return v;
  }
  if (f.result == Result::kNone) co_return v;
  v.record = f.record;
  const Record& r = *v.record;

  v.spf_aligned =
      input.spf == spf::Outcome::kPass && aligned(psl, r.aspf, input.spf_domain, input.from_domain);
  if (input.dkim) {
    for (const auto& d : *input.dkim) {
      if (d.status == dkim::Status::kPass && aligned(psl, r.adkim, d.domain, input.from_domain)) {
        v.dkim_aligned = true;
      }
    }
  }
  if (v.spf_aligned || v.dkim_aligned) {
    v.result = Result::kPass;
    co_return v;
  }
  v.result = Result::kFail;
  // Section 6.6.4 (via 6.3): sp= for subdomains when the policy came from the organisational
  // domain; pct= samples, and what falls outside gets the next weaker policy.
  Policy p = (at_org && r.sp) ? *r.sp : r.p;
  if (r.pct < 100 && sample() >= r.pct) p = weaker(p);
  v.applied = p;
  co_return v;
}

}  // namespace sealpost::auth::dmarc
