// The mailbox files' page cipher: SQLite3 Multiple Ciphers' "chacha20" scheme (sqleet's
// ChaCha20-Poly1305, non-legacy) computed with libsodium's vectorised ChaCha20 and Poly1305
// instead of SQLite3MC's portable C, which took a third of the CPU of serving IMAP (every page a
// connection reads past its cache is decrypted and authenticated). The bytes on disk are the same:
// a file either one writes, the other opens (page_cipher_test), so a mailbox and its SQLite
// export open in any SQLite3MC tool with cipher=chacha20 and the raw key.
//
// Per page of n bytes plus 32 reserved: a random 16-byte nonce N at n; counter c = the nonce's last
// 4 bytes (little-endian) XOR the page number; one-time keys K = ChaCha20(key, N[0..12], c), one
// 64-byte block; the page is XORed with ChaCha20(K[32..64], N[0..12], c + 1), the 32-bit block
// counter wrapping to 0; the tag Poly1305(K[0..32], page bytes and N) follows N. Page 1 keeps
// the file's 16-byte salt in front and its bytes 16-23 in the clear (SQLite reads the page size
// there before it can decrypt).
#pragma once

#include <cstdint>
#include <span>

namespace sealpost::store::mailbox {

// The cipher's index for sqlite3mc_config(db, "cipher", ...); registers it on first use.
// Only raw keys ("raw:" + 32 bytes) are accepted: there is no password KDF here.
int page_cipher_index();

// XORs `data` with the ChaCha20 (RFC 8439) keystream of `key` and `nonce` from block `counter`
// on; past block 2^32 - 1 the counter wraps to 0 without carrying into the nonce, as SQLite3MC's
// implementation does. Exposed for tests.
void chacha20_xor(std::span<unsigned char> data, std::span<const unsigned char, 32> key,
                  std::span<const unsigned char, 12> nonce, std::uint32_t counter);

}  // namespace sealpost::store::mailbox
