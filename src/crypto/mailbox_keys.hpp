// The mailbox key hierarchy of DESIGN.md: a random 256-bit master key per mailbox (the database
// key), wrapped by each credential: KEK = Argon2id(credential, salt), wrapped =
// XChaCha20-Poly1305(KEK, master key). An X25519 key pair per mailbox seals mail that arrives
// while the mailbox is locked (libsodium sealed boxes). Argon2id is slow on purpose: callers run
// unwrap() off the I/O threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.hpp"

namespace sealpost::crypto {

constexpr std::size_t kMasterKeyBytes = 32;

struct KdfCost {
  std::uint64_t ops = 3;                                            // Argon2id passes
  std::size_t memory = std::size_t{64} << 20;                       // bytes (64 MiB)
  static KdfCost for_tests() { return {1, std::size_t{8} << 10}; }  // libsodium's minimum
};

// A master key wrapped by one credential; stored as `serialize()` text in the metadata store.
struct WrappedKey {
  std::vector<unsigned char> salt;    // 16 bytes
  std::vector<unsigned char> sealed;  // 24-byte nonce, ciphertext, 16-byte tag
  KdfCost cost;

  [[nodiscard]] std::string serialize() const;  // "v1$ops$memory$salt-b64$sealed-b64"
  static std::optional<WrappedKey> parse(std::string_view text);
};

SecretBytes new_master_key();

WrappedKey wrap(const SecretBytes& master, std::string_view credential, KdfCost cost = {});
// The same with a given salt: a mailbox's credentials share its salt and cost, so a login costs
// one Argon2id run however many app passwords the mailbox has (see unwrap_any).
WrappedKey wrap(const SecretBytes& master, std::string_view credential,
                const std::vector<unsigned char>& salt, KdfCost cost);

// Tries every wrapping, running Argon2id once per distinct (salt, cost): with shared salts, once.
std::optional<SecretBytes> unwrap_any(const std::vector<WrappedKey>& wrappings,
                                      std::string_view credential);

// Nullopt for a wrong credential. Takes the KDF's full time either way.
std::optional<SecretBytes> unwrap(const WrappedKey& wrapped, std::string_view credential);

// For an unknown user: the same work as unwrap() with a wrong credential, so timing does not
// tell unknown users from wrong passwords. Always nullopt.
std::optional<SecretBytes> unwrap_nobody(std::string_view credential, KdfCost cost = {});

// The Argon2id and AEAD work done in this process so far: tests compare two paths by the work they
// do, since timing them is at the mercy of the machine's load.
struct KdfWork {
  std::uint64_t derivations = 0;  // Argon2id runs
  std::uint64_t cost = 0;         // the sum of ops x memory over those runs
  std::uint64_t opens = 0;        // master-key AEAD opens attempted
};
KdfWork kdf_work();

// The sealed spool's key pair. The secret key is kept encrypted under the master key.
struct SpoolKeys {
  std::vector<unsigned char> public_key;  // 32 bytes
  SecretBytes secret_key;                 // 32 bytes
  static SpoolKeys generate();
  // The pair of a kept secret key (its public key is derived from it); nullopt for a secret of
  // the wrong size.
  static std::optional<SpoolKeys> from_secret(SecretBytes secret);
};

// Seals a message to a mailbox's public key (crypto_box_seal): only the secret key opens it.
std::vector<unsigned char> seal_to(const std::vector<unsigned char>& public_key,
                                   std::string_view message);
std::optional<std::string> open_sealed(const SpoolKeys& keys,
                                       const std::vector<unsigned char>& sealed);

}  // namespace sealpost::crypto
