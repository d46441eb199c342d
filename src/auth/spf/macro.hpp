// SPF macros (RFC 7208 section 7): syntax checks for domain-specs and explanation strings, and
// their expansion. Expansion is pure: the caller supplies every value, including the validated
// name for %{p}, which needs DNS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/spf/record.hpp"
#include "core/result.hpp"

namespace sealpost::auth::spf {

struct MacroContext {
  std::string local_part;             // l; "postmaster" when the sender had none
  std::string sender_domain;          // o
  std::string domain;                 // d, the current domain
  Ip ip;                              // i, c, v
  std::string helo;                   // h
  std::string receiver = "unknown";   // r
  std::string validated = "unknown";  // p
  std::uint64_t timestamp = 0;        // t
};

enum class MacroError { kSyntax };

// `explanation`: the string is an explanation (c, r and t allowed, spaces literal), not a
// domain-spec.
bool valid_macro_string(std::string_view s, bool explanation) noexcept;
// domain-spec = macro-string domain-end (section 12): ends in a macro or in "." toplabel ["."].
bool valid_domain_spec(std::string_view s) noexcept;
// Whether the string uses %{p} (so the caller must find the validated name first).
bool uses_validated_name(std::string_view s) noexcept;

Result<std::string, MacroError> expand(std::string_view s, const MacroContext& context,
                                       bool explanation);

// The domain an expanded domain-spec names: trailing dot removed, shortened from the left to 253
// octets (section 7.3). Empty when what remains is not a valid domain name.
std::string target_name(std::string expanded);

}  // namespace sealpost::auth::spf
