#include "crypto/seal.hpp"

#include <stdexcept>

#include <sodium.h>

namespace sealpost::crypto {

namespace {

void require_key(std::span<const unsigned char> key) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
    throw std::runtime_error("sealing key must be 32 bytes");
  }
}

}  // namespace

std::vector<unsigned char> seal(std::span<const unsigned char> key, std::string_view plaintext,
                                std::string_view context) {
  require_key(key);
  constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::vector<unsigned char> out(kNonce + plaintext.size() +
                                 crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(out.data(), kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonce, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(),
      nullptr, out.data(), key.data());
  out.resize(kNonce + len);
  return out;
}

std::optional<std::string> open(std::span<const unsigned char> key,
                                const std::vector<unsigned char>& sealed,
                                std::string_view context) {
  require_key(key);
  constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr auto kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  std::string out(sealed.size() - kNonce - kTag, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr, sealed.data() + kNonce,
          sealed.size() - kNonce, reinterpret_cast<const unsigned char*>(context.data()),
          context.size(), sealed.data(), key.data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::optional<SecretBytes> open_secret(std::span<const unsigned char> key,
                                       const std::vector<unsigned char>& sealed,
                                       std::string_view context) {
  require_key(key);
  constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr auto kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  SecretBytes out(sealed.size() - kNonce - kTag);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &len, nullptr, sealed.data() + kNonce, sealed.size() - kNonce,
          reinterpret_cast<const unsigned char*>(context.data()), context.size(), sealed.data(),
          key.data()) != 0) {
    return std::nullopt;
  }
  out.shrink(static_cast<std::size_t>(len));
  return out;
}

}  // namespace sealpost::crypto
