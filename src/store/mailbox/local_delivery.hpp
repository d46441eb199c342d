// Delivery into sealed mailboxes (DESIGN.md "Inbound, stored"): into the database when its owner
// is logged in (the mailbox is open in the directory), otherwise sealed to the mailbox's public
// key and appended to its spool, which moves into the database at the next login. Either way the
// function returns only once the message is durable (commit with synchronous=FULL, or fsync).
//
// Everything here blocks (SQLite, fsync, zstd, MIME parsing): run it on the worker pool, never on
// an I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/mailbox_keys.hpp"
#include "store/mailbox/local_mailbox.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "store/mailbox/message_store.hpp"
#include "store/mailbox/spool.hpp"

namespace sealpost::store::mailbox {

// Computes what a stored message keeps besides its bytes (MIME structure, search text). Null
// facts are allowed (the message is then stored without them).
using FactsFunction = std::function<std::optional<MessageFacts>(std::string_view raw)>;

// A mailbox whose owner is logged in: its store, shared by the owner's sessions and delivery.
// One writer connection, used by one thread at a time (with), and up to `max_readers` read-only
// connections opened as reads need them (read): WAL lets those read beside the writer and each
// other, so a FETCH or SEARCH does not wait behind another session's APPEND.
class OpenMailbox {
 public:
  using ReaderFactory = std::function<std::unique_ptr<MessageStore>()>;
  static constexpr std::size_t kDefaultReaders = 2;

  OpenMailbox(std::string address, std::unique_ptr<MessageStore> store,
              ReaderFactory open_reader = {}, std::size_t max_readers = kDefaultReaders)
      : address_(std::move(address)),
        store_(std::move(store)),
        open_reader_(std::move(open_reader)),
        max_readers_(max_readers) {}
  [[nodiscard]] const std::string& address() const { return address_; }
  // Runs `f(MessageStore&)` with the store to itself.
  template <typename F>
  auto with(F&& f) {
    const std::lock_guard lock(mutex_);
    return f(*store_);
  }
  // Runs `f(MessageStore&)` on a reader of its own, in one read transaction: a consistent
  // snapshot of what was committed when it began (at least every change that bumped version()
  // before the call). `f` must only read: the connection refuses writes. Without a reader to
  // spare (all busy, or none could be opened) it runs as with().
  template <typename F>
  auto read(F&& f) {
    Lease lease(*this, acquire_reader());
    if (!lease.store) return with(std::forward<F>(f));
    const Snapshot snapshot(lease);
    return f(*lease.store);
  }

  // Every change committed through any session or delivery bumps the version and runs the
  // watchers (on the changing thread: they must only post work elsewhere, e.g. wake an IMAP
  // IDLE on its own executor).
  [[nodiscard]] std::uint64_t version() const { return version_.load(); }
  void changed();
  std::uint64_t watch(std::function<void()> on_change);
  void unwatch(std::uint64_t id);

 private:
  struct Lease {
    OpenMailbox& mailbox;
    std::unique_ptr<MessageStore> store;
    bool broken = false;  // its transaction did not end cleanly: closed, not reused
    Lease(OpenMailbox& m, std::unique_ptr<MessageStore> s) : mailbox(m), store(std::move(s)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (store) mailbox.release_reader(std::move(store), broken);
    }
  };
  class Snapshot {
   public:
    explicit Snapshot(Lease& lease);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    Lease& lease_;
  };
  std::unique_ptr<MessageStore> acquire_reader();
  void release_reader(std::unique_ptr<MessageStore> reader, bool broken);

  std::string address_;
  std::mutex mutex_;
  std::unique_ptr<MessageStore> store_;
  ReaderFactory open_reader_;
  std::size_t max_readers_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<MessageStore>> idle_readers_;
  std::size_t readers_ = 0;  // open, idle or leased
  std::atomic<std::uint64_t> version_{0};
  std::mutex watchers_mutex_;
  std::uint64_t next_watcher_ = 1;
  std::map<std::uint64_t, std::function<void()>> watchers_;
};

// The open mailboxes of this process. A mailbox stays open while any session holds it; when the
// last one lets go it closes, and mail for it goes to the spool again.
class MailboxDirectory {
 public:
  // `max_spool_bytes`: a locked mailbox's spool grows no larger (0: no limit): a stranger's mail
  // to a mailbox whose owner never logs in must not fill the disk.
  MailboxDirectory(std::filesystem::path data_dir, FactsFunction facts,
                   std::uint64_t max_spool_bytes = 0);

  [[nodiscard]] std::shared_ptr<OpenMailbox> find(const std::string& address);
  // Opens the mailbox of an unlocked key (or shares the one already open) after moving its spool
  // into the database. The slow part (the import) blocks no delivery; mail that arrives in the
  // spool meanwhile is moved in too before this returns.
  std::shared_ptr<OpenMailbox> open(const Unlocked& unlocked);

  // Held shared by a delivery from its choice (database or spool) to its fsync, and exclusively
  // by open() while it makes the mailbox visible: no message is left behind in a spool.
  std::shared_ptr<std::shared_mutex> gate(const std::string& address);

  [[nodiscard]] const std::filesystem::path& data_dir() const { return data_dir_; }
  [[nodiscard]] const FactsFunction& facts() const { return facts_; }
  [[nodiscard]] std::uint64_t max_spool_bytes() const { return max_spool_bytes_; }

 private:
  std::filesystem::path data_dir_;
  FactsFunction facts_;
  std::uint64_t max_spool_bytes_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<OpenMailbox>> open_;
  std::map<std::string, std::shared_ptr<std::shared_mutex>> gates_;
};

enum class LocalOutcome {
  kStored,   // committed to the open mailbox's database
  kSpooled,  // sealed and fsync'd to the spool
  kFull,     // over quota, or the spool at its limit (or the quota): 452 4.2.2
};

// Throws on failure (the caller answers 451 and the sender retries): a message is either durable
// or refused, never silently dropped.
LocalOutcome deliver_local(MailboxDirectory& directory, const LocalMailbox& mailbox,
                           std::string_view message, bool junk, std::int64_t internal_date);

// Moves a spool's records into the store (junk ones into Junk), crash-safe and without
// duplicates (see spool.hpp), a batch at a time, opening each with the mailbox's spool key or
// its previous one. Returns how many records were imported.
std::size_t import_spool_into(MessageStore& store, const Unlocked& keys,
                              const std::filesystem::path& spool, const FactsFunction& facts,
                              const SpoolBatching& batching = {});

}  // namespace sealpost::store::mailbox
