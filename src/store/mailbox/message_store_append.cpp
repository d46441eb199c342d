// New messages: appended in one (durable) transaction, threaded, queued for the full-text index,
// and held to the mailbox's quota.
#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr std::size_t kIndexBatch = 64;  // messages waiting for the full-text index

// Commits durably: the MX answers 250 once this returned (WAL + synchronous=FULL fsyncs the log).
// With `full` false, the connection's NORMAL: the WAL is synced by the next durable commit.
class DurableTransaction {
 public:
  explicit DurableTransaction(sqlite::Database& db, bool full = true) : db_(db), full_(full) {
    if (full_) db_.exec("PRAGMA synchronous = FULL");
    tx_.emplace(db_);
  }
  ~DurableTransaction() {
    tx_.reset();
    if (!full_) return;
    try {
      db_.exec("PRAGMA synchronous = NORMAL");
    } catch (...) {  // NOLINT(bugprone-empty-catch): the connection is being torn down
    }
  }
  DurableTransaction(const DurableTransaction&) = delete;
  DurableTransaction& operator=(const DurableTransaction&) = delete;
  void commit() { tx_->commit(); }

 private:
  sqlite::Database& db_;
  bool full_;
  std::optional<sqlite::Transaction> tx_;
};

}  // namespace

std::int64_t MessageStore::thread_for(const MessageFacts& facts, std::int64_t body_id) {
  // The first known id among the message's own and its parents' names its thread; the ids are
  // then all recorded, so a parent that arrives after its replies joins their thread.
  std::vector<const std::string*> ids;
  if (!facts.message_id.empty()) ids.push_back(&facts.message_id);
  for (const auto& p : facts.parents) ids.push_back(&p);
  std::int64_t thread = body_id;
  auto find = db_->prepare("SELECT thread FROM thread_ids WHERE message_id = ?");
  for (const auto* id : ids) {
    find.reset();
    find.bind(1, *id);
    if (find.step()) {
      thread = find.integer(0);
      break;
    }
  }
  auto add = db_->prepare("INSERT OR IGNORE INTO thread_ids VALUES(?, ?)");
  for (const auto* id : ids) {
    add.reset();
    add.bind(1, *id).bind(2, thread).run();
  }
  return thread;
}

std::vector<Appended> MessageStore::append(std::int64_t folder_id,
                                           std::span<const NewMessage> messages, Quota quota,
                                           Sync sync) {
  std::vector<Appended> out;
  out.reserve(messages.size());
  DurableTransaction tx(*db_, sync == Sync::kFull);
  auto f = db_->prepare("SELECT uidnext, highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) throw StoreError("no such folder");
  auto uid = static_cast<std::uint32_t>(f.integer(0));
  const auto modseq = static_cast<std::uint64_t>(f.integer(1)) + 1;

  std::uint64_t adding = 0;
  for (const auto& m : messages) adding += m.raw.size();
  if (quota == Quota::kEnforce && quota_bytes_ > 0 && usage_bytes() + adding > quota_bytes_) {
    throw QuotaExceeded("the mailbox is full");
  }

  auto seen = db_->prepare("SELECT 1 FROM bodies WHERE spool_id = ?");
  auto body = db_->prepare(
      "INSERT INTO bodies(size, compressed, envelope, bodystructure, body, message_id, "
      "parents, sent_date, thread, spool_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, 0, ?)");
  auto data = db_->prepare("INSERT INTO body_data VALUES(?, ?, ?)");
  auto set_thread = db_->prepare("UPDATE bodies SET thread = ? WHERE id = ?");
  auto message = db_->prepare(
      "INSERT INTO messages(folder, uid, body, modseq, flags, keywords, internal_date) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  auto pending = db_->prepare("INSERT INTO fts_pending VALUES(?, ?)");
  for (const auto& m : messages) {
    if (m.spool_id) {
      seen.reset();
      seen.bind_blob(1, std::span<const unsigned char>(*m.spool_id));
      if (seen.step()) {
        out.push_back({});
        continue;
      }
    }
    body.reset();
    body.bind(1, static_cast<std::int64_t>(m.raw.size()));
    const std::size_t header_size = header_length(m.raw);
    const auto header_bytes = pack(m.raw.substr(0, header_size));
    const auto rest_bytes = pack(m.raw.substr(header_size));
    // bodies.compressed: how schema 2 stored data; pieces say it themselves since schema 3.
    body.bind(2, std::int64_t{0});
    if (m.facts) {
      body.bind(3, m.facts->envelope)
          .bind(4, m.facts->bodystructure)
          .bind(5, m.facts->body)
          .bind(6, m.facts->message_id)
          .bind(7, join(m.facts->parents, ' '))
          .bind(8, m.facts->sent_date);
    } else {
      for (int i = 3; i <= 7; ++i) body.bind_null(i);
      body.bind(8, std::int64_t{0});
    }
    if (m.spool_id) {
      body.bind_blob(9, std::span<const unsigned char>(*m.spool_id));
    } else {
      body.bind_null(9);
    }
    body.run();
    const std::int64_t body_id = sqlite3_last_insert_rowid(db_->handle());
    data.reset();
    data.bind(1, body_id).bind_blob(2, header_bytes).bind_blob(3, rest_bytes).run();
    const std::int64_t thread = m.facts ? thread_for(*m.facts, body_id) : body_id;
    set_thread.reset();
    set_thread.bind(1, thread).bind(2, body_id).run();
    if (m.facts) {
      // Indexed later, many at a time: one FTS5 segment per message would write several times
      // the message's size at every delivery.
      std::string text;
      for (const auto* field : {&m.facts->subject, &m.facts->from, &m.facts->to, &m.facts->cc,
                                &m.facts->bcc, &m.facts->text}) {
        text += *field;
        text += '\0';
      }
      pending.reset();
      pending.bind(1, body_id).bind_blob(2, compress(text)).run();
    }
    message.reset();
    message.bind(1, folder_id)
        .bind(2, static_cast<std::int64_t>(uid))
        .bind(3, body_id)
        .bind(4, static_cast<std::int64_t>(modseq))
        .bind(5, static_cast<std::int64_t>(m.flags & 0x1f))
        .bind(6, keywords_text(m.keywords))
        .bind(7, m.internal_date)
        .run();
    out.push_back({uid, modseq});
    if (uid == 0xffffffffU) throw StoreError("the folder has run out of UIDs");
    ++uid;
  }
  db_->prepare("UPDATE folders SET uidnext = ?, highest_modseq = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(uid))
      .bind(2, static_cast<std::int64_t>(modseq))
      .bind(3, folder_id)
      .run();
  auto waiting = db_->prepare("SELECT count(*) FROM fts_pending");
  waiting.step();
  if (static_cast<std::size_t>(waiting.integer(0)) >= kIndexBatch) index_pending_locked();
  tx.commit();
  return out;
}

std::uint64_t MessageStore::usage_bytes() {
  auto st = db_->prepare("SELECT bytes FROM usage WHERE id = 1");
  return st.step() ? static_cast<std::uint64_t>(st.integer(0)) : 0;
}

}  // namespace sealpost::store::mailbox
