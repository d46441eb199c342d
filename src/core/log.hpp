// Logging with privacy built in. Log lines are structured (key=value) and carry counts, sizes,
// result codes and timings only: never an address, subject or message id. The client's IP
// appears only as a keyed hash, stable across restarts (the key lives in the data directory) so
// an operator can correlate abuse from one source without the log revealing who it is.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/secret_bytes.hpp"

namespace sealpost::core {

void init_logging(std::string_view level);

class ClientHasher {
 public:
  explicit ClientHasher(const std::filesystem::path& key_file);
  // 16 hex digits of a keyed BLAKE2b of the address text.
  [[nodiscard]] std::string hash(std::string_view client_address) const;

 private:
  SecretBytes key_;
};

}  // namespace sealpost::core
