// A mailbox's database file: SQLite3 Multiple Ciphers with ChaCha20-Poly1305, keyed by the
// mailbox's random master key (given raw: no password KDF here, Argon2id already ran when the key
// was unwrapped), opened with the pragmas of DESIGN.md.
#pragma once

#include <filesystem>
#include <memory>

#include "crypto/secret.hpp"
#include "store/sqlite/database.hpp"

namespace sealpost::store::mailbox {

enum class Access {
  kReadWrite,  // opens or creates the file
  kReadOnly,   // an existing file; the connection refuses to write (PRAGMA query_only)
};

// Throws StoreError("... cannot be opened with this key") when the key is not the file's
// (SQLite's SQLITE_NOTADB at the first read), and for any other failure. Read-write, a key that
// opens not the file but "<file>.rekeyed" finishes a rekey interrupted after its commit
// (rekey.hpp): the copy is renamed into place first.
std::unique_ptr<sqlite::Database> open_encrypted(const std::filesystem::path& file,
                                                 const crypto::SecretBytes& key,
                                                 Access access = Access::kReadWrite);

}  // namespace sealpost::store::mailbox
