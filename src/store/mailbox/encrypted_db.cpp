#include "store/mailbox/encrypted_db.hpp"

#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/mailbox/page_cipher.hpp"

namespace sealpost::store::mailbox {

namespace {

// A rekey (rekey.hpp) that stopped after its metadata commit and before its rename: the copy
// under the new key is complete and `key` opens it. Puts it in place; false when there is none.
bool finish_interrupted_rekey(const std::filesystem::path& file, const crypto::SecretBytes& key) {
  const std::filesystem::path copy = file.string() + ".rekeyed";
  if (!std::filesystem::exists(copy)) return false;
  try {
    (void)open_encrypted(copy, key, Access::kReadOnly);
  } catch (const StoreError&) {
    return false;  // debris of a rekey that never committed: not this key's
  }
  std::filesystem::rename(copy, file);
  const int fd = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return true;
}

}  // namespace

std::unique_ptr<sqlite::Database> open_encrypted(const std::filesystem::path& file,
                                                 const crypto::SecretBytes& key, Access access) {
  if (key.size() != 32) throw StoreError("a mailbox key is 32 bytes");
  if (access == Access::kReadOnly && !std::filesystem::exists(file)) {
    throw StoreError(file.string() + ": no such mailbox database");
  }
  auto db = std::make_unique<sqlite::Database>(file.string());
  ::chmod(file.c_str(), 0600);
  sqlite3* h = db->handle();
  // SQLite3MC's ChaCha20-Poly1305 page format, computed with libsodium (page_cipher.hpp).
  const int cipher = page_cipher_index();
  if (sqlite3mc_config(h, "cipher", cipher) != cipher) {
    throw StoreError(file.string() + ": the ChaCha20-Poly1305 cipher is unavailable");
  }
  // "raw:" + the 32 key bytes: SQLite3MC uses them as the key, without its own KDF.
  crypto::SecretBytes raw(4 + key.size());
  std::memcpy(raw.data(), "raw:", 4);
  std::memcpy(raw.data() + 4, key.data(), key.size());
  if (sqlite3_key(h, raw.data(), static_cast<int>(raw.size())) != SQLITE_OK) {
    throw StoreError(file.string() + ": cannot set the mailbox key");
  }
  // The first read checks the key: a wrong one (or another mailbox's) fails here.
  try {
    db->exec("SELECT count(*) FROM sqlite_schema");
  } catch (const StoreError&) {
    db.reset();
    if (access == Access::kReadWrite && finish_interrupted_rekey(file, key)) {
      return open_encrypted(file, key, access);
    }
    throw StoreError(file.string() + ": cannot be opened with this key");
  }
  // auto_vacuum and encoding take effect only in a new, empty file: before WAL writes page 1.
  bool empty = false;
  {
    auto st = db->prepare("SELECT count(*) FROM sqlite_schema");
    st.step();
    empty = st.integer(0) == 0;
  }  // finalised: no read transaction stays open
  if (empty) db->exec("PRAGMA auto_vacuum = FULL; PRAGMA encoding = 'UTF-8';");
  db->exec(
      "PRAGMA journal_mode = WAL;"
      "PRAGMA secure_delete = ON;"
      "PRAGMA synchronous = NORMAL;"
      "PRAGMA foreign_keys = ON;"
      "PRAGMA temp_store = MEMORY;"  // and SQLITE_TEMP_STORE=3: see CMakeLists.txt
      "PRAGMA busy_timeout = 5000;");
  if (access == Access::kReadOnly) {
    // A reader sits beside the writer for the mailbox's open life: a smaller page cache (1 MiB,
    // not SQLite's 2) bounds what each logged-in user costs.
    db->exec("PRAGMA query_only = ON; PRAGMA cache_size = -1024;");
    return db;
  }
  db->optimize_on_close();
  return db;
}

}  // namespace sealpost::store::mailbox
