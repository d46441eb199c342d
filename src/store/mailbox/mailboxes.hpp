// Creating, unlocking and deleting sealed mailboxes: the metadata store holds the public and
// sealed parts, data_dir/mailboxes/ the encrypted database and spool of each. Unlocking runs
// Argon2id: callers keep it off the I/O threads.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "crypto/mailbox_keys.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::store::mailbox {

struct Unlocked {
  MailboxRecord record;
  crypto::SecretBytes master_key;
  crypto::SpoolKeys spool_keys;
  // The pair the last rekey rotated away from, if the record keeps it (MailboxRecord).
  std::optional<crypto::SpoolKeys> previous_spool_keys;
};

// A spool record's plaintext, opened with the mailbox's spool key or its previous one; nullopt
// when neither opens it.
std::optional<std::string> open_spooled(const Unlocked& keys,
                                        const std::vector<unsigned char>& sealed);

std::filesystem::path database_file(const std::filesystem::path& data_dir, const MailboxRecord& m);
std::filesystem::path spool_file(const std::filesystem::path& data_dir, const MailboxRecord& m);
std::filesystem::path spool_file(const std::filesystem::path& data_dir, std::string_view file_id);

// Creates the keys, the encrypted database (with its schema) and the record. Throws StoreError.
MailboxRecord create_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                             const std::string& address, const std::string& domain,
                             std::string_view password, crypto::KdfCost cost = {});

// The mailbox's keys if `credential` opens any of its wrappings; nullopt otherwise, for an
// unknown address after the same Argon2id work (the two cannot be told apart).
std::optional<Unlocked> unlock(MetadataStore& store, const std::string& address,
                               std::string_view credential, crypto::KdfCost cost = {});

// A new credential's wrapping of an unlocked mailbox's key, with the mailbox's shared salt and
// cost; store it with MetadataStore::set_credential (password change, app passwords).
std::optional<std::string> wrap_for(MetadataStore& store, const Unlocked& unlocked,
                                    std::string_view credential);

// A spool secret key sealed under a master key: the current one (MailboxRecord::
// spool_secret_sealed) or the previous one (spool_previous_sealed), each under its own context.
enum class SpoolSecret { kCurrent, kPrevious };
std::vector<unsigned char> seal_spool_secret(const crypto::SecretBytes& master,
                                             const crypto::SecretBytes& spool_secret,
                                             const std::string& file_id,
                                             SpoolSecret which = SpoolSecret::kCurrent);

// Removes the record and every file of the mailbox; false when there was none.
bool delete_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                    const std::string& address);

}  // namespace sealpost::store::mailbox
