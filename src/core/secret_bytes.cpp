#include "core/secret_bytes.hpp"

#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

namespace sealpost::core {

namespace {

void init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

}  // namespace

// sodium_malloc's own sodium_mlock asks for MADV_DONTDUMP too; asking again here, on exactly the
// pages that hold the value, keeps the promise whatever libsodium's version does. (madvise needs
// a page-aligned start: on memory from operator new it failed with EINVAL.)
void exclude_from_core_dumps(void* data, std::size_t size) {
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<std::uintptr_t>(data) & ~(page - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + size + page - 1) & ~(page - 1);
  (void)::madvise(reinterpret_cast<void*>(first), end - first, MADV_DONTDUMP);
}

SecretBytes::SecretBytes(std::size_t size) {
  init();
  if (size == 0) return;
  // Locked (best effort: RLIMIT_MEMLOCK may refuse) and guarded by sodium_malloc itself.
  data_ = static_cast<unsigned char*>(sodium_malloc(size));
  if (data_ == nullptr) throw std::bad_alloc();
  size_ = size;
  exclude_from_core_dumps(data_, size_);
  sodium_memzero(data_, size_);
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
  sodium_free(data_);  // checks the canary, wipes, unlocks, unmaps
  data_ = nullptr;
  size_ = 0;
}

void SecretBytes::shrink(std::size_t size) {
  if (size >= size_) return;
  sodium_memzero(data_ + size, size_ - size);
  size_ = size;
}

bool SecretBytes::equals(const SecretBytes& other) const {
  return size_ == other.size_ && (size_ == 0 || sodium_memcmp(data_, other.data_, size_) == 0);
}

}  // namespace sealpost::core
