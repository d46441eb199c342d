// DKIM canonicalisation (RFC 6376 section 3.4): header fields and bodies, simple and relaxed.
#pragma once

#include <string>
#include <string_view>

#include "auth/dkim/record.hpp"

namespace sealpost::auth::dkim {

// `name` and `raw` as mime::HeaderField has them; `raw` ends with CRLF (the signature's own field,
// which enters the hash without one, is passed without).
void canonical_header(Canon c, std::string_view name, std::string_view raw, std::string& out);

// The canonical body (CRLF line ends expected). Relaxed uses AVX-512 where the CPU has it.
std::string canonical_body(Canon c, std::string_view body);

namespace detail {
// canonical_body without vector instructions, whatever the CPU: what tests compare it with.
std::string canonical_body_portable(Canon c, std::string_view body);
}  // namespace detail

}  // namespace sealpost::auth::dkim
