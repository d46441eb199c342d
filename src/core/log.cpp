#include "core/log.hpp"

#include <stdexcept>

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secret_file.hpp"

namespace sealpost::core {

void init_logging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("sealpost");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

ClientHasher::ClientHasher(const std::filesystem::path& key_file)
    : key_(load_or_create_secret(key_file, crypto_generichash_KEYBYTES,
                                 crypto_generichash_KEYBYTES_MAX)) {}

std::string ClientHasher::hash(std::string_view client_address) const {
  unsigned char out[8];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(client_address.data()),
                     client_address.size(), key_.data(), key_.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(16);
  for (unsigned char b : out) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace sealpost::core
