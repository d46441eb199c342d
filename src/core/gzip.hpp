// gzip (RFC 1952) of a whole buffer, for report attachments (DMARC aggregate, TLS-RPT).
#pragma once

#include <string>
#include <string_view>

namespace sealpost::core {

// Throws std::runtime_error when zlib fails.
std::string gzip(std::string_view data);

}  // namespace sealpost::core
