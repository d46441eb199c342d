// The mailbox database's tables, and the upgrades from earlier schemas: a writer creates or
// upgrades them (and the standard folders) when it opens the database; a reader requires them.
#include <string>

#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr int kSchemaVersion = 4;

// Every table of a mailbox. Bodies are shared by the messages that copy them (IMAP COPY) and
// removed with the last one; the triggers keep the full-text index and the usage in step.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage(id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO usage VALUES(1, 0);
CREATE TABLE IF NOT EXISTS folders(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  special_use INTEGER NOT NULL DEFAULT 0,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 0,
  subscribed INTEGER NOT NULL DEFAULT 1,
  recent_uid INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS bodies(
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  compressed INTEGER NOT NULL,
  envelope TEXT,
  bodystructure TEXT,
  body TEXT,
  message_id TEXT,
  parents TEXT,
  sent_date INTEGER NOT NULL DEFAULT 0,
  thread INTEGER NOT NULL,
  spool_id BLOB UNIQUE);
CREATE INDEX IF NOT EXISTS bodies_thread ON bodies(thread);
CREATE TABLE IF NOT EXISTS thread_ids(message_id TEXT PRIMARY KEY, thread INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY,
  folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  body INTEGER NOT NULL REFERENCES bodies(id),
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL DEFAULT 0,
  keywords TEXT NOT NULL DEFAULT '',
  internal_date INTEGER NOT NULL,
  UNIQUE(folder, uid));
CREATE INDEX IF NOT EXISTS messages_body ON messages(body);
CREATE INDEX IF NOT EXISTS messages_modseq ON messages(folder, modseq);
-- Covers the keywords in use (IMAP's FLAGS list at every SELECT): only messages with keywords.
CREATE INDEX IF NOT EXISTS messages_keywords ON messages(folder, keywords) WHERE keywords <> '';
CREATE TABLE IF NOT EXISTS expunged(
  folder INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY(folder, uid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged(folder, modseq);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  subject, hfrom, hto, hcc, hbcc, body, content = '', contentless_delete = 1,
  tokenize = 'trigram remove_diacritics 1');
-- The message bytes apart from what describes them: a query for flags, sizes or threads reads
-- small rows and never walks a blob's overflow pages (each one decrypted). The header is kept
-- apart from the rest (each zstd-compressed when that is smaller: see pack()), so what mail
-- clients fetch most, BODY.PEEK[HEADER.FIELDS (...)] of many messages, reads a few hundred
-- bytes; header NULL: data holds the whole message (schema 2's rows).
CREATE TABLE IF NOT EXISTS body_data(id INTEGER PRIMARY KEY, header BLOB, data BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS bodies_added AFTER INSERT ON bodies BEGIN
  UPDATE usage SET bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TABLE IF NOT EXISTS fts_pending(body INTEGER PRIMARY KEY, text BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS bodies_removed AFTER DELETE ON bodies BEGIN
  DELETE FROM fts WHERE rowid = OLD.id;
  DELETE FROM fts_pending WHERE body = OLD.id;
  DELETE FROM body_data WHERE id = OLD.id;
  UPDATE usage SET bytes = bytes - OLD.size WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS messages_removed AFTER DELETE ON messages
WHEN NOT EXISTS (SELECT 1 FROM messages WHERE body = OLD.body) BEGIN
  DELETE FROM bodies WHERE id = OLD.body;
END;
)sql";

}  // namespace

MessageStore::MessageStore(std::unique_ptr<sqlite::Database> db, std::uint64_t quota_bytes,
                           Role role)
    : db_(std::move(db)), quota_bytes_(quota_bytes), role_(role) {
  create_schema();
}

void MessageStore::create_schema() {
  int version = 0;
  if (db_->prepare("SELECT 1 FROM sqlite_schema WHERE name = 'meta'").step()) {
    auto st = db_->prepare("SELECT value FROM meta WHERE key = 'schema'");
    if (st.step()) version = std::stoi(st.text(0));
    if (version >= kSchemaVersion) return;  // the folders exist
  }
  if (role_ == Role::kReader) throw StoreError("the mailbox's schema is not current");
  sqlite::Transaction tx(*db_);
  if (version == 2) {
    // Schema 2 kept the message bytes in bodies.data: move them to body_data.
    db_->exec(
        "CREATE TABLE body_data(id INTEGER PRIMARY KEY, header BLOB, data BLOB NOT NULL);"
        "INSERT INTO body_data SELECT id, NULL, data FROM bodies;"
        "DROP TRIGGER bodies_removed;"
        "ALTER TABLE bodies DROP COLUMN data;");
  }
  if ((version == 2 || version == 3) &&
      !db_->prepare("SELECT 1 FROM pragma_table_info('folders') WHERE name = 'recent_uid'")
           .step()) {
    // Schema 4 keeps which messages sessions have been told are \Recent. What an older
    // mailbox holds was there before: none of it is.
    db_->exec(
        "ALTER TABLE folders ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;"
        "UPDATE folders SET recent_uid = uidnext;");
  }
  db_->exec(kSchema);
  for (const auto& f : kStandardFolders) {
    auto st = db_->prepare("SELECT 1 FROM folders WHERE special_use = ?");
    st.bind(1, static_cast<std::int64_t>(f.use));
    if (st.step()) continue;
    insert_folder(f.name, f.use);
  }
  db_->prepare("INSERT OR REPLACE INTO meta VALUES('schema', ?)")
      .bind(1, std::to_string(kSchemaVersion))
      .run();
  tx.commit();
}

}  // namespace sealpost::store::mailbox
