#include "store/mailbox/page_cipher.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include <sodium.h>
#include <sqlite3.h>

#include "core/secret_bytes.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr std::size_t kKeyLength = 32;
constexpr std::size_t kSaltLength = 16;
constexpr int kNonceLength = 16;
constexpr int kReserved = kNonceLength + 16;       // nonce and tag, at the end of every page
constexpr int kPage1Offset = 24;                   // SQLite3MC's CIPHER_PAGE1_OFFSET
constexpr std::size_t kRawPrefix = 4;              // "raw:"
constexpr char kFileHeader[] = "SQLite format 3";  // with its NUL: page 1's first 16 bytes

struct Cipher {
  std::array<unsigned char, kKeyLength> key;
  std::array<unsigned char, kSaltLength> salt;
};

Cipher& of(void* cipher) {
  return *static_cast<Cipher*>(cipher);
}

std::uint32_t load32_le(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// The cipher holds the mailbox key: guarded, locked memory that core dumps leave out (as
// core::SecretBytes), wiped by sodium_free. Cipher is bytes only, so any alignment will do.
static_assert(alignof(Cipher) == 1);

void* allocate(sqlite3* /*db*/) {
  void* memory = sodium_malloc(sizeof(Cipher));
  if (memory == nullptr) return nullptr;
  core::exclude_from_core_dumps(memory, sizeof(Cipher));
  sodium_memzero(memory, sizeof(Cipher));
  return memory;
}

void release(void* cipher) {
  if (cipher == nullptr) return;
  sodium_free(cipher);
}

void clone(void* to, void* from) {
  of(to) = of(from);
}
int legacy(void* /*cipher*/) {
  return 0;
}
int page_size(void* /*cipher*/) {
  return 0;
}  // any: not a legacy (sqleet) file
int reserved(void* /*cipher*/) {
  return kReserved;
}
unsigned char* salt(void* cipher) {
  return of(cipher).salt.data();
}

// As SQLite3MC's GenerateKeyChaCha20Cipher with a raw key: a new file (or a rekey) gets a random
// salt, an existing one keeps its own; "raw:" + key (+ salt) gives the key as it is.
void generate_key(void* cipher, char* password, int length, int rekey, unsigned char* file_salt) {
  Cipher& c = of(cipher);
  if (rekey == 2) rekey = file_salt != nullptr ? 0 : 1;  // WAL mode: the salt stays
  bool key_only = true;
  if (rekey != 0 || file_salt == nullptr) {
    randombytes_buf(c.salt.data(), c.salt.size());
    key_only = false;
  } else {
    std::memcpy(c.salt.data(), file_salt, c.salt.size());
  }
  const auto n = static_cast<std::size_t>(length);
  const bool raw = length > 0 && n > kRawPrefix && std::memcmp(password, "raw:", kRawPrefix) == 0;
  if (raw && (n == kRawPrefix + kKeyLength || n == kRawPrefix + kKeyLength + kSaltLength)) {
    std::memcpy(c.key.data(), password + kRawPrefix, kKeyLength);
    if (n > kRawPrefix + kKeyLength && !key_only) {
      std::memcpy(c.salt.data(), password + kRawPrefix + kKeyLength, kSaltLength);
    }
    return;
  }
  // No KDF here: any other key is a random one, which opens no file.
  randombytes_buf(c.key.data(), c.key.size());
}

// The one-time keys of a page: the ChaCha20 block at `counter`.
std::array<unsigned char, 64> one_time_keys(const Cipher& c, const unsigned char* nonce,
                                            std::uint32_t counter) {
  std::array<unsigned char, 64> otk{};
  crypto_stream_chacha20_ietf_xor_ic(otk.data(), otk.data(), otk.size(), nonce, counter,
                                     c.key.data());
  return otk;
}

void xor_page(unsigned char* data, int from, int to, const unsigned char* otk,
              const unsigned char* nonce, std::uint32_t counter) {
  chacha20_xor(std::span(data + from, static_cast<std::size_t>(to - from)),
               std::span<const unsigned char, 32>(otk + 32, 32),
               std::span<const unsigned char, 12>(nonce, 12), counter + 1);
}

int encrypt(void* cipher, int page, unsigned char* data, int len, int reserved_bytes) {
  // Every page of a file this cipher made has the nonce and tag: SQLite3MC's unauthenticated
  // mode for pages without them is not used.
  if (reserved_bytes < kReserved || len < kReserved + kPage1Offset) return SQLITE_CORRUPT;
  const Cipher& c = of(cipher);
  const int n = len - kReserved;
  const int offset = page == 1 ? kPage1Offset : 0;
  unsigned char* nonce = data + n;
  randombytes_buf(nonce, kNonceLength);
  const std::uint32_t counter = load32_le(nonce + 12) ^ static_cast<std::uint32_t>(page);
  auto otk = one_time_keys(c, nonce, counter);
  xor_page(data, offset, n, otk.data(), nonce, counter);
  if (page == 1) std::memcpy(data, c.salt.data(), c.salt.size());
  crypto_onetimeauth_poly1305(nonce + kNonceLength, data,
                              static_cast<unsigned long long>(n) + kNonceLength, otk.data());
  sodium_memzero(otk.data(), otk.size());
  return SQLITE_OK;
}

int decrypt(void* cipher, int page, unsigned char* data, int len, int reserved_bytes,
            int check_tag) {
  const int failure = page == 1 ? SQLITE_NOTADB : SQLITE_CORRUPT;
  if (reserved_bytes < kReserved || len < kReserved + kPage1Offset) return failure;
  const Cipher& c = of(cipher);
  const int n = len - kReserved;
  const int offset = page == 1 ? kPage1Offset : 0;
  const unsigned char* nonce = data + n;
  const std::uint32_t counter = load32_le(nonce + 12) ^ static_cast<std::uint32_t>(page);
  auto otk = one_time_keys(c, nonce, counter);
  std::array<unsigned char, crypto_onetimeauth_poly1305_BYTES> tag{};
  crypto_onetimeauth_poly1305(tag.data(), data, static_cast<unsigned long long>(n) + kNonceLength,
                              otk.data());
  xor_page(data, offset, n, otk.data(), nonce, counter);
  sodium_memzero(otk.data(), otk.size());
  int rc = SQLITE_OK;
  if (check_tag != 0 && crypto_verify_16(nonce + kNonceLength, tag.data()) != 0) rc = failure;
  if (page == 1 && rc == SQLITE_OK) std::memcpy(data, kFileHeader, sizeof kFileHeader);
  return rc;
}

int register_cipher() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  static const CipherDescriptor descriptor{
      "sealpost_chacha20", allocate, release, clone, legacy, page_size, reserved, salt,
      generate_key,        encrypt,  decrypt};
  static const CipherParams none[] = {{"", 0, 0, 0, 0}};
  if (sqlite3mc_register_cipher(&descriptor, none, 0) != SQLITE_OK) {
    throw std::runtime_error("cannot register the mailbox page cipher");
  }
  const int index = sqlite3mc_cipher_index(descriptor.m_name);
  if (index <= 0) throw std::runtime_error("the mailbox page cipher is not registered");
  return index;
}

}  // namespace

void chacha20_xor(std::span<unsigned char> data, std::span<const unsigned char, 32> key,
                  std::span<const unsigned char, 12> nonce, std::uint32_t counter) {
  unsigned char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    // libsodium refuses a call that would run the 32-bit counter past 2^32 - 1: stop there and
    // go on from block 0.
    const std::uint64_t blocks_to_wrap = (std::uint64_t{1} << 32) - counter;
    const std::size_t chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(left, blocks_to_wrap * 64));
    crypto_stream_chacha20_ietf_xor_ic(p, p, chunk, nonce.data(), counter, key.data());
    p += chunk;
    left -= chunk;
    counter = 0;
  }
}

int page_cipher_index() {
  static const int index = register_cipher();
  return index;
}

}  // namespace sealpost::store::mailbox
