// Domain names in the one form we store and compare: IDNA2008 A-labels, lowercase, no
// trailing dot (RFC 5890). "Bücher.example" and "xn--bcher-kva.example" are the same domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sealpost::core {

// The A-label form of `domain` (UTF-8 or ASCII), or nullopt when it is not a valid host name.
std::optional<std::string> to_a_label(std::string_view domain);

// The Unicode form of a domain in A-labels (UTF-8): each "xn--" label decoded, the others as they
// are, lowercase. nullopt when a label is not a valid A-label (Punycode that does not decode, or
// decodes to what IDNA2008 does not allow) or the name is longer than 253 octets.
std::optional<std::string> to_u_label(std::string_view domain);

// Splits "local@domain" at the last '@'; nullopt when there is none or either side is empty.
std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view a);

// local part (ASCII lowercased) + "@" + A-label domain; nullopt when the domain is invalid.
std::optional<std::string> normalize_address(std::string_view address);

}  // namespace sealpost::core
