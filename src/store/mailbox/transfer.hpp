// Getting mail out of and into a sealed mailbox: `sealpost mailbox export` (mboxrd files, .eml
// files, or an SQLite copy) and `sealpost mailbox import` (mbox files and Maildirs).
//
// Imports are resumable: each message is keyed by a digest of its folder and bytes, so running an
// import again after it was interrupted adds only what is missing (and never a second copy).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/message_store.hpp"

namespace sealpost::store::mailbox {

// Called as work proceeds: (messages done, messages in all).
using Progress = std::function<void(std::size_t done, std::size_t total)>;

// mboxrd. With `folder`, `out` is that folder's mbox file; otherwise `out` is a directory with
// one "<folder>.mbox" per folder ("Projects/2026" -> out/Projects/2026.mbox). Returns how many
// messages were written.
std::size_t export_mbox(MessageStore& store, const std::filesystem::path& out,
                        const std::optional<std::string>& folder, const Progress& progress);
// out/<folder>/<uid>.eml, the bytes as stored.
std::size_t export_eml(MessageStore& store, const std::filesystem::path& out,
                       const Progress& progress);
// A consistent copy of the database: decrypted (plain SQLite, readable by the sqlite3 tool), or
// with `encrypted` still encrypted under the mailbox key. `out` must not exist.
void export_sqlite(MessageStore& store, const std::filesystem::path& out, bool encrypted);

struct ImportResult {
  std::size_t imported = 0;
  std::size_t already_there = 0;  // imported by an earlier run
  std::size_t refused = 0;        // over the size limit or unreadable
};

struct ImportOptions {
  std::string folder = "INBOX";  // for an mbox file; a Maildir's subfolders keep their names
  std::size_t max_message_size = std::size_t{64} << 20;
  FactsFunction facts;
  Progress progress;
};

// `path` is an mbox file, a Maildir (cur/ new/, with Maildir++ ".Sub.Folder" subfolders), or a
// directory of "*.mbox" files as export_mbox writes them. Throws StoreError when it is none.
ImportResult import_mail(MessageStore& store, const std::filesystem::path& path,
                         const ImportOptions& options);

}  // namespace sealpost::store::mailbox
