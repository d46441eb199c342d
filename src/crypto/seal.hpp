// Authenticated encryption of small secrets at rest (DKIM private keys under the server key):
// XChaCha20-Poly1305 with a random 192-bit nonce, the context bound as associated data so a
// sealed value cannot be moved to another row.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.hpp"

namespace sealpost::crypto {

// nonce || ciphertext+tag. The key must be 32 bytes.
std::vector<unsigned char> seal(std::span<const unsigned char> key, std::string_view plaintext,
                                std::string_view context);
// Empty optional when the key, the context or the bytes are wrong.
std::optional<std::string> open(std::span<const unsigned char> key,
                                const std::vector<unsigned char>& sealed, std::string_view context);
// The same for a sealed key: opened straight into guarded memory, never into the heap.
std::optional<SecretBytes> open_secret(std::span<const unsigned char> key,
                                       const std::vector<unsigned char>& sealed,
                                       std::string_view context);

}  // namespace sealpost::crypto
