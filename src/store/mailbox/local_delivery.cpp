#include "store/mailbox/local_delivery.hpp"

#include <spdlog/spdlog.h>

#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/spool.hpp"

namespace sealpost::store::mailbox {

void OpenMailbox::changed() {
  ++version_;
  std::vector<std::function<void()>> run;
  {
    const std::lock_guard lock(watchers_mutex_);
    for (const auto& [id, fn] : watchers_) run.push_back(fn);
  }
  for (const auto& fn : run) fn();
}

std::uint64_t OpenMailbox::watch(std::function<void()> on_change) {
  const std::lock_guard lock(watchers_mutex_);
  const auto id = next_watcher_++;
  watchers_.emplace(id, std::move(on_change));
  return id;
}

void OpenMailbox::unwatch(std::uint64_t id) {
  const std::lock_guard lock(watchers_mutex_);
  watchers_.erase(id);
}

OpenMailbox::Snapshot::Snapshot(Lease& lease) : lease_(lease) {
  try {
    lease_.store->database().exec("BEGIN");
  } catch (...) {
    lease_.broken = true;
    throw;
  }
}

OpenMailbox::Snapshot::~Snapshot() {
  try {
    lease_.store->database().exec("COMMIT");  // ends the read transaction; nothing to write
  } catch (...) {
    lease_.broken = true;
  }
}

std::unique_ptr<MessageStore> OpenMailbox::acquire_reader() {
  if (!open_reader_) return nullptr;
  {
    const std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
    if (readers_ >= max_readers_) return nullptr;
    ++readers_;
  }
  try {
    return open_reader_();
  } catch (const std::exception& e) {
    spdlog::warn("mailbox reader not opened, reading through the writer: {}", e.what());
    const std::lock_guard lock(readers_mutex_);
    --readers_;
    return nullptr;
  }
}

void OpenMailbox::release_reader(std::unique_ptr<MessageStore> reader, bool broken) {
  const std::lock_guard lock(readers_mutex_);
  if (broken) {
    --readers_;
    return;  // closed here; the next read opens a fresh one
  }
  idle_readers_.push_back(std::move(reader));
}

MailboxDirectory::MailboxDirectory(std::filesystem::path data_dir, FactsFunction facts,
                                   std::uint64_t max_spool_bytes)
    : data_dir_(std::move(data_dir)), facts_(std::move(facts)), max_spool_bytes_(max_spool_bytes) {}

std::shared_ptr<OpenMailbox> MailboxDirectory::find(const std::string& address) {
  const std::lock_guard lock(mutex_);
  const auto it = open_.find(address);
  if (it == open_.end()) return nullptr;
  auto open = it->second.lock();
  if (!open) open_.erase(it);
  return open;
}

std::shared_ptr<std::shared_mutex> MailboxDirectory::gate(const std::string& address) {
  const std::lock_guard lock(mutex_);
  auto& g = gates_[address];
  if (!g) g = std::make_shared<std::shared_mutex>();
  return g;
}

std::shared_ptr<OpenMailbox> MailboxDirectory::open(const Unlocked& unlocked) {
  const std::string& address = unlocked.record.address;
  if (auto open = find(address)) return open;
  auto store = std::make_unique<MessageStore>(
      open_encrypted(database_file(data_dir_, unlocked.record), unlocked.master_key),
      static_cast<std::uint64_t>(unlocked.record.quota_bytes));
  const auto spool = spool_file(data_dir_, unlocked.record);
  (void)import_spool_into(*store, unlocked, spool, facts_);

  const auto g = gate(address);
  const std::unique_lock exclusive(*g);  // waits for deliveries writing to the spool
  std::shared_ptr<OpenMailbox> open;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = open_.find(address); it != open_.end()) open = it->second.lock();
    if (open) return open;  // another login got there first; it imported the spool too
    // Readers get the key for the mailbox's open life, as the writer holds it already.
    auto key = std::make_shared<const crypto::SecretBytes>(
        crypto::SecretBytes::copy_of(unlocked.master_key.bytes()));
    OpenMailbox::ReaderFactory readers = [file = database_file(data_dir_, unlocked.record), key,
                                          quota = store->quota_bytes()] {
      return std::make_unique<MessageStore>(open_encrypted(file, *key, Access::kReadOnly), quota,
                                            MessageStore::Role::kReader);
    };
    open = std::make_shared<OpenMailbox>(address, std::move(store), std::move(readers));
    open_[address] = open;
  }
  // What arrived during the first import; from now on deliveries find the mailbox open.
  open->with([&](MessageStore& s) { return import_spool_into(s, unlocked, spool, facts_); });
  return open;
}

namespace {

Appended store_message(MessageStore& store, std::string_view message, bool junk,
                       std::int64_t internal_date, const FactsFunction& facts) {
  const auto folder = store.special_folder(junk ? SpecialUse::kJunk : SpecialUse::kInbox);
  std::optional<MessageFacts> f;
  if (facts) f = facts(message);
  NewMessage m;
  m.raw = message;
  m.internal_date = internal_date;
  m.facts = f ? &*f : nullptr;
  return store.append(folder.id, m);
}

}  // namespace

LocalOutcome deliver_local(MailboxDirectory& directory, const LocalMailbox& mailbox,
                           std::string_view message, bool junk, std::int64_t internal_date) {
  const auto gate = directory.gate(mailbox.address);
  const std::shared_lock shared(*gate);
  if (auto open = directory.find(mailbox.address)) {
    try {
      open->with([&](MessageStore& store) {
        return store_message(store, message, junk, internal_date, directory.facts());
      });
    } catch (const QuotaExceeded&) {
      return LocalOutcome::kFull;
    }
    open->changed();  // wakes the owner's IDLE sessions
    return LocalOutcome::kStored;
  }
  const auto spool = spool_file(directory.data_dir(), mailbox.file_id);
  // Only the spool can be measured while the database is locked: it alone must fit the quota,
  // and the spool limit holds with or without one. Past it the sender retries later; the
  // owner's next login drains the spool.
  std::uint64_t limit = directory.max_spool_bytes();
  if (mailbox.quota_bytes > 0 && (limit == 0 || mailbox.quota_bytes < limit)) {
    limit = mailbox.quota_bytes;
  }
  const std::string payload = encode_spool_payload({internal_date, junk, message});
  if (!append_to_spool(spool, crypto::seal_to(mailbox.spool_public_key, payload), limit)) {
    return LocalOutcome::kFull;
  }
  return LocalOutcome::kSpooled;
}

std::size_t import_spool_into(MessageStore& store, const Unlocked& keys,
                              const std::filesystem::path& spool, const FactsFunction& facts,
                              const SpoolBatching& batching) {
  std::size_t unreadable = 0;
  const auto imported = import_spool(
      spool,
      [&](const std::vector<SpoolRecord>& records) {
        // Opened plaintexts and their facts, kept alive until the append commits.
        std::vector<std::string> plain;
        plain.reserve(records.size());
        std::vector<std::optional<MessageFacts>> computed;
        computed.reserve(records.size());
        std::vector<NewMessage> inbox;
        std::vector<NewMessage> junk;
        for (const auto& r : records) {
          auto opened = open_spooled(keys, r.sealed);
          const auto payload = opened ? parse_spool_payload(*opened) : std::nullopt;
          if (!payload) {
            ++unreadable;
            continue;
          }
          plain.push_back(std::move(*opened));
          const auto p = *parse_spool_payload(plain.back());
          computed.push_back(facts ? facts(p.message) : std::nullopt);
          NewMessage m;
          m.raw = p.message;
          m.internal_date = p.internal_date;
          m.facts = computed.back() ? &*computed.back() : nullptr;
          m.spool_id = r.id;
          (p.junk ? junk : inbox).push_back(std::move(m));
        }
        // Each batch is one transaction; a crash between them re-imports the first batch's records
        // as duplicates of themselves, which their spool ids skip.
        // The MX accepted these already: the quota does not apply.
        const auto ignore = MessageStore::Quota::kIgnore;
        if (!inbox.empty()) {
          (void)store.append(store.special_folder(SpecialUse::kInbox).id, inbox, ignore);
        }
        if (!junk.empty())
          (void)store.append(store.special_folder(SpecialUse::kJunk).id, junk, ignore);
      },
      batching);
  if (unreadable > 0) spdlog::error("spool import: {} records could not be opened", unreadable);
  return imported.records;
}

}  // namespace sealpost::store::mailbox
