// Random identifiers: session ids for logs, queue ids, file names, Message-IDs, MIME boundaries.
// From libsodium's CSPRNG, so none can be guessed or correlated across restarts.
#pragma once

#include <cstddef>
#include <string>

namespace sealpost::crypto {

// `bytes` random bytes as lowercase hex (twice as many characters).
std::string random_hex(std::size_t bytes);

}  // namespace sealpost::crypto
