// `mailbox passwd --rekey`: the mailbox's data under a new random master key, so that an old copy
// of the metadata store (a backup, a stolen disk) and the old password, which together give the
// old key, no longer open current mail. A password change alone only rewraps the same key.
//
// Crash-safe in four steps, each leaving a mailbox that its credential of the moment opens:
//   0. import: the spool moves into the database, as at a login (crash-safe the same way);
//   1. copy: the database is copied, page by page through SQLite's backup API, into
//      "<file>.db.rekeyed" under the new key; closed (checkpointed) and fsync'd;
//   2. commit: one metadata transaction stores the new password's wrapping of the new key, a new
//      spool key pair (its secret, and the old secret as the previous one, sealed under the new
//      key), and drops the app passwords (they wrapped the old key, and their secrets are not
//      known here to wrap the new one);
//   3. swap: "<file>.db.rekeyed" is renamed over "<file>.db" and the directory fsync'd.
// A crash before 2 leaves the old key and the old file (the copy is debris the next rekey
// removes); after 2 and before 3, the new key opens no "<file>.db" and open_encrypted() finishes
// the swap (encrypted_db.hpp).
//
// The spool's key pair rotates too, so the old key opens nothing that arrives after the rekey.
// A delivery that looked up the old public key before the commit (or before the server reloaded
// the metadata, within a second) still seals to it: the previous secret, kept under the new key
// until the next rekey, opens those records at the next login, and the next rekey imports the
// spool with both keys before it rotates again, so no mail is left behind. Keeping it costs
// nothing: only the new master key opens it, and that key opens the mail anyway.
//
// The mailbox must not be open elsewhere (an IMAP session of its owner, another command): the
// copy holds the database exclusively, and a mailbox in use is refused with a clear error.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/mailbox_keys.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::store::mailbox {

enum class RekeyStep {
  kCopied,     // the copy under the new key is durable; the metadata still holds the old key
  kCommitted,  // the metadata holds the new key; the copy is not yet in place
};

struct Rekeyed {
  std::size_t revoked_app_passwords = 0;
};

// Nullopt when `password` does not open the mailbox. Throws StoreError when the mailbox is in use
// or the copy fails (nothing is changed then). `after` runs after each step (tests stop there to
// stand for a crash).
std::optional<Rekeyed> rekey_mailbox(MetadataStore& store, const std::filesystem::path& data_dir,
                                     const std::string& address, std::string_view password,
                                     std::string_view new_password,
                                     const std::function<void(RekeyStep)>& after = {});

}  // namespace sealpost::store::mailbox
