// The embedded metadata store. WAL mode so the CLI can write while the server reads; the
// server notices the CLI's commits through PRAGMA data_version (see change_marker).
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <sys/stat.h>

#include "store/metadata_store.hpp"
#include "store/sqlite/database.hpp"

namespace sealpost::store {
namespace {

constexpr int kSchemaVersion = 7;

std::string_view state_name(RecipientState s) {
  switch (s) {
    case RecipientState::kPending:
      return "pending";
    case RecipientState::kDelivered:
      return "delivered";
    case RecipientState::kFailed:
      return "failed";
  }
  return "pending";
}

RecipientState parse_state(std::string_view s) {
  if (s == "delivered") return RecipientState::kDelivered;
  if (s == "failed") return RecipientState::kFailed;
  return RecipientState::kPending;
}

// A recipient's columns in the order both queue_recipients statements use: state, attempts,
// next_attempt, last_code, last_enhanced, category, detail, updated, then entry_id and idx.
sqlite::Statement& bind_recipient(sqlite::Statement& st, std::int64_t entry_id,
                                  const QueueRecipientRecord& r) {
  return st.bind(1, state_name(r.state))
      .bind(2, std::int64_t{r.attempts})
      .bind(3, r.next_attempt)
      .bind(4, std::int64_t{r.last_code})
      .bind(5, r.last_enhanced)
      .bind(6, r.category)
      .bind_blob(7, r.detail_sealed)
      .bind(8, r.updated)
      .bind(9, entry_id)
      .bind(10, std::int64_t{r.index});
}

class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(const std::string& path) : path_(path), db_(path) {
    ::chmod(path.c_str(), 0600);
    db_.exec("PRAGMA journal_mode = WAL");
    // FULL, not NORMAL: in WAL mode NORMAL does not sync at commit, and a queued message must be
    // durable before its 250 (DESIGN.md "Accept means durable").
    db_.exec("PRAGMA synchronous = FULL");
    db_.exec("PRAGMA foreign_keys = ON");
    db_.exec("PRAGMA secure_delete = ON");
    migrate();
    // Checkpoints run on a thread and connection of their own: left to the committing
    // connection, every ~1000 pages one commit (and every submission waiting for it) would also
    // wait for the database file to be written and fsync'd, the submission latency's tail.
    db_.exec("PRAGMA wal_autocheckpoint = 0");
    sqlite3_wal_hook(db_.handle(), &SqliteMetadataStore::on_wal_commit, this);
    checkpointer_ = std::jthread([this](const std::stop_token& stop) { checkpoint_loop(stop); });
  }

  ~SqliteMetadataStore() override {
    {
      const std::lock_guard lock(checkpoint_mutex_);  // no wake-up lost between check and wait
      checkpointer_.request_stop();
    }
    checkpoint_wanted_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
  }
  SqliteMetadataStore(const SqliteMetadataStore&) = delete;
  SqliteMetadataStore& operator=(const SqliteMetadataStore&) = delete;

  WalState wal_state() const override {
    const std::lock_guard lock(checkpoint_mutex_);
    return {checkpoints_, wal_pages_};
  }

  void add_domain(const std::string& domain) override {
    std::lock_guard lock(mutex_);
    auto check = db_.prepare("SELECT 1 FROM domains WHERE name = ?");
    if (check.bind(1, domain).step()) throw StoreError("domain " + domain + " already exists");
    db_.prepare("INSERT INTO domains(name, created) VALUES(?, strftime('%s','now'))")
        .bind(1, domain)
        .run();
  }

  bool remove_domain(const std::string& domain) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM domains WHERE name = ?").bind(1, domain).run();
    return db_.changes() > 0;
  }

  std::vector<std::string> list_domains() override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    auto st = db_.prepare("SELECT name FROM domains ORDER BY name");
    while (st.step()) out.push_back(st.text(0));
    return out;
  }

  bool set_domain_retention(const std::string& domain,
                            std::optional<std::int64_t> seconds) override {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("UPDATE domains SET retention = ? WHERE name = ?");
    if (seconds) {
      st.bind(1, *seconds);
    } else {
      st.bind_null(1);
    }
    st.bind(2, domain).run();
    return db_.changes() > 0;
  }

  std::map<std::string, std::int64_t> domain_retentions() override {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::int64_t> out;
    auto st = db_.prepare("SELECT name, retention FROM domains WHERE retention IS NOT NULL");
    while (st.step()) out[st.text(0)] = st.integer(1);
    return out;
  }

  bool set_domain_filter(const std::string& domain, const DomainFilterRecord& filter) override {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "UPDATE domains SET filter_enabled = ?, spam_action = ?, adult = ? WHERE name = ?");
    const auto bind_flag = [&st](int index, const std::optional<bool>& flag) {
      if (flag) {
        st.bind(index, std::int64_t{*flag ? 1 : 0});
      } else {
        st.bind_null(index);
      }
    };
    bind_flag(1, filter.enabled);
    if (filter.spam_action) {
      st.bind(2, *filter.spam_action);
    } else {
      st.bind_null(2);
    }
    bind_flag(3, filter.adult);
    st.bind(4, domain).run();
    return db_.changes() > 0;
  }

  std::map<std::string, DomainFilterRecord> domain_filters() override {
    std::lock_guard lock(mutex_);
    std::map<std::string, DomainFilterRecord> out;
    auto st = db_.prepare(
        "SELECT name, filter_enabled, spam_action, adult FROM domains "
        "WHERE filter_enabled IS NOT NULL OR spam_action IS NOT NULL OR adult IS NOT NULL");
    while (st.step()) {
      DomainFilterRecord& r = out[st.text(0)];
      if (!st.is_null(1)) r.enabled = st.integer(1) != 0;
      if (!st.is_null(2)) r.spam_action = st.text(2);
      if (!st.is_null(3)) r.adult = st.integer(3) != 0;
    }
    return out;
  }

  void add_alias(const AliasRecord& alias) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!db_.prepare("SELECT 1 FROM domains WHERE name = ?").bind(1, alias.domain).step()) {
      throw StoreError("domain " + alias.domain + " is not hosted here (sealpost domain add " +
                       alias.domain + ")");
    }
    db_.prepare("INSERT OR IGNORE INTO aliases(domain, local) VALUES(?, ?)")
        .bind(1, alias.domain)
        .bind(2, alias.local)
        .run();
    auto id_st = db_.prepare("SELECT id FROM aliases WHERE domain = ? AND local = ?");
    id_st.bind(1, alias.domain).bind(2, alias.local).step();
    const std::int64_t id = id_st.integer(0);
    for (const auto& f : alias.forwards) {
      db_.prepare("INSERT OR IGNORE INTO alias_forwards(alias_id, destination) VALUES(?, ?)")
          .bind(1, id)
          .bind(2, f)
          .run();
    }
    tx.commit();
  }

  bool remove_alias(const std::string& local, const std::string& domain) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM aliases WHERE domain = ? AND local = ?")
        .bind(1, domain)
        .bind(2, local)
        .run();
    return db_.changes() > 0;
  }

  std::vector<AliasRecord> list_aliases(const std::string& domain) override {
    std::lock_guard lock(mutex_);
    return query_aliases("WHERE a.domain = ?", &domain);
  }

  std::vector<AliasRecord> all_aliases() override {
    std::lock_guard lock(mutex_);
    return query_aliases("", nullptr);
  }

  void add_dkim_key(const DkimKeyRecord& key) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!db_.prepare("SELECT 1 FROM domains WHERE name = ?").bind(1, key.domain).step()) {
      throw StoreError("domain " + key.domain + " is not hosted here");
    }
    if (db_.prepare("SELECT 1 FROM dkim_keys WHERE domain = ? AND selector = ?")
            .bind(1, key.domain)
            .bind(2, key.selector)
            .step()) {
      throw StoreError("selector " + key.selector + " already exists for " + key.domain);
    }
    db_.prepare(
           "INSERT INTO dkim_keys(domain, selector, algorithm, sealed_private, public_record, "
           "created, active_from, retire_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, key.domain)
        .bind(2, key.selector)
        .bind(3, key.algorithm)
        .bind_blob(4, key.sealed_private)
        .bind(5, key.public_record)
        .bind(6, key.created)
        .bind(7, key.active_from)
        .bind(8, key.retire_at)
        .run();
    tx.commit();
  }

  std::vector<DkimKeyRecord> dkim_keys(const std::string& domain) override {
    std::lock_guard lock(mutex_);
    return query_dkim("WHERE domain = ?", &domain);
  }

  std::vector<DkimKeyRecord> all_dkim_keys() override {
    std::lock_guard lock(mutex_);
    return query_dkim("", nullptr);
  }

  void set_dkim_retire_at(const std::string& domain, const std::string& selector,
                          std::int64_t retire_at) override {
    std::lock_guard lock(mutex_);
    db_.prepare("UPDATE dkim_keys SET retire_at = ? WHERE domain = ? AND selector = ?")
        .bind(1, retire_at)
        .bind(2, domain)
        .bind(3, selector)
        .run();
  }

  int delete_retired_dkim_keys(std::int64_t now) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM dkim_keys WHERE retire_at != 0 AND retire_at <= ?").bind(1, now).run();
    return db_.changes();
  }

  void add_mailbox(const MailboxRecord& m, const CredentialRecord& first) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!db_.prepare("SELECT 1 FROM domains WHERE name = ?").bind(1, m.domain).step()) {
      throw StoreError("domain " + m.domain + " is not hosted here (sealpost domain add " +
                       m.domain + ")");
    }
    if (db_.prepare("SELECT 1 FROM mailboxes WHERE address = ?").bind(1, m.address).step()) {
      throw StoreError("mailbox " + m.address + " already exists");
    }
    db_.prepare(
           "INSERT INTO mailboxes(address, domain, file_id, spool_public_key, spool_secret_sealed, "
           "quota_bytes, created) VALUES(?, ?, ?, ?, ?, ?, ?)")
        .bind(1, m.address)
        .bind(2, m.domain)
        .bind(3, m.file_id)
        .bind_blob(4, m.spool_public_key)
        .bind_blob(5, m.spool_secret_sealed)
        .bind(6, m.quota_bytes)
        .bind(7, m.created)
        .run();
    insert_credential(first);
    tx.commit();
  }

  std::optional<MailboxRecord> mailbox(const std::string& address) override {
    std::lock_guard lock(mutex_);
    auto v = query_mailboxes("WHERE address = ?", address);
    if (v.empty()) return std::nullopt;
    return std::move(v.front());
  }

  std::vector<MailboxRecord> list_mailboxes(const std::string& domain) override {
    std::lock_guard lock(mutex_);
    return query_mailboxes("WHERE domain = ?", domain);
  }

  bool remove_mailbox(const std::string& address) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM mailboxes WHERE address = ?").bind(1, address).run();
    return db_.changes() > 0;
  }

  void set_credential(const CredentialRecord& c) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!db_.prepare("SELECT 1 FROM mailboxes WHERE address = ?").bind(1, c.address).step()) {
      throw StoreError("no mailbox " + c.address);
    }
    insert_credential(c);
    tx.commit();
  }

  bool replace_keys(const std::string& address, const SpoolKeyRecord& spool,
                    const CredentialRecord& password) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    db_.prepare(
           "UPDATE mailboxes SET spool_public_key = ?, spool_secret_sealed = ?, "
           "spool_previous_sealed = ? WHERE address = ?")
        .bind_blob(1, spool.public_key)
        .bind_blob(2, spool.secret_sealed)
        .bind_blob(3, spool.previous_sealed)
        .bind(4, address)
        .run();
    if (db_.changes() == 0) return false;
    db_.prepare("DELETE FROM credentials WHERE address = ?").bind(1, address).run();
    insert_credential(password);
    tx.commit();
    return true;
  }

  bool set_quota(const std::string& address, std::int64_t bytes) override {
    std::lock_guard lock(mutex_);
    db_.prepare("UPDATE mailboxes SET quota_bytes = ? WHERE address = ?")
        .bind(1, bytes)
        .bind(2, address)
        .run();
    return db_.changes() > 0;
  }

  bool remove_credential(const std::string& address, const std::string& name) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM credentials WHERE address = ? AND name = ?")
        .bind(1, address)
        .bind(2, name)
        .run();
    return db_.changes() > 0;
  }

  std::vector<CredentialRecord> credentials(const std::string& address) override {
    std::lock_guard lock(mutex_);
    std::vector<CredentialRecord> out;
    auto st = db_.prepare(
        "SELECT address, name, wrapped, created FROM credentials WHERE address = ? ORDER BY name");
    st.bind(1, address);
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.integer(3)});
    return out;
  }

  std::vector<std::int64_t> queue_add(std::span<const NewQueueEntry> entries) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> ids;
    ids.reserve(entries.size());
    sqlite::Transaction tx(db_);
    auto entry = db_.prepare(
        "INSERT INTO queue(token, kind, created, size, envelope, content, delay_notified, "
        "retain_until, redacted) VALUES(?, ?, ?, ?, ?, ?, 0, 0, 0)");
    auto recipient = db_.prepare(
        "INSERT INTO queue_recipients(state, attempts, next_attempt, last_code, last_enhanced, "
        "category, detail, updated, entry_id, idx) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& [e, recipients] : entries) {
      entry.bind(1, e.token)
          .bind(2, e.kind)
          .bind(3, e.created)
          .bind(4, e.size)
          .bind_blob(5, e.envelope_sealed)
          .bind_blob(6, e.content_sealed);
      entry.run();
      entry.reset();
      const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
      for (const auto& r : recipients) {
        bind_recipient(recipient, id, r).run();
        recipient.reset();
      }
      ids.push_back(id);
    }
    tx.commit();
    return ids;
  }

  std::optional<QueueEntryRecord> queue_entry(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    auto v = query_queue("WHERE id = ?1", [&](sqlite::Statement& st) { st.bind(1, id); });
    if (v.empty()) return std::nullopt;
    return std::move(v.front());
  }

  std::optional<QueueEntryRecord> queue_entry_by_token(const std::string& token) override {
    std::lock_guard lock(mutex_);
    auto v = query_queue("WHERE token = ?1", [&](sqlite::Statement& st) { st.bind(1, token); });
    if (v.empty()) return std::nullopt;
    return std::move(v.front());
  }

  std::vector<std::int64_t> queue_due(std::int64_t now, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    auto st = db_.prepare(
        "SELECT entry_id, MIN(next_attempt) AS due FROM queue_recipients "
        "WHERE state = 'pending' AND next_attempt <= ? GROUP BY entry_id ORDER BY due LIMIT ?");
    st.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
    while (st.step()) out.push_back(st.integer(0));
    return out;
  }

  std::vector<QueueRecipientRecord> queue_recipients(std::int64_t entry_id) override {
    std::lock_guard lock(mutex_);
    std::vector<QueueRecipientRecord> out;
    auto st = db_.prepare(
        "SELECT entry_id, idx, state, attempts, next_attempt, last_code, last_enhanced, category, "
        "detail, updated FROM queue_recipients WHERE entry_id = ? ORDER BY idx");
    st.bind(1, entry_id);
    while (st.step()) {
      QueueRecipientRecord r;
      r.entry_id = st.integer(0);
      r.index = static_cast<int>(st.integer(1));
      r.state = parse_state(st.text(2));
      r.attempts = static_cast<int>(st.integer(3));
      r.next_attempt = st.integer(4);
      r.last_code = static_cast<int>(st.integer(5));
      r.last_enhanced = st.text(6);
      r.category = st.text(7);
      r.detail_sealed = st.blob(8);
      r.updated = st.integer(9);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<QueueEntryRecord> queue_list(std::size_t limit) override {
    std::lock_guard lock(mutex_);
    return query_queue("ORDER BY id DESC LIMIT ?1", [&](sqlite::Statement& st) {
      st.bind(1, static_cast<std::int64_t>(limit));
    });
  }

  void queue_update(std::int64_t entry_id, const std::vector<QueueRecipientRecord>& changed,
                    std::int64_t retain_until_if_done) override {
    std::lock_guard lock(mutex_);
    // An attempt's outcome need not be fsync'd: lost in a crash, the recipient is tried again
    // (at least once, the same Message-ID), which RFC 5321 section 6.1 accepts. What must be
    // durable is the message itself (queue_add, FULL). One fsync fewer per delivery; WAL keeps
    // the database consistent either way.
    db_.exec("PRAGMA synchronous = NORMAL");
    struct Restore {
      sqlite::Database& db;
      ~Restore() {
        try {
          db.exec("PRAGMA synchronous = FULL");
        } catch (...) {  // NOLINT(bugprone-empty-catch): FULL stays wanted; nothing to do here
        }
      }
    } restore{db_};
    sqlite::Transaction tx(db_);
    auto up = db_.prepare(
        "UPDATE queue_recipients SET state = ?, attempts = ?, next_attempt = ?, last_code = ?, "
        "last_enhanced = ?, category = ?, detail = ?, updated = ? WHERE entry_id = ? AND idx = ?");
    for (const auto& r : changed) {
      bind_recipient(up, entry_id, r).run();
      up.reset();
    }
    if (!db_.prepare("SELECT 1 FROM queue_recipients WHERE entry_id = ? AND state = 'pending'")
             .bind(1, entry_id)
             .step()) {
      db_.prepare("UPDATE queue SET retain_until = ? WHERE id = ? AND retain_until = 0")
          .bind(1, retain_until_if_done)
          .bind(2, entry_id)
          .run();
    }
    tx.commit();
  }

  void queue_set_delay_notified(std::int64_t entry_id) override {
    std::lock_guard lock(mutex_);
    db_.prepare("UPDATE queue SET delay_notified = 1 WHERE id = ?").bind(1, entry_id).run();
  }

  bool queue_retry(std::int64_t entry_id, std::int64_t now) override {
    std::lock_guard lock(mutex_);
    if (!db_.prepare("SELECT 1 FROM queue WHERE id = ?").bind(1, entry_id).step()) return false;
    db_.prepare(
           "UPDATE queue_recipients SET next_attempt = ? WHERE entry_id = ? AND state = 'pending'")
        .bind(1, now)
        .bind(2, entry_id)
        .run();
    return true;
  }

  std::size_t queue_retry_all(std::int64_t now) override {
    std::lock_guard lock(mutex_);
    db_.prepare(
           "UPDATE queue_recipients SET next_attempt = ? WHERE state = 'pending' AND "
           "next_attempt > ?")
        .bind(1, now)
        .bind(2, now)
        .run();
    return static_cast<std::size_t>(db_.changes());
  }

  bool queue_drop(std::int64_t entry_id) override {
    std::lock_guard lock(mutex_);
    db_.prepare("DELETE FROM queue WHERE id = ?").bind(1, entry_id).run();
    return db_.changes() > 0;
  }

  std::vector<std::int64_t> queue_due_for_redaction(std::int64_t now, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    auto st = db_.prepare(
        "SELECT id FROM queue WHERE redacted = 0 AND retain_until != 0 AND retain_until <= ? "
        "ORDER BY retain_until LIMIT ?");
    st.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
    while (st.step()) out.push_back(st.integer(0));
    return out;
  }

  void queue_redact(std::int64_t entry_id, const std::vector<unsigned char>& sealed) override {
    std::lock_guard lock(mutex_);
    // secure_delete=ON overwrites the freed pages of the old (sealed) content with zeros.
    db_.prepare("UPDATE queue SET content = ?, redacted = 1 WHERE id = ?")
        .bind_blob(1, sealed)
        .bind(2, entry_id)
        .run();
  }

  std::vector<std::pair<std::string, std::int64_t>> queue_counts() override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto st = db_.prepare(
        "SELECT state || ':' || category, COUNT(*) FROM queue_recipients GROUP BY state, "
        "category ORDER BY 1");
    while (st.step()) out.emplace_back(st.text(0), st.integer(1));
    return out;
  }

  std::uint64_t change_marker() override {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("PRAGMA data_version");
    st.step();
    return static_cast<std::uint64_t>(st.integer(0));
  }

 private:
  void migrate() {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("PRAGMA user_version");
    st.step();
    const auto version = st.integer(0);
    if (version > kSchemaVersion) {
      throw StoreError("metadata store schema version " + std::to_string(version) +
                       " is newer than this sealpost understands");
    }
    if (version == kSchemaVersion) return;
    sqlite::Transaction tx(db_);
    if (version < 1) {
      db_.exec(R"sql(
      CREATE TABLE IF NOT EXISTS domains(
        name TEXT PRIMARY KEY,
        created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS aliases(
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        local TEXT NOT NULL,
        UNIQUE(domain, local));
      CREATE TABLE IF NOT EXISTS alias_forwards(
        alias_id INTEGER NOT NULL REFERENCES aliases(id) ON DELETE CASCADE,
        destination TEXT NOT NULL,
        PRIMARY KEY(alias_id, destination));
      PRAGMA user_version = 1;
    )sql");
    }
    if (version < 2) {
      db_.exec(R"sql(
      CREATE TABLE IF NOT EXISTS dkim_keys(
        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        selector TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        sealed_private BLOB NOT NULL,
        public_record TEXT NOT NULL,
        created INTEGER NOT NULL,
        active_from INTEGER NOT NULL,
        retire_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY(domain, selector));
      PRAGMA user_version = 2;
    )sql");
    }
    if (version < 3) {
      db_.exec(R"sql(
      CREATE TABLE IF NOT EXISTS mailboxes(
        address TEXT PRIMARY KEY,
        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        file_id TEXT NOT NULL UNIQUE,
        spool_public_key BLOB NOT NULL,
        spool_secret_sealed BLOB NOT NULL,
        quota_bytes INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS credentials(
        address TEXT NOT NULL REFERENCES mailboxes(address) ON DELETE CASCADE,
        name TEXT NOT NULL,
        wrapped TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY(address, name));
      PRAGMA user_version = 3;
    )sql");
    }
    if (version < 4) {
      db_.exec(R"sql(
      CREATE TABLE IF NOT EXISTS queue(
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        created INTEGER NOT NULL,
        size INTEGER NOT NULL,
        envelope BLOB NOT NULL,
        content BLOB NOT NULL,
        delay_notified INTEGER NOT NULL,
        retain_until INTEGER NOT NULL,
        redacted INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS queue_retention ON queue(redacted, retain_until);
      CREATE TABLE IF NOT EXISTS queue_recipients(
        entry_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt INTEGER NOT NULL,
        last_code INTEGER NOT NULL,
        last_enhanced TEXT NOT NULL,
        category TEXT NOT NULL,
        detail BLOB NOT NULL,
        updated INTEGER NOT NULL,
        PRIMARY KEY(entry_id, idx));
      CREATE INDEX IF NOT EXISTS queue_due ON queue_recipients(state, next_attempt);
      PRAGMA user_version = 4;
    )sql");
    }
    if (version < 5) {
      db_.exec(R"sql(
      ALTER TABLE domains ADD COLUMN retention INTEGER;
      PRAGMA user_version = 5;
    )sql");
    }
    if (version < 6) {
      db_.exec(R"sql(
      ALTER TABLE mailboxes ADD COLUMN spool_previous_sealed BLOB NOT NULL DEFAULT x'';
      PRAGMA user_version = 6;
    )sql");
    }
    if (version < 7) {
      db_.exec(R"sql(
      ALTER TABLE domains ADD COLUMN filter_enabled INTEGER;
      ALTER TABLE domains ADD COLUMN spam_action TEXT;
      ALTER TABLE domains ADD COLUMN adult INTEGER;
      PRAGMA user_version = 7;
    )sql");
    }
    tx.commit();
  }

  std::vector<AliasRecord> query_aliases(const std::string& where, const std::string* domain) {
    std::vector<AliasRecord> out;
    auto st = db_.prepare(
        "SELECT a.id, a.local, a.domain, f.destination FROM aliases a "
        "LEFT JOIN alias_forwards f ON f.alias_id = a.id " +
        where + " ORDER BY a.domain, a.local, f.destination");
    if (domain) st.bind(1, *domain);
    std::int64_t last_id = -1;
    while (st.step()) {
      if (st.integer(0) != last_id) {
        last_id = st.integer(0);
        out.push_back(AliasRecord{st.text(1), st.text(2), {}});
      }
      const auto dest = st.text(3);
      if (!dest.empty()) out.back().forwards.push_back(dest);
    }
    return out;
  }

  std::vector<DkimKeyRecord> query_dkim(const std::string& where, const std::string* domain) {
    std::vector<DkimKeyRecord> out;
    auto st = db_.prepare(
        "SELECT domain, selector, algorithm, sealed_private, public_record, created, active_from, "
        "retire_at FROM dkim_keys " +
        where + " ORDER BY domain, created, selector");
    if (domain) st.bind(1, *domain);
    while (st.step()) {
      out.push_back(DkimKeyRecord{st.text(0), st.text(1), st.text(2), st.blob(3), st.text(4),
                                  st.integer(5), st.integer(6), st.integer(7)});
    }
    return out;
  }

  template <typename Bind>
  std::vector<QueueEntryRecord> query_queue(const std::string& tail, Bind&& bind) {
    std::vector<QueueEntryRecord> out;
    auto st = db_.prepare(
        "SELECT id, token, kind, created, size, envelope, content, delay_notified, retain_until, "
        "redacted FROM queue " +
        tail);
    bind(st);
    while (st.step()) {
      QueueEntryRecord e;
      e.id = st.integer(0);
      e.token = st.text(1);
      e.kind = st.text(2);
      e.created = st.integer(3);
      e.size = st.integer(4);
      e.envelope_sealed = st.blob(5);
      e.content_sealed = st.blob(6);
      e.delay_notified = st.integer(7) != 0;
      e.retain_until = st.integer(8);
      e.redacted = st.integer(9) != 0;
      out.push_back(std::move(e));
    }
    return out;
  }

  void insert_credential(const CredentialRecord& c) {
    db_.prepare(
           "INSERT OR REPLACE INTO credentials(address, name, wrapped, created) VALUES(?, ?, ?, ?)")
        .bind(1, c.address)
        .bind(2, c.name)
        .bind(3, c.wrapped)
        .bind(4, c.created)
        .run();
  }

  std::vector<MailboxRecord> query_mailboxes(const std::string& where, const std::string& arg) {
    std::vector<MailboxRecord> out;
    auto st = db_.prepare(
        "SELECT address, domain, file_id, spool_public_key, spool_secret_sealed, quota_bytes, "
        "created, spool_previous_sealed FROM mailboxes " +
        where + " ORDER BY address");
    st.bind(1, arg);
    while (st.step()) {
      out.push_back(MailboxRecord{st.text(0), st.text(1), st.text(2), st.blob(3), st.blob(4),
                                  st.integer(5), st.integer(6), st.blob(7)});
    }
    return out;
  }

  // The WAL after a commit holds `pages` frames: past the threshold, the checkpointer is woken.
  // Should it fall far behind (writes never pausing long enough for a checkpoint to copy every
  // frame, so the WAL never starts over), the committing connection checkpoints itself, as
  // SQLite's autocheckpoint would.
  static int on_wal_commit(void* self, sqlite3* db, const char* /*name*/, int pages) {
    auto* store = static_cast<SqliteMetadataStore*>(self);
    {
      const std::lock_guard lock(store->checkpoint_mutex_);
      store->wal_pages_ = pages;
      if (pages >= kCheckpointPages) store->checkpoint_requested_ = true;
    }
    if (pages >= kCheckpointPages) store->checkpoint_wanted_.notify_one();
    if (pages >= kInlineCheckpointPages) {
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
  }

  void checkpoint_loop(const std::stop_token& stop) {
    std::unique_ptr<sqlite::Database> db;
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mutex_);
        checkpoint_wanted_.wait(lock,
                                [&] { return checkpoint_requested_ || stop.stop_requested(); });
        if (stop.stop_requested()) return;
        checkpoint_requested_ = false;
      }
      try {
        if (!db) db = std::make_unique<sqlite::Database>(path_);
        // PASSIVE: copies what no reader still needs, never waits for readers or writers, and
        // commits go on meanwhile; the WAL starts over once it has all been copied.
        const int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                 nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
          throw StoreError(std::string("checkpoint: ") + sqlite3_errmsg(db->handle()));
        }
        const std::lock_guard lock(checkpoint_mutex_);
        ++checkpoints_;
      } catch (const std::exception&) {
        db.reset();  // tried again at the next request; the WAL only grows meanwhile
      }
    }
  }

  static constexpr int kCheckpointPages = 1000;  // SQLite's own autocheckpoint threshold
  static constexpr int kInlineCheckpointPages = 16 * kCheckpointPages;

  std::string path_;
  std::mutex mutex_;
  sqlite::Database db_;
  mutable std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_requested_ = false;
  std::uint64_t checkpoints_ = 0;
  int wal_pages_ = 0;
  std::jthread checkpointer_;  // last: stopped before the rest goes
};

}  // namespace

std::unique_ptr<MetadataStore> open_sqlite_metadata_store(const std::string& path) {
  return std::make_unique<SqliteMetadataStore>(path);
}

}  // namespace sealpost::store
