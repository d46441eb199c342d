// A locked mailbox's sealed spool: mail that arrives while its owner is logged out, each message
// sealed to the mailbox's X25519 public key, appended and fsync'd before the MX says 250.
//
// File format: records of  "SPL1" | id (16 random bytes) | length (4 bytes, big-endian) | sealed
// bytes. A record cut short by a crash is ignored (its sender never got 250). Import is
// crash-safe: the spool is first renamed to "<file>.importing" (new mail starts a new spool), its
// records go into the database in one transaction keyed by their ids (a record imported twice is
// ignored), and only after the commit is the renamed file deleted.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "store/mailbox/spool_format.hpp"

namespace sealpost::store::mailbox {

// Appends one record and fsyncs the file (and, for a new file, its directory). Throws
// std::runtime_error naming the file on failure: the caller must not answer 250 then.
SpoolId append_to_spool(const std::filesystem::path& spool,
                        const std::vector<unsigned char>& sealed);

// Every complete record of a spool file, in order; a damaged or truncated tail is dropped.
std::vector<SpoolRecord> read_spool(const std::filesystem::path& file);

// Import: moves `spool` aside (if it exists), hands the records of every pending file to
// `commit` (which must store them atomically, ignoring ids it already has), then deletes the
// files. Returns the number of records handed over.
std::size_t import_spool(const std::filesystem::path& spool,
                         const std::function<void(const std::vector<SpoolRecord>&)>& commit);

}  // namespace sealpost::store::mailbox
