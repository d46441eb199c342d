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
#include <string_view>
#include <vector>

#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/message_store.hpp"

namespace sealpost::store::mailbox {

// Called as work proceeds: (messages done, messages in all).
using Progress = std::function<void(std::size_t done, std::size_t total)>;

struct ExportOptions {
  // Replace files that exist (the names, never what a symbolic link there points to); without
  // it an existing file is refused.
  bool overwrite = false;
  Progress progress;
};

// Every output file is created new (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600), and every directory
// below `out` is made and entered without following a symbolic link: a link planted in the output
// is refused, never written through. StoreError when a file exists (without `overwrite`).

// mboxrd. With `folder`, `out` is that folder's mbox file; otherwise `out` is a directory with
// one "<folder>.mbox" per folder ("Projects/2026" -> out/Projects/2026.mbox, names encoded as
// export_levels says). Returns how many messages were written.
std::size_t export_mbox(MessageStore& store, const std::filesystem::path& out,
                        const std::optional<std::string>& folder, const ExportOptions& options);
// out/<folder>/<uid>.eml, the bytes as stored.
std::size_t export_eml(MessageStore& store, const std::filesystem::path& out,
                       const ExportOptions& options);
// A consistent copy of the database: decrypted (plain SQLite, readable by the sqlite3 tool), or
// with `encrypted` still encrypted under the mailbox key.
void export_sqlite(MessageStore& store, const std::filesystem::path& out, bool encrypted,
                   const ExportOptions& options);

// How exports name a folder: one path component per level of its name, with the bytes that
// could make two folders meet in one file, or a file escape or hide ('%', '.', '/', backslash
// and control characters), percent-encoded ("a.b" -> "a%2Eb", ".." -> "%2E%2E"), and an empty level
// as "%". Distinct folders never share a file; folder_from_export_path (for imports of an export
// directory, the ".mbox" taken off) gives the name back.
std::vector<std::string> export_levels(std::string_view folder);
std::string folder_from_export_path(const std::filesystem::path& relative);

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
