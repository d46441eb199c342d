#include "crypto/secret.hpp"

#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include <sodium.h>

namespace sealpost::crypto {

namespace {

void init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

}  // namespace

SecretBytes::SecretBytes(std::size_t size) {
  init();
  if (size == 0) return;
  data_ = static_cast<unsigned char*>(::operator new(size));
  size_ = size;
  std::memset(data_, 0, size);
  (void)sodium_mlock(data_, size_);  // best effort: RLIMIT_MEMLOCK may refuse
}

SecretBytes SecretBytes::random(std::size_t size) {
  SecretBytes s(size);
  if (size) randombytes_buf(s.data_, size);
  return s;
}

SecretBytes SecretBytes::copy_of(std::span<const unsigned char> bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  release();
}

void SecretBytes::release() {
  if (!data_) return;
  sodium_munlock(data_, size_);  // wipes as it unlocks
  sodium_memzero(data_, size_);
  ::operator delete(data_);
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::equals(const SecretBytes& other) const {
  return size_ == other.size_ && (size_ == 0 || sodium_memcmp(data_, other.data_, size_) == 0);
}

}  // namespace sealpost::crypto
