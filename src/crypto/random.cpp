#include "crypto/random.hpp"

#include <stdexcept>
#include <vector>

#include <sodium.h>

namespace sealpost::crypto {

std::string random_hex(std::size_t bytes) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  std::vector<unsigned char> b(bytes);
  randombytes_buf(b.data(), b.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), b.data(), b.size());
  out.pop_back();
  return out;
}

}  // namespace sealpost::crypto
