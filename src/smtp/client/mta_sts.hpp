// MTA-STS (RFC 8461): the _mta-sts TXT record, the policy file served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt, and the MX pattern match a sender applies
// before trusting a TLS connection. Both inputs come from parties we do not control, so the
// parsers are pure and bounded; fetching and caching live elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::smtp::client {

enum class StsMode { kEnforce, kTesting, kNone };

// _mta-sts.<domain> TXT "v=STSv1; id=20160831085700Z;"
struct StsRecord {
  std::string id;  // 1-32 ASCII letters and digits, case kept (section 3.1)
};

struct StsPolicy {
  StsMode mode = StsMode::kNone;
  std::vector<std::string> mx;  // patterns, lowercase, e.g. "mail.example.com", "*.example.net"
  std::int64_t max_age = 0;     // seconds, 0..kStsMaxAgeLimit
};

// Section 3.2: max_age "MUST be less than or equal to 31557600" (about a year).
inline constexpr std::int64_t kStsMaxAgeLimit = 31557600;
// Section 3.3 suggests senders limit the size of the policy body they fetch, to 64 KiB.
inline constexpr std::size_t kStsMaxPolicyOctets = std::size_t{64} * 1024;
inline constexpr std::size_t kStsMaxPolicyLineOctets = 1000;  // without the CRLF/LF
inline constexpr std::size_t kStsMaxMxLines = 100;
// A TXT record longer than this is not read (a valid one is a few dozen octets).
inline constexpr std::size_t kStsMaxRecordOctets = 4096;
// RFC 1035 2.3.4 limits a name to 253 octets in text form; a "*." pattern longer than that
// could not match any host, so the same bound holds for the whole pattern.
inline constexpr std::size_t kStsMaxPatternOctets = 253;

// RFC 8461 3.1: of the TXT strings of the RRset (each already concatenated from its
// character-strings), those that do not begin with "v=STSv1" followed by ";" or white space are
// discarded; if not exactly one remains, or it is syntactically invalid, has no id or is longer
// than kStsMaxRecordOctets, the domain has no MTA-STS policy (nullopt). "v=STSv1" and "id=" are
// case-sensitive (RFC 7405 %s); unknown fields are ignored; of a repeated id the first counts
// (section 3.2's rule for duplicates).
std::optional<StsRecord> parse_sts_record(const std::vector<std::string>& txt_rrset);

// RFC 8461 3.2: "key: value" lines separated by CRLF or LF, in any order. Keys and the version
// and mode values are case-sensitive. version ("STSv1"), mode and max_age are required; at least
// one mx unless mode is "none"; unknown keys are ignored; of a repeated key other than mx the
// first counts. Each mx is ["*."] Domain in A-labels (lowercased, a trailing dot dropped, a
// repeated pattern kept once). Blank lines and white space around a line are tolerated. A
// max_age over kStsMaxAgeLimit is lowered to it. Bodies over kStsMaxPolicyOctets, lines over
// kStsMaxPolicyLineOctets and more than kStsMaxMxLines mx lines are refused. The error text says
// what is wrong (and on which line), with any quoted input made printable.
Result<StsPolicy, std::string> parse_sts_policy(std::string_view body);

// RFC 8461 4.1: whether an MX host name matches a policy mx pattern. Case-insensitive; a
// trailing dot on either is ignored; "*.example.com" matches exactly one extra non-empty leftmost
// label ("mx.example.com" yes, "a.b.example.com" no, "example.com" no).
bool sts_mx_matches(std::string_view pattern, std::string_view mx_host);
// Whether delivery to mx_host is allowed by the policy: a policy in mode "none" restricts
// nothing (section 5); otherwise the host must match one of its mx patterns.
bool sts_policy_allows_mx(const StsPolicy& policy, std::string_view mx_host);

std::string_view to_string(StsMode m) noexcept;  // "enforce", "testing", "none"

// The policy as RFC 8460 4.4 "policy-string" lines for TLS-RPT reports, in the order of its
// Appendix B example: "version: STSv1", "mode: ...", one "mx: ..." per pattern, "max_age: ...".
std::vector<std::string> sts_policy_strings(const StsPolicy& p);

}  // namespace sealpost::smtp::client
