// Key material in memory: each value in its own libsodium guarded allocation (sodium_malloc: a
// no-access guard page on either side and a canary, so an overrun faults instead of reading a
// neighbour's bytes), locked out of swap where RLIMIT_MEMLOCK allows, left out of core dumps
// (MADV_DONTDUMP on the whole pages that hold it), wiped when it goes (sodium_free), and never
// copied by accident (move-only, no printing). A value costs about four pages: for keys, not for
// per-message data.
//
// It lives in core/ because the key files core/ loads (core/secret_file.hpp) are held in it.
#pragma once

#include <cstddef>
#include <span>

namespace sealpost::core {

// MADV_DONTDUMP on the pages that hold [data, data + size): for key material in memory that
// another allocator hands out (SQLite3MC's cipher state).
void exclude_from_core_dumps(void* data, std::size_t size);

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  static SecretBytes random(std::size_t size);
  static SecretBytes copy_of(std::span<const unsigned char> bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  [[nodiscard]] unsigned char* data() { return data_; }
  [[nodiscard]] const unsigned char* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::span<const unsigned char> bytes() const { return {data_, size_}; }
  // Constant-time comparison.
  [[nodiscard]] bool equals(const SecretBytes& other) const;
  // Keeps the first `size` bytes (at most size()); the rest is wiped. No reallocation.
  void shrink(std::size_t size);

 private:
  void release();
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sealpost::core
