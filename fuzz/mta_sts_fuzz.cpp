// MTA-STS records come from DNS and policies from a web server the recipient domain runs: parsing
// must return a value or an error for any bytes, and what it returns must be what callers and the
// TLS-RPT report rely on (bounded, lowercase patterns, a policy that reads back the same).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/client/mta_sts.hpp"

namespace {

using namespace sealpost::smtp::client;

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool valid_pattern(std::string_view p) {
  if (p.empty() || p.size() > kStsMaxPatternOctets) return false;
  if (p.starts_with("*.")) p.remove_prefix(2);
  if (p.empty() || p.front() == '.' || p.back() == '.') return false;
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> split_lines(std::string_view in, std::size_t max) {
  std::vector<std::string> out;
  while (out.size() < max) {
    const auto lf = in.find('\n');
    out.emplace_back(in.substr(0, lf));
    if (lf == std::string_view::npos) break;
    in.remove_prefix(lf + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // The input as a policy body.
  auto policy = parse_sts_policy(in);
  if (policy) {
    const StsPolicy& p = *policy;
    if (p.max_age < 0 || p.max_age > kStsMaxAgeLimit) __builtin_trap();
    if (p.mx.size() > kStsMaxMxLines) __builtin_trap();
    if (p.mode != StsMode::kNone && p.mx.empty()) __builtin_trap();
    for (const auto& mx : p.mx) {
      if (!valid_pattern(mx)) __builtin_trap();
      // A pattern matches the host it names (or, for "*.", one label more).
      const std::string host = mx.starts_with("*.") ? "x" + mx.substr(1) : mx;
      if (!sts_mx_matches(mx, host) || !sts_policy_allows_mx(p, host)) __builtin_trap();
      if (mx.starts_with("*.") && sts_mx_matches(mx, mx.substr(2))) __builtin_trap();
    }
    // The report's policy-string lines read back as the same policy.
    std::string body;
    for (const auto& line : sts_policy_strings(p)) body += line + "\r\n";
    auto again = parse_sts_policy(body);
    if (!again || again->mode != p.mode || again->mx != p.mx || again->max_age != p.max_age) {
      __builtin_trap();
    }
  } else if (policy.error().empty() || !printable_ascii(policy.error())) {
    __builtin_trap();  // errors go to logs and reports as they are
  }

  // The input as a TXT RRset, one string a line.
  const auto lines = split_lines(in, 8);
  if (auto r = parse_sts_record(lines)) {
    if (r->id.empty() || r->id.size() > 32) __builtin_trap();
    for (char c : r->id) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum) __builtin_trap();
    }
  }

  // The first two lines as a pattern and a host.
  if (lines.size() >= 2) (void)sts_mx_matches(lines[0], lines[1]);
  return 0;
}
