#include "crypto/seal.hpp"

#include <stdexcept>

#include <sodium.h>

namespace sealpost::crypto {

namespace {

constexpr std::size_t kSealNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kSealTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

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
  constexpr auto kNonce = kSealNonce;
  std::vector<unsigned char> out(kNonce + plaintext.size() + kSealTag);
  randombytes_buf(out.data(), kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonce, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(),
      nullptr, out.data(), key.data());
  out.resize(kNonce + len);
  return out;
}

namespace {

// Opens `sealed` (nonce, ciphertext, tag) into `out`, which has room for the plaintext; its
// length, or nullopt when the tag does not match (`out` is then wiped).
std::optional<std::size_t> open_into(std::span<const unsigned char> key,
                                     const std::vector<unsigned char>& sealed,
                                     std::string_view context, unsigned char* out) {
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out, &len, nullptr, sealed.data() + kSealNonce, sealed.size() - kSealNonce,
          reinterpret_cast<const unsigned char*>(context.data()), context.size(), sealed.data(),
          key.data()) != 0) {
    sodium_memzero(out, sealed.size() - kSealNonce - kSealTag);
    return std::nullopt;
  }
  return static_cast<std::size_t>(len);
}

}  // namespace

std::optional<std::string> open(std::span<const unsigned char> key,
                                const std::vector<unsigned char>& sealed,
                                std::string_view context) {
  require_key(key);
  if (sealed.size() < kSealNonce + kSealTag) return std::nullopt;
  std::string out(sealed.size() - kSealNonce - kSealTag, '\0');
  const auto len = open_into(key, sealed, context, reinterpret_cast<unsigned char*>(out.data()));
  if (!len) return std::nullopt;
  out.resize(*len);
  return out;
}

std::optional<SecretBytes> open_secret(std::span<const unsigned char> key,
                                       const std::vector<unsigned char>& sealed,
                                       std::string_view context) {
  require_key(key);
  if (sealed.size() < kSealNonce + kSealTag) return std::nullopt;
  SecretBytes out(sealed.size() - kSealNonce - kSealTag);
  const auto len = open_into(key, sealed, context, out.data());
  if (!len) return std::nullopt;
  out.shrink(*len);
  return out;
}

}  // namespace sealpost::crypto
