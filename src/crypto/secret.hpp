// Key material in memory: bytes that are locked out of swap where the system allows, wiped
// (sodium_memzero) when they go, and never copied by accident (move-only, no printing).
#pragma once

#include <cstddef>
#include <span>

namespace sealpost::crypto {

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

 private:
  void release();
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sealpost::crypto
