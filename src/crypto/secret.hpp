// Key material in memory: see core/secret_bytes.hpp (guarded, locked, never dumped, wiped).
#pragma once

#include "core/secret_bytes.hpp"

namespace sealpost::crypto {

using core::SecretBytes;

}  // namespace sealpost::crypto
