#include "store/mailbox/mailboxes.hpp"

#include <chrono>

#include <sodium.h>

#include "core/clock.hpp"
#include "crypto/random.hpp"
#include "crypto/seal.hpp"
#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/message_store.hpp"

namespace sealpost::store::mailbox {

namespace {

std::string spool_context(const std::string& file_id, SpoolSecret which) {
  return (which == SpoolSecret::kCurrent ? "sealpost spool key\n"
                                         : "sealpost previous spool key\n") +
         file_id;
}

void remove_files(const std::filesystem::path& data_dir, const MailboxRecord& m) {
  std::error_code ec;
  const auto db = database_file(data_dir, m);
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".rekeyed", ".rekeyed-wal",
                             ".rekeyed-shm", ".rekeyed-journal"}) {
    std::filesystem::remove(db.string() + suffix, ec);
  }
  std::filesystem::remove(spool_file(data_dir, m), ec);
  std::filesystem::remove(spool_file(data_dir, m).string() + ".importing", ec);
}

}  // namespace

std::filesystem::path database_file(const std::filesystem::path& data_dir, const MailboxRecord& m) {
  return data_dir / "mailboxes" / (m.file_id + ".db");
}

std::filesystem::path spool_file(const std::filesystem::path& data_dir, const MailboxRecord& m) {
  return spool_file(data_dir, m.file_id);
}

std::filesystem::path spool_file(const std::filesystem::path& data_dir, std::string_view file_id) {
  return data_dir / "mailboxes" / (std::string(file_id) + ".spool");
}

MailboxRecord create_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                             const std::string& address, const std::string& domain,
                             std::string_view password, crypto::KdfCost cost) {
  if (sodium_init() < 0) throw StoreError("libsodium cannot initialise");
  if (password.empty()) throw StoreError("the password must not be empty");
  const crypto::SecretBytes master = crypto::new_master_key();
  const crypto::SpoolKeys spool = crypto::SpoolKeys::generate();
  MailboxRecord m;
  m.address = address;
  m.domain = domain;
  m.file_id = crypto::random_hex(16);
  m.spool_public_key = spool.public_key;
  m.spool_secret_sealed = seal_spool_secret(master, spool.secret_key, m.file_id);
  m.created = core::unix_now();
  const crypto::WrappedKey wrapped = crypto::wrap(master, password, cost);

  std::filesystem::create_directories(data_dir / "mailboxes");
  try {
    // The schema and the standard folders.
    MessageStore(open_encrypted(database_file(data_dir, m), master));
    store.add_mailbox(m, CredentialRecord{address, "password", wrapped.serialize(), m.created});
  } catch (...) {
    remove_files(data_dir, m);
    throw;
  }
  return m;
}

std::optional<Unlocked> unlock(MetadataStore& store, const std::string& address,
                               std::string_view credential, crypto::KdfCost cost) {
  auto m = store.mailbox(address);
  if (!m) {
    (void)crypto::unwrap_nobody(credential, cost);  // the same work as a wrong credential
    return std::nullopt;
  }
  std::vector<crypto::WrappedKey> wrappings;
  for (const auto& c : store.credentials(address)) {
    if (auto w = crypto::WrappedKey::parse(c.wrapped)) wrappings.push_back(std::move(*w));
  }
  auto master = crypto::unwrap_any(wrappings, credential);
  if (!master) return std::nullopt;
  auto secret = crypto::open_secret(master->bytes(), m->spool_secret_sealed,
                                    spool_context(m->file_id, SpoolSecret::kCurrent));
  if (!secret) throw StoreError("mailbox " + address + ": the spool key does not open");
  Unlocked u{*m, std::move(*master), {}, {}};
  u.spool_keys.public_key = m->spool_public_key;
  u.spool_keys.secret_key = std::move(*secret);
  if (!m->spool_previous_sealed.empty()) {
    auto previous = crypto::open_secret(u.master_key.bytes(), m->spool_previous_sealed,
                                        spool_context(m->file_id, SpoolSecret::kPrevious));
    if (previous) u.previous_spool_keys = crypto::SpoolKeys::from_secret(std::move(*previous));
    if (!u.previous_spool_keys) {
      throw StoreError("mailbox " + address + ": the previous spool key does not open");
    }
  }
  return u;
}

std::optional<std::string> wrap_for(MetadataStore& store, const Unlocked& unlocked,
                                    std::string_view credential) {
  // The mailbox's salt and cost, shared by all its credentials (one Argon2id run per login).
  for (const auto& c : store.credentials(unlocked.record.address)) {
    if (auto w = crypto::WrappedKey::parse(c.wrapped)) {
      return crypto::wrap(unlocked.master_key, credential, w->salt, w->cost).serialize();
    }
  }
  return std::nullopt;
}

std::vector<unsigned char> seal_spool_secret(const crypto::SecretBytes& master,
                                             const crypto::SecretBytes& spool_secret,
                                             const std::string& file_id, SpoolSecret which) {
  return crypto::seal(
      master.bytes(),
      std::string_view(reinterpret_cast<const char*>(spool_secret.data()), spool_secret.size()),
      spool_context(file_id, which));
}

std::optional<std::string> open_spooled(const Unlocked& keys,
                                        const std::vector<unsigned char>& sealed) {
  auto opened = crypto::open_sealed(keys.spool_keys, sealed);
  if (!opened && keys.previous_spool_keys) {
    opened = crypto::open_sealed(*keys.previous_spool_keys, sealed);
  }
  return opened;
}

bool delete_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                    const std::string& address) {
  const auto m = store.mailbox(address);
  if (!m) return false;
  store.remove_mailbox(address);
  remove_files(data_dir, *m);
  return true;
}

}  // namespace sealpost::store::mailbox
