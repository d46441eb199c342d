#include "crypto/mailbox_keys.hpp"

#include <atomic>
#include <stdexcept>

#include <sodium.h>

#include "core/strings.hpp"

namespace sealpost::crypto {

namespace {

constexpr std::size_t kSalt = crypto_pwhash_SALTBYTES;
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::string_view kContext = "sealpost mailbox master key v1";

std::atomic<std::uint64_t> kdf_runs{0};
std::atomic<std::uint64_t> kdf_cost_sum{0};
std::atomic<std::uint64_t> aead_opens{0};

void init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

SecretBytes derive(std::string_view credential, const std::vector<unsigned char>& salt,
                   const KdfCost& cost) {
  kdf_runs.fetch_add(1, std::memory_order_relaxed);
  kdf_cost_sum.fetch_add(cost.ops * cost.memory, std::memory_order_relaxed);
  SecretBytes kek(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  const int failed =
      crypto_pwhash(kek.data(), kek.size(), credential.data(), credential.size(), salt.data(),
                    cost.ops, cost.memory, crypto_pwhash_ALG_ARGON2ID13);
  // Argon2's final BLAKE2b leaves the key's bytes in its stack frames. On the password-hashing
  // pool's threads, idle between logins, nothing else would overwrite them: clear what those
  // frames used (a few KiB; 64 KiB is ample) so no core, /proc/PID/mem reader or swap sees it.
  sodium_stackzero(std::size_t{64} * 1024);
  if (failed != 0) throw std::runtime_error("Argon2id: out of memory");
  return kek;
}

bool valid_cost(const KdfCost& c) {
  return c.ops >= crypto_pwhash_OPSLIMIT_MIN && c.ops <= 32 &&
         c.memory >= crypto_pwhash_MEMLIMIT_MIN && c.memory <= (std::size_t{4} << 30);
}

std::string b64(const std::vector<unsigned char>& v) {
  std::string out(sodium_base64_ENCODED_LEN(v.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), v.data(), v.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::vector<unsigned char>> unb64(std::string_view s, std::size_t max) {
  std::vector<unsigned char> out(max);
  std::size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

std::string WrappedKey::serialize() const {
  return "v1$" + std::to_string(cost.ops) + "$" + std::to_string(cost.memory) + "$" + b64(salt) +
         "$" + b64(sealed);
}

std::optional<WrappedKey> WrappedKey::parse(std::string_view text) {
  std::vector<std::string_view> parts;
  while (parts.size() < 6) {
    const auto d = text.find('$');
    parts.push_back(text.substr(0, d));
    if (d == std::string_view::npos) break;
    text.remove_prefix(d + 1);
  }
  if (parts.size() != 5 || parts[0] != "v1") return std::nullopt;
  const auto ops = parse_decimal(parts[1], 3);
  const auto memory = parse_decimal(parts[2], 12);
  auto salt = unb64(parts[3], 64);
  auto sealed = unb64(parts[4], 256);
  if (!ops || !memory || !salt || !sealed) return std::nullopt;
  WrappedKey w{std::move(*salt), std::move(*sealed), {*ops, static_cast<std::size_t>(*memory)}};
  if (w.salt.size() != kSalt || w.sealed.size() != kNonce + kMasterKeyBytes + kTag ||
      !valid_cost(w.cost)) {
    return std::nullopt;
  }
  return w;
}

SecretBytes new_master_key() {
  return SecretBytes::random(kMasterKeyBytes);
}

WrappedKey wrap(const SecretBytes& master, std::string_view credential, KdfCost cost) {
  init();
  std::vector<unsigned char> salt(kSalt);
  randombytes_buf(salt.data(), salt.size());
  return wrap(master, credential, salt, cost);
}

WrappedKey wrap(const SecretBytes& master, std::string_view credential,
                const std::vector<unsigned char>& salt, KdfCost cost) {
  init();
  if (master.size() != kMasterKeyBytes || !valid_cost(cost) || salt.size() != kSalt) {
    throw std::invalid_argument("wrap: bad master key, salt or KDF cost");
  }
  WrappedKey w;
  w.cost = cost;
  w.salt = salt;
  const SecretBytes kek = derive(credential, w.salt, cost);
  w.sealed.resize(kNonce + master.size() + kTag);
  randombytes_buf(w.sealed.data(), kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      w.sealed.data() + kNonce, &len, master.data(), master.size(),
      reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(), nullptr,
      w.sealed.data(), kek.data());
  return w;
}

namespace {

std::optional<SecretBytes> open_with(const WrappedKey& w, const SecretBytes& kek) {
  aead_opens.fetch_add(1, std::memory_order_relaxed);
  SecretBytes master(kMasterKeyBytes);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          master.data(), &len, nullptr, w.sealed.data() + kNonce, w.sealed.size() - kNonce,
          reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(), w.sealed.data(),
          kek.data()) != 0 ||
      len != kMasterKeyBytes) {
    return std::nullopt;
  }
  return master;
}

bool well_formed(const WrappedKey& w) {
  return w.salt.size() == kSalt && w.sealed.size() == kNonce + kMasterKeyBytes + kTag &&
         valid_cost(w.cost);
}

}  // namespace

std::optional<SecretBytes> unwrap_any(const std::vector<WrappedKey>& wrappings,
                                      std::string_view credential) {
  init();
  std::optional<SecretBytes> found;
  std::vector<const WrappedKey*> done;
  for (const auto& w : wrappings) {
    if (!well_formed(w)) continue;
    bool seen = false;
    for (const auto* d : done) {
      seen = seen ||
             (d->salt == w.salt && d->cost.ops == w.cost.ops && d->cost.memory == w.cost.memory);
    }
    if (seen) continue;
    done.push_back(&w);
    const SecretBytes kek = derive(credential, w.salt, w.cost);
    // Every wrapping with this salt and cost is tried with the one derived key.
    for (const auto& other : wrappings) {
      if (found || !well_formed(other) || other.salt != w.salt || other.cost.ops != w.cost.ops ||
          other.cost.memory != w.cost.memory) {
        continue;
      }
      found = open_with(other, kek);
    }
  }
  return found;
}

std::optional<SecretBytes> unwrap(const WrappedKey& w, std::string_view credential) {
  return unwrap_any({w}, credential);
}

std::optional<SecretBytes> unwrap_nobody(std::string_view credential, KdfCost cost) {
  init();
  WrappedKey dummy;
  dummy.cost = cost;
  dummy.salt.resize(kSalt);
  randombytes_buf(dummy.salt.data(), dummy.salt.size());
  dummy.sealed.resize(kNonce + kMasterKeyBytes + kTag);
  randombytes_buf(dummy.sealed.data(), dummy.sealed.size());
  (void)unwrap(dummy, credential);  // the same KDF and AEAD work; the tag cannot match
  return std::nullopt;
}

KdfWork kdf_work() {
  return {kdf_runs.load(std::memory_order_relaxed), kdf_cost_sum.load(std::memory_order_relaxed),
          aead_opens.load(std::memory_order_relaxed)};
}

SpoolKeys SpoolKeys::generate() {
  init();
  SpoolKeys k;
  k.public_key.resize(crypto_box_PUBLICKEYBYTES);
  k.secret_key = SecretBytes(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(k.public_key.data(), k.secret_key.data());
  return k;
}

std::optional<SpoolKeys> SpoolKeys::from_secret(SecretBytes secret) {
  init();
  if (secret.size() != crypto_box_SECRETKEYBYTES) return std::nullopt;
  SpoolKeys k;
  k.public_key.resize(crypto_box_PUBLICKEYBYTES);
  if (crypto_scalarmult_base(k.public_key.data(), secret.data()) != 0) return std::nullopt;
  k.secret_key = std::move(secret);
  return k;
}

std::vector<unsigned char> seal_to(const std::vector<unsigned char>& public_key,
                                   std::string_view message) {
  init();
  if (public_key.size() != crypto_box_PUBLICKEYBYTES) {
    throw std::invalid_argument("seal_to: bad public key");
  }
  std::vector<unsigned char> out(message.size() + crypto_box_SEALBYTES);
  crypto_box_seal(out.data(), reinterpret_cast<const unsigned char*>(message.data()),
                  message.size(), public_key.data());
  return out;
}

std::optional<std::string> open_sealed(const SpoolKeys& keys,
                                       const std::vector<unsigned char>& sealed) {
  init();
  if (sealed.size() < crypto_box_SEALBYTES || keys.public_key.size() != crypto_box_PUBLICKEYBYTES ||
      keys.secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return std::nullopt;
  }
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()), sealed.data(),
                           sealed.size(), keys.public_key.data(), keys.secret_key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace sealpost::crypto
