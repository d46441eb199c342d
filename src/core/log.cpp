#include "core/log.hpp"

#include <stdexcept>

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sealpost::core {

void init_logging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("sealpost");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::array<unsigned char, 32> load_or_create_secret(const std::filesystem::path& file) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, 32> key{};
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    randombytes_buf(key.data(), key.size());
    const auto tmp = file.string() + ".tmp";
    const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) throw std::runtime_error(file.string() + ": cannot create key file");
    const bool ok = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                    ::fsync(out) == 0;
    ::close(out);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
      ::unlink(tmp.c_str());
      throw std::runtime_error(file.string() + ": cannot write key file");
    }
    return key;
  }
  if (fd < 0) throw std::runtime_error(file.string() + ": cannot read key file");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    throw std::runtime_error(file.string() +
                             ": key file must be readable by its owner only (chmod 600)");
  }
  const ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size())) {
    throw std::runtime_error(file.string() + ": key file is truncated");
  }
  return key;
}

ClientHasher::ClientHasher(const std::filesystem::path& key_file)
    : key_(load_or_create_secret(key_file)) {}

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
