// Secret key files in the data directory (the SRS key, the log-hash key, later the server key).
#pragma once

#include <cstddef>
#include <filesystem>

#include "core/secret_bytes.hpp"

namespace sealpost::core {

// Loads the key in `file`, or creates it (32 random bytes, mode 0600, written to a temporary
// file, fsync'd, renamed into place without replacing a key another process wrote meanwhile,
// directory fsync'd) when it does not exist. Throws std::runtime_error naming the file when it is
// not a regular file, is accessible by group or others (whoever reads a key can use it; whoever
// writes it can replace it), or is shorter than `min_bytes` or longer than `max_bytes`.
SecretBytes load_or_create_secret(const std::filesystem::path& file, std::size_t min_bytes = 32,
                                  std::size_t max_bytes = 1024);

}  // namespace sealpost::core
