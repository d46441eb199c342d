// What one sealed mailbox holds, inside its encrypted database: folders with IMAP's identities
// (UIDVALIDITY, UIDNEXT, per-message UID and MODSEQ, SPECIAL-USE), messages with flags, keywords
// and INTERNALDATE, the raw bytes compressed with zstd, the IMAP ENVELOPE and BODYSTRUCTURE
// computed once at delivery, an expunge log for QRESYNC, threads by References/In-Reply-To, a
// full-text index (FTS5) for SEARCH, and the bytes used against the mailbox's quota.
//
// Not thread-safe: one MessageStore per connection, used by one thread at a time. Every method
// that changes the store is one transaction; what it returns is committed. Deliveries commit with
// synchronous=FULL (the MX answers 250 after this returns); other changes use DESIGN.md's NORMAL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/mailbox/spool_format.hpp"
#include "store/sqlite/database.hpp"

namespace sealpost::store::mailbox {

// IMAP system flags, as bits (\Recent does not exist in IMAP4rev2).
enum Flag : std::uint32_t {
  kSeen = 1,
  kAnswered = 2,
  kFlagged = 4,
  kDeleted = 8,
  kDraft = 16,
};

// RFC 6154 SPECIAL-USE attributes of the folders every mailbox starts with.
enum class SpecialUse { kNone, kInbox, kSent, kDrafts, kJunk, kTrash, kArchive };
std::string_view to_string(SpecialUse use);  // "\\Sent"...; "" for kNone and kInbox

struct Folder {
  std::int64_t id = 0;
  std::string name;  // hierarchy delimiter '/', UTF-8 ("INBOX" for the inbox)
  SpecialUse special_use = SpecialUse::kNone;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::uint64_t highest_modseq = 0;
  bool subscribed = true;
  // IMAP4rev1's \Recent (RFC 3501 2.3.2): the messages from this UID on have not yet been
  // claimed by a session, so the next session to select the folder read-write sees them
  // \Recent (claim_recent), and STATUS counts them as RECENT.
  std::uint32_t recent_uid = 1;
};

// What the MIME parser computed at delivery, stored with the message so that IMAP never
// re-parses: the IMAP strings, the threading ids and the text the full-text index holds.
struct MessageFacts {
  std::string envelope;              // IMAP ENVELOPE
  std::string bodystructure;         // IMAP BODYSTRUCTURE (extensible)
  std::string body;                  // IMAP BODY (non-extensible)
  std::string message_id;            // without angle brackets; empty when absent
  std::vector<std::string> parents;  // References then In-Reply-To, without angle brackets
  std::int64_t sent_date = 0;        // Date: as Unix time; 0 when absent or unreadable
  std::string subject, from, to, cc, bcc, text;  // decoded, for SEARCH
};

struct NewMessage {
  std::string_view raw;            // the message as delivered (CRLF)
  std::int64_t internal_date = 0;  // Unix time
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;
  const MessageFacts* facts = nullptr;  // may be null: only size and raw bytes are then known
  std::optional<SpoolId> spool_id;      // a spool record already imported is not added twice
};

struct Appended {
  std::uint32_t uid = 0;  // 0 when skipped as an already imported spool record
  std::uint64_t modseq = 0;
};

struct MessageInfo {
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;
  std::int64_t internal_date = 0;
  std::uint64_t size = 0;
  std::int64_t thread = 0;
};

// The quota would be exceeded (a temporary condition: RFC 3463 4.2.2, mailbox full).
class QuotaExceeded : public StoreError {
 public:
  using StoreError::StoreError;
};

class MessageStore {
 public:
  // kWriter: the one connection that changes the mailbox. kReader: a read-only connection
  // (encrypted_db's Access::kReadOnly) beside it, for reads that need not wait for the writer;
  // its SEARCH relies on the writer having indexed first (index_pending).
  enum class Role { kWriter, kReader };
  // Takes an open (encrypted) database; a writer creates or upgrades the schema and the standard
  // folders, a reader requires them. `quota_bytes` 0 means no quota.
  explicit MessageStore(std::unique_ptr<sqlite::Database> db, std::uint64_t quota_bytes = 0,
                        Role role = Role::kWriter);

  [[nodiscard]] std::vector<Folder> folders();
  [[nodiscard]] std::optional<Folder> folder(std::string_view name);
  [[nodiscard]] Folder special_folder(SpecialUse use);  // every standard folder exists
  // A new folder with a fresh UIDVALIDITY. Throws StoreError when the name exists or is invalid.
  Folder create_folder(std::string_view name, SpecialUse use = SpecialUse::kNone);

  enum class Quota { kEnforce, kIgnore };  // kIgnore: mail already accepted (the spool import)
  // kFull: durable once append returns (mail something answered for). kDeferred: consistent, but
  // synced by the next durable commit or checkpoint, so a power loss may take it back: for a copy
  // whose original is durable elsewhere (the Sent copy of a queued message).
  enum class Sync { kFull, kDeferred };
  // Adds messages to a folder in one transaction (all or none). Throws QuotaExceeded when they
  // do not fit.
  std::vector<Appended> append(std::int64_t folder_id, std::span<const NewMessage> messages,
                               Quota quota = Quota::kEnforce, Sync sync = Sync::kFull);
  Appended append(std::int64_t folder_id, const NewMessage& message, Quota quota = Quota::kEnforce,
                  Sync sync = Sync::kFull) {
    return append(folder_id, std::span<const NewMessage>(&message, 1), quota, sync).front();
  }

  // The message's bytes as delivered, or nullopt when there is no such UID.
  [[nodiscard]] std::optional<std::string> raw(std::int64_t folder_id, std::uint32_t uid);
  // The message's header, up to and including the empty line that ends it: what
  // BODY[HEADER.FIELDS (...)] needs, read without the rest of the message.
  [[nodiscard]] std::optional<std::string> header(std::int64_t folder_id, std::uint32_t uid);
  // The stored facts; the search text is indexed, not kept (its fields come back empty).
  [[nodiscard]] std::optional<MessageFacts> facts(std::int64_t folder_id, std::uint32_t uid);
  [[nodiscard]] std::vector<MessageInfo> messages(std::int64_t folder_id);
  // What a listing reads of each message: everything, or kFlags: no size and thread (left 0),
  // which are kept with the message's body and cost a lookup there per message.
  enum class Detail { kAll, kFlags };
  // The messages whose UIDs fall in the closed intervals (ascending, disjoint), in UID order.
  [[nodiscard]] std::vector<MessageInfo> messages(
      std::int64_t folder_id, std::span<const std::pair<std::uint32_t, std::uint32_t>> uids,
      Detail detail = Detail::kAll);
  // The messages changed (flags, or new) after `modseq`, in UID order: what a session that has
  // seen the folder up to `modseq` must be told.
  [[nodiscard]] std::vector<MessageInfo> changed_since(std::int64_t folder_id, std::uint64_t modseq,
                                                       Detail detail = Detail::kAll);
  struct Counts {
    std::uint32_t messages = 0;
    std::uint32_t unseen = 0;
    std::uint32_t deleted = 0;
    std::uint64_t size = 0;
    std::uint32_t recent = 0;  // messages no session has claimed as \Recent yet
  };
  [[nodiscard]] Counts counts(std::int64_t folder_id);
  // Claims the folder's unclaimed messages as \Recent for the calling session (RFC 3501
  // 2.3.2: the first session notified of a message sees it \Recent, later ones do not):
  // returns their UIDs, ascending, and moves the folder's recent_uid past them. One
  // transaction; nothing is written when there is nothing to claim.
  std::vector<std::uint32_t> claim_recent(std::int64_t folder_id);
  // The keywords set on the folder's messages (each once, case-insensitively, in one of the
  // spellings used), sorted; at most `limit` of them: what IMAP's FLAGS response lists.
  [[nodiscard]] std::vector<std::string> keywords(std::int64_t folder_id, std::size_t limit);
  // The lowest UID without \\Seen; 0 when every message is seen.
  [[nodiscard]] std::uint32_t first_unseen(std::int64_t folder_id);
  // The folder's UIDs in order (IMAP's sequence numbers are their positions).
  [[nodiscard]] std::vector<std::uint32_t> uids(std::int64_t folder_id);

  // Replaces the flags and keywords of a message; returns its new MODSEQ (0: no such UID).
  std::uint64_t set_flags(std::int64_t folder_id, std::uint32_t uid, std::uint32_t flags,
                          const std::vector<std::string>& keywords);
  // IMAP STORE on several messages, one MODSEQ for the change. Messages whose MODSEQ is above
  // `unchanged_since` (CONDSTORE) are left alone and listed in `modified`; messages whose flags
  // would not change keep their MODSEQ and are not listed in `changed`.
  enum class FlagChange { kReplace, kAdd, kRemove };
  struct FlagUpdate {
    std::uint32_t uid = 0;
    std::uint64_t modseq = 0;
    std::uint32_t flags = 0;
    std::vector<std::string> keywords;
  };
  struct StoreResult {
    std::vector<FlagUpdate> changed;
    std::vector<std::uint32_t> modified;
  };
  StoreResult store_flags(std::int64_t folder_id, std::span<const std::uint32_t> uids,
                          FlagChange change, std::uint32_t flags,
                          const std::vector<std::string>& keywords,
                          std::optional<std::uint64_t> unchanged_since = std::nullopt);

  // IMAP COPY / MOVE (UIDPLUS: the UIDs given in the target, in the order of `uids`' existing
  // messages). The bodies are shared, not duplicated. MOVE expunges the sources (logged).
  struct CopyResult {
    std::uint32_t uidvalidity = 0;  // the target's
    std::vector<std::uint32_t> source;
    std::vector<std::uint32_t> target;
  };
  CopyResult copy(std::int64_t from_folder, std::span<const std::uint32_t> uids,
                  std::int64_t to_folder, bool move = false);

  // RENAME (with the folder's inferiors; renaming INBOX moves its messages into a new folder,
  // RFC 9051 6.3.6) and DELETE (not INBOX; the messages go, the inferiors stay). Throw
  // StoreError with the reason.
  void rename_folder(std::string_view from, std::string_view to);
  void delete_folder(std::string_view name);
  void set_subscribed(std::string_view name, bool subscribed);

  // Removes the folder's \Deleted messages, logging their UIDs for QRESYNC; returns the UIDs.
  // With `only`, just the \\Deleted messages among those UIDs (UID EXPUNGE, RFC 4315).
  std::vector<std::uint32_t> expunge(
      std::int64_t folder_id, std::optional<std::span<const std::uint32_t>> only = std::nullopt);
  // UIDs expunged after `modseq` (RFC 7162 VANISHED (EARLIER)).
  [[nodiscard]] std::vector<std::uint32_t> expunged_since(std::int64_t folder_id,
                                                          std::uint64_t modseq);

  // Full-text SEARCH: UIDs in the folder whose indexed text holds every word of `query` (a
  // case-insensitive substring match, as IMAP's SEARCH; words under 3 characters are looked for
  // in the raw messages).
  [[nodiscard]] std::vector<std::uint32_t> search_text(std::int64_t folder_id,
                                                       std::string_view query);
  // The UIDs in a folder of the messages of a thread.
  [[nodiscard]] std::vector<std::uint32_t> thread_members(std::int64_t folder_id,
                                                          std::int64_t thread);

  // Indexes the messages waiting for the full-text index. Appends queue their search text (a
  // delivery writes no FTS5 segment of its own) and index once 64 are waiting; a writer's search
  // indexes first, so it always sees every message (a reader's sees what the writer indexed).
  // Cheap when nothing waits: no write transaction is begun.
  void index_pending();

  [[nodiscard]] std::uint64_t usage_bytes();
  [[nodiscard]] std::uint64_t quota_bytes() const { return quota_bytes_; }
  [[nodiscard]] sqlite::Database& database() { return *db_; }

 private:
  void create_schema();
  void insert_folder(std::string_view name, SpecialUse use);  // inside the caller's transaction
  std::int64_t thread_for(const MessageFacts& facts, std::int64_t body_id);
  void index_pending_locked();  // inside the caller's transaction

  std::unique_ptr<sqlite::Database> db_;
  std::uint64_t quota_bytes_;
  Role role_;
};

// zstd, as bodies are stored (exposed for tests and export).
std::vector<unsigned char> compress(std::string_view raw);
std::string decompress(std::span<const unsigned char> compressed, std::size_t size);
// The length of a message's header with the empty line that ends it (all of it when none does).
std::size_t header_length(std::string_view raw);

}  // namespace sealpost::store::mailbox
