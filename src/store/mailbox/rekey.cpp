#include "store/mailbox/rekey.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/facts.hpp"
#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/mailboxes.hpp"

namespace sealpost::store::mailbox {

namespace {

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw StoreError(path.string() + ": cannot open to sync");
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw StoreError(path.string() + ": fsync failed");
}

std::string single_text(sqlite::Database& db, std::string_view sql) {
  auto st = db.prepare(sql);
  return st.step() ? st.text(0) : std::string();
}

// Holds the database to itself: out of WAL (which needs every other connection closed, so an
// owner's open session or another command is refused here), and exclusively locked from the
// next read until it closes.
void hold_exclusively(sqlite::Database& db, const std::filesystem::path& file) {
  db.exec("PRAGMA busy_timeout = 0");
  std::string mode;
  try {
    mode = single_text(db, "PRAGMA journal_mode = DELETE");
  } catch (const StoreError&) {
  }
  if (mode != "delete") {
    throw StoreError(file.filename().string() +
                     ": the mailbox is in use (its owner is logged in, or another command has it "
                     "open): log its sessions out, or stop the server, and try again");
  }
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  db.exec("BEGIN EXCLUSIVE; COMMIT;");  // takes the lock, which EXCLUSIVE mode then keeps
}

void copy_database(sqlite::Database& from, sqlite::Database& to) {
  sqlite3_backup* backup = sqlite3_backup_init(to.handle(), "main", from.handle(), "main");
  if (backup == nullptr) {
    throw StoreError(std::string("rekey: cannot copy the database: ") +
                     sqlite3_errmsg(to.handle()));
  }
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw StoreError(std::string("rekey: copying the database failed: ") + sqlite3_errstr(rc));
  }
}

void remove_debris(const std::filesystem::path& copy) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(copy.string() + suffix);
  }
}

}  // namespace

std::optional<Rekeyed> rekey_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                                     const std::string& address, std::string_view password,
                                     std::string_view new_password,
                                     const std::function<void(RekeyStep)>& after) {
  if (new_password.empty()) throw StoreError("the password must not be empty");
  auto unlocked = unlock(store, address, password);
  if (!unlocked) return std::nullopt;
  // The new password's wrapping keeps the mailbox's KDF cost, with a salt of its own.
  std::optional<crypto::KdfCost> cost;
  Rekeyed result;
  for (const auto& c : store.credentials(address)) {
    if (c.name != "password") ++result.revoked_app_passwords;
    if (auto w = crypto::WrappedKey::parse(c.wrapped); w && !cost) cost = w->cost;
  }
  if (!cost) throw StoreError("mailbox " + address + " has no credential to rewrap");

  const auto file = database_file(data_dir, unlocked->record);
  const std::filesystem::path copy = file.string() + ".rekeyed";
  MessageStore current(open_encrypted(file, unlocked->master_key),
                       static_cast<std::uint64_t>(unlocked->record.quota_bytes));
  hold_exclusively(current.database(), file);
  remove_debris(copy);  // of an earlier rekey that stopped before its commit

  // 0. The spool moves in first, as at a login, opened with the keys of the moment (so a second
  // rekey also takes in what the first one's previous key sealed): what the copy then holds is
  // all the mail, and only what arrives while the rekey runs is sealed to the old key.
  (void)import_spool_into(current, *unlocked, spool_file(data_dir, unlocked->record),
                          message_facts);

  // 1. The copy, under the new key, durable before the metadata names that key.
  const crypto::SecretBytes master = crypto::new_master_key();
  {
    auto rekeyed = open_encrypted(copy, master);
    copy_database(current.database(), *rekeyed);
    if (single_text(*rekeyed, "PRAGMA quick_check") != "ok") {
      throw StoreError("rekey: the copy does not check out");
    }
    rekeyed->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }  // closed: its WAL is folded in and removed
  // Nothing more is written to the old file, not even PRAGMA optimize's statistics at close: a
  // journal it left by name would lie beside the new file after the swap.
  current.database().exec("PRAGMA query_only = ON");
  fsync_path(copy, O_RDONLY);
  fsync_path(copy.parent_path(), O_RDONLY | O_DIRECTORY);
  if (after) after(RekeyStep::kCopied);

  // 2. The metadata: a new spool key pair (the old secret kept as the previous one, for what is
  // sealed to the old public key before the server reloads it), both secrets sealed under the new
  // key, the new key's wrapping, app passwords gone.
  const auto spool = crypto::SpoolKeys::generate();
  const std::string& file_id = unlocked->record.file_id;
  const SpoolKeyRecord keys{
      spool.public_key, seal_spool_secret(master, spool.secret_key, file_id),
      seal_spool_secret(master, unlocked->spool_keys.secret_key, file_id, SpoolSecret::kPrevious)};
  const auto wrapped = crypto::wrap(master, new_password, *cost);
  const CredentialRecord credential{address, "password", wrapped.serialize(), 0};
  if (!store.replace_keys(address, keys, credential)) throw StoreError("no mailbox " + address);
  if (after) after(RekeyStep::kCommitted);

  // 3. The swap, while the old file is still held: nobody opens it in between.
  std::error_code ec;
  std::filesystem::rename(copy, file, ec);
  // An opener that got the new key from the metadata may have finished the swap itself.
  if (ec && std::filesystem::exists(copy)) {
    throw StoreError(file.string() + ": cannot put the rekeyed copy in place: " + ec.message());
  }
  fsync_path(file.parent_path(), O_RDONLY | O_DIRECTORY);
  return result;  // the old file, renamed over, goes with `current`
}

}  // namespace sealpost::store::mailbox
