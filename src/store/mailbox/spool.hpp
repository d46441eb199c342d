// A locked mailbox's sealed spool: mail that arrives while its owner is logged out, each message
// sealed to the mailbox's X25519 public key, appended and fsync'd before the MX says 250.
//
// File format: records of  "SPL1" | id (16 random bytes) | length (4 bytes, big-endian) | sealed
// bytes. A record cut short by a crash is ignored (its sender never got 250). Import is
// crash-safe: the spool is first renamed to "<file>.importing" (new mail starts a new spool), its
// records go into the database in one transaction keyed by their ids (a record imported twice is
// ignored), and only after the commit is the renamed file deleted. The import streams: it reads
// one record at a time and commits in batches of bounded size, so a large spool (a mailbox whose
// owner was away for a month) never sits in memory whole; a crash between batches re-reads the
// file, and the records already committed are skipped by their ids.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "store/mailbox/spool_format.hpp"

namespace sealpost::store::mailbox {

// Appends one record and fsyncs the file (and, for a new file, its directory). Nullopt, with
// nothing written, when the file would grow past `max_bytes` (0: no limit; checked under the
// file's lock, so concurrent deliveries cannot overshoot it together). Throws std::runtime_error
// naming the file on failure: the caller must not answer 250 then.
std::optional<SpoolId> append_to_spool(const std::filesystem::path& spool,
                                       const std::vector<unsigned char>& sealed,
                                       std::uint64_t max_bytes = 0);

// A spool file's records, one at a time: it holds at most one record (of at most `max_record`
// bytes), and allocates none that the file is too short to hold.
class SpoolReader {
 public:
  explicit SpoolReader(const std::filesystem::path& file, std::size_t max_record = kMaxSpoolRecord);
  ~SpoolReader();
  SpoolReader(const SpoolReader&) = delete;
  SpoolReader& operator=(const SpoolReader&) = delete;

  // The next complete record, in order; nullopt at the end, and at a damaged or truncated record
  // (what follows it is not read: a crash mid-append leaves only a short tail).
  std::optional<SpoolRecord> next();

 private:
  int fd_ = -1;
  std::uint64_t left_ = 0;  // bytes of the file not read yet
  std::size_t max_record_;
};

// Every complete record of a spool file, in order; a damaged or truncated tail is dropped.
std::vector<SpoolRecord> read_spool(const std::filesystem::path& file);

// How an import batches: a batch is handed to `commit` once it holds `max_records` records or
// `max_bytes` sealed bytes (or a single record larger than that).
struct SpoolBatching {
  std::size_t max_records = 256;
  std::size_t max_bytes = std::size_t{16} << 20;
};

struct SpoolImport {
  std::size_t records = 0;     // handed to `commit`
  std::size_t batches = 0;     // calls of `commit`
  std::size_t peak_bytes = 0;  // the most sealed bytes held at once
};

// Import: moves `spool` aside (if it exists), hands the records of every pending file to
// `commit` in batches (each stored atomically, ignoring ids it already has), then deletes the
// files.
SpoolImport import_spool(const std::filesystem::path& spool,
                         const std::function<void(const std::vector<SpoolRecord>&)>& commit,
                         const SpoolBatching& batching = {});

}  // namespace sealpost::store::mailbox
