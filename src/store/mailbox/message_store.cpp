#include "store/mailbox/message_store.hpp"

#include <algorithm>
#include <array>

#include <zstd.h>

#include "core/clock.hpp"
#include "core/strings.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr int kSchemaVersion = 4;
constexpr int kZstdLevel = 3;
constexpr std::size_t kMinCompressed = 512;  // smaller messages are stored as they are
constexpr std::size_t kMaxKeywords = 64;
constexpr std::size_t kMaxKeywordLength = 100;
constexpr std::size_t kIndexBatch = 64;  // messages waiting for the full-text index

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

struct StandardFolder {
  const char* name;
  SpecialUse use;
};
constexpr std::array<StandardFolder, 6> kStandardFolders{{
    {"INBOX", SpecialUse::kInbox},
    {"Sent", SpecialUse::kSent},
    {"Drafts", SpecialUse::kDrafts},
    {"Junk", SpecialUse::kJunk},
    {"Trash", SpecialUse::kTrash},
    {"Archive", SpecialUse::kArchive},
}};

std::string join(const std::vector<std::string>& words, char sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// IMAP keywords are atoms: no spaces, parentheses, wildcards, quotes, backslashes or controls.
bool valid_keyword(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeywordLength) return false;
  return std::none_of(k.begin(), k.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' ||
           c == '"' || c == '\\' || c == ']';
  });
}

// IMAP keywords are case-insensitive ("$label1" is "$Label1"), as Dovecot treats them; the
// first spelling is kept.
bool has_keyword(const std::vector<std::string>& words, std::string_view k) {
  return std::any_of(words.begin(), words.end(),
                     [&](const std::string& w) { return iequals(w, k); });
}

std::string keywords_text(const std::vector<std::string>& keywords) {
  std::vector<std::string> kept;
  for (const auto& k : keywords) {
    if (kept.size() >= kMaxKeywords) break;
    if (!valid_keyword(k)) throw StoreError("invalid keyword");
    if (!has_keyword(kept, k)) kept.push_back(k);
  }
  return join(kept, ' ');
}

Folder read_folder(const sqlite::Statement& st) {
  Folder f;
  f.id = st.integer(0);
  f.name = st.text(1);
  f.special_use = static_cast<SpecialUse>(st.integer(2));
  f.uidvalidity = static_cast<std::uint32_t>(st.integer(3));
  f.uidnext = static_cast<std::uint32_t>(st.integer(4));
  f.highest_modseq = static_cast<std::uint64_t>(st.integer(5));
  f.subscribed = st.integer(6) != 0;
  f.recent_uid = static_cast<std::uint32_t>(st.integer(7));
  return f;
}

constexpr const char* kFolderColumns =
    "SELECT id, name, special_use, uidvalidity, uidnext, highest_modseq, subscribed, recent_uid "
    "FROM folders ";

// A folder name: UTF-8 without controls, '/' separated non-empty levels, bounded.
bool valid_folder_name(std::string_view name) {
  if (name.empty() || name.size() > 500 || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

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

std::string_view to_string(SpecialUse use) {
  switch (use) {
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kArchive:
      return "\\Archive";
    case SpecialUse::kNone:
    case SpecialUse::kInbox:
      break;
  }
  return "";
}

std::vector<unsigned char> compress(std::string_view raw) {
  std::vector<unsigned char> out(ZSTD_compressBound(raw.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(n)) throw StoreError("zstd: " + std::string(ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

std::string decompress(std::span<const unsigned char> compressed, std::size_t size) {
  std::string out(size, '\0');
  const std::size_t n =
      ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != size) throw StoreError("a stored message does not decompress");
  return out;
}

namespace {

// A zstd frame starts with these four bytes; a message's text never does (a header field
// starts with a printable character), so a stored piece tells by itself whether it is packed.
constexpr std::array<unsigned char, 4> kZstdMagic{0x28, 0xB5, 0x2F, 0xFD};

// Small pieces are stored as they are: compression would not pay for the frame.
std::vector<unsigned char> pack(std::string_view piece) {
  if (piece.size() >= kMinCompressed) {
    auto packed = compress(piece);
    if (packed.size() < piece.size()) return packed;
  }
  return {piece.begin(), piece.end()};
}

std::string unpack(std::span<const unsigned char> stored) {
  if (stored.size() >= kZstdMagic.size() &&
      std::equal(kZstdMagic.begin(), kZstdMagic.end(), stored.begin())) {
    const std::size_t size = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
      throw StoreError("a stored message does not decompress");
    }
    return decompress(stored, size);
  }
  return {reinterpret_cast<const char*>(stored.data()), stored.size()};
}

}  // namespace

std::size_t header_length(std::string_view raw) {
  // The header ends with its first empty line (CRLF or a bare LF), which it includes.
  std::size_t line = 0;
  while (line < raw.size()) {
    if (raw[line] == '\n') return line + 1;
    if (raw[line] == '\r' && line + 1 < raw.size() && raw[line + 1] == '\n') return line + 2;
    const std::size_t nl = raw.find('\n', line);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  return raw.size();
}

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

std::vector<Folder> MessageStore::folders() {
  std::vector<Folder> out;
  auto st = db_->prepare(std::string(kFolderColumns) + "ORDER BY id");
  while (st.step()) out.push_back(read_folder(st));
  return out;
}

std::optional<Folder> MessageStore::folder(std::string_view name) {
  // INBOX is case-insensitive (RFC 9051 5.1); other names are exact.
  const bool inbox = iequals(name, "INBOX");
  auto st = db_->prepare(std::string(kFolderColumns) + "WHERE name = ?");
  st.bind(1, inbox ? std::string_view("INBOX") : name);
  if (!st.step()) return std::nullopt;
  return read_folder(st);
}

Folder MessageStore::special_folder(SpecialUse use) {
  {
    auto st =
        db_->prepare(std::string(kFolderColumns) + "WHERE special_use = ? ORDER BY id LIMIT 1");
    st.bind(1, static_cast<std::int64_t>(use));
    if (st.step()) return read_folder(st);
  }
  // Deleted by its owner: delivery (Junk) and submission (Sent) still need it.
  for (const auto& f : kStandardFolders) {
    if (f.use != use) continue;
    std::string name = f.name;
    for (int n = 1; folder(name); ++n) name = std::string(f.name) + "-" + std::to_string(n);
    return create_folder(name, use);
  }
  throw StoreError("no standard folder for this special use");
}

Folder MessageStore::create_folder(std::string_view name, SpecialUse use) {
  if (!valid_folder_name(name)) throw StoreError("invalid folder name");
  if (folder(name)) throw StoreError("the folder exists");
  sqlite::Transaction tx(*db_);
  insert_folder(name, use);
  tx.commit();
  return *folder(name);
}

void MessageStore::insert_folder(std::string_view name, SpecialUse use) {
  // UIDVALIDITY: the creation time, but always above every earlier one (RFC 9051 2.3.1.1: a
  // name created again must not reuse it), even for folders created in the same second.
  auto last = db_->prepare("SELECT value FROM meta WHERE key = 'last_uidvalidity'");
  const auto previous = last.step() ? std::stoll(last.text(0)) : 0;
  const auto validity =
      static_cast<std::uint32_t>(std::max<std::int64_t>(core::unix_now(), previous + 1));
  db_->prepare("INSERT INTO folders(name, special_use, uidvalidity) VALUES(?, ?, ?)")
      .bind(1, name)
      .bind(2, static_cast<std::int64_t>(use))
      .bind(3, static_cast<std::int64_t>(validity))
      .run();
  db_->prepare("INSERT OR REPLACE INTO meta VALUES('last_uidvalidity', ?)")
      .bind(1, std::to_string(validity))
      .run();
}

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

void MessageStore::index_pending() {
  if (!db_->prepare("SELECT 1 FROM fts_pending LIMIT 1").step()) return;
  sqlite::Transaction tx(*db_);
  index_pending_locked();
  tx.commit();
}

void MessageStore::index_pending_locked() {
  auto pending = db_->prepare("SELECT body, text FROM fts_pending ORDER BY body");
  auto index = db_->prepare(
      "INSERT INTO fts(rowid, subject, hfrom, hto, hcc, hbcc, body) VALUES(?, ?, ?, ?, ?, ?, ?)");
  std::size_t n = 0;
  while (pending.step()) {
    const auto packed = pending.blob_view(1);
    const std::size_t size = ZSTD_getFrameContentSize(packed.data(), packed.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) continue;
    const std::string text = decompress(packed, size);
    std::array<std::string_view, 6> fields{};
    std::string_view rest = text;
    for (auto& f : fields) {
      const auto nul = rest.find('\0');
      f = rest.substr(0, nul);
      rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
    }
    index.reset();
    index.bind(1, pending.integer(0));
    for (int i = 0; i < 6; ++i) index.bind(i + 2, fields[static_cast<std::size_t>(i)]);
    index.run();
    ++n;
  }
  if (n > 0) db_->exec("DELETE FROM fts_pending");
}

std::optional<std::string> MessageStore::raw(std::int64_t folder_id, std::uint32_t uid) {
  auto st = db_->prepare(
      "SELECT b.size, b.compressed, d.header, d.data FROM messages m JOIN bodies b ON "
      "b.id = m.body JOIN body_data d ON d.id = m.body WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step()) return std::nullopt;
  const auto size = static_cast<std::size_t>(st.integer(0));
  const auto data = st.blob_view(3);
  if (st.is_null(2)) {  // schema 2: the whole message in data
    if (st.integer(1) != 0) return decompress(data, size);
    return std::string(reinterpret_cast<const char*>(data.data()), data.size());
  }
  std::string out = unpack(st.blob_view(2));
  out += unpack(data);
  if (out.size() != size) throw StoreError("a stored message has the wrong size");
  return out;
}

std::optional<std::string> MessageStore::header(std::int64_t folder_id, std::uint32_t uid) {
  // Reading the header column stops before data: its overflow pages are not read.
  auto st = db_->prepare(
      "SELECT d.header FROM messages m JOIN body_data d ON d.id = m.body "
      "WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step()) return std::nullopt;
  if (st.is_null(0)) {
    auto whole = raw(folder_id, uid);
    if (whole) whole->resize(header_length(*whole));
    return whole;
  }
  return unpack(st.blob_view(0));
}

std::optional<MessageFacts> MessageStore::facts(std::int64_t folder_id, std::uint32_t uid) {
  auto st = db_->prepare(
      "SELECT b.envelope, b.bodystructure, b.body, b.message_id, b.parents, b.sent_date "
      "FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ? AND m.uid = ?");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
  if (!st.step() || st.is_null(0)) return std::nullopt;
  MessageFacts f;
  f.envelope = st.text(0);
  f.bodystructure = st.text(1);
  f.body = st.text(2);
  f.message_id = st.text(3);
  f.parents = split(st.text(4), ' ');
  f.sent_date = st.integer(5);
  return f;
}

namespace {

constexpr const char* kMessageColumns =
    "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, b.size, b.thread "
    "FROM messages m JOIN bodies b ON b.id = m.body ";
// The same columns without the join (size and thread 0), for Detail::kFlags.
constexpr const char* kFlagColumns =
    "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, 0, 0 FROM messages m ";

std::string message_query(MessageStore::Detail detail, std::string_view where) {
  return (detail == MessageStore::Detail::kAll ? kMessageColumns : kFlagColumns) +
         std::string(where);
}

void read_infos(sqlite::Statement& st, std::vector<MessageInfo>& out) {
  while (st.step()) {
    MessageInfo i;
    i.uid = static_cast<std::uint32_t>(st.integer(0));
    i.modseq = static_cast<std::uint64_t>(st.integer(1));
    i.flags = static_cast<std::uint32_t>(st.integer(2));
    i.keywords = split(st.text(3), ' ');
    i.internal_date = st.integer(4);
    i.size = static_cast<std::uint64_t>(st.integer(5));
    i.thread = st.integer(6);
    out.push_back(std::move(i));
  }
}

}  // namespace

std::vector<MessageInfo> MessageStore::messages(std::int64_t folder_id) {
  std::vector<MessageInfo> out;
  auto st = db_->prepare(std::string(kMessageColumns) + "WHERE m.folder = ? ORDER BY m.uid");
  st.bind(1, folder_id);
  read_infos(st, out);
  return out;
}

std::vector<MessageInfo> MessageStore::messages(
    std::int64_t folder_id, std::span<const std::pair<std::uint32_t, std::uint32_t>> uids,
    Detail detail) {
  std::vector<MessageInfo> out;
  auto st = db_->prepare(
      message_query(detail, "WHERE m.folder = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid"));
  for (const auto& [first, last] : uids) {
    st.reset();
    st.bind(1, folder_id).bind(2, std::int64_t{first}).bind(3, std::int64_t{last});
    read_infos(st, out);
  }
  return out;
}

std::vector<MessageInfo> MessageStore::changed_since(std::int64_t folder_id, std::uint64_t modseq,
                                                     Detail detail) {
  std::vector<MessageInfo> out;
  auto st =
      db_->prepare(message_query(detail, "WHERE m.folder = ? AND m.modseq > ? ORDER BY m.uid"));
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(modseq));
  read_infos(st, out);
  return out;
}

MessageStore::Counts MessageStore::counts(std::int64_t folder_id) {
  auto st = db_->prepare(
      "SELECT count(*), total((m.flags & 1) = 0), total((m.flags & 8) != 0), total(b.size), "
      "total(m.uid >= (SELECT recent_uid FROM folders WHERE id = ?1)) "
      "FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ?1");
  st.bind(1, folder_id);
  Counts c;
  if (st.step()) {
    c.messages = static_cast<std::uint32_t>(st.integer(0));
    c.unseen = static_cast<std::uint32_t>(st.integer(1));
    c.deleted = static_cast<std::uint32_t>(st.integer(2));
    c.size = static_cast<std::uint64_t>(st.integer(3));
    c.recent = static_cast<std::uint32_t>(st.integer(4));
  }
  return c;
}

std::vector<std::uint32_t> MessageStore::claim_recent(std::int64_t folder_id) {
  const auto unclaimed = [&] {
    auto st = db_->prepare("SELECT recent_uid < uidnext FROM folders WHERE id = ?");
    st.bind(1, folder_id);
    return st.step() && st.integer(0) != 0;
  };
  std::vector<std::uint32_t> out;
  if (!unclaimed()) return out;  // the common case: no write transaction
  sqlite::Transaction tx(*db_);
  if (!unclaimed()) return out;  // another session claimed them first
  auto st = db_->prepare(
      "SELECT m.uid FROM messages m JOIN folders f ON f.id = m.folder "
      "WHERE m.folder = ? AND m.uid >= f.recent_uid ORDER BY m.uid");
  st.bind(1, folder_id);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  db_->prepare("UPDATE folders SET recent_uid = uidnext WHERE id = ?").bind(1, folder_id).run();
  tx.commit();
  return out;
}

std::vector<std::string> MessageStore::keywords(std::int64_t folder_id, std::size_t limit) {
  std::vector<std::string> out;
  auto st =
      db_->prepare("SELECT DISTINCT keywords FROM messages WHERE folder = ? AND keywords <> ''");
  st.bind(1, folder_id);
  while (st.step() && out.size() < limit) {
    for (auto& k : split(st.text(0), ' ')) {
      if (out.size() < limit && !has_keyword(out, k)) out.push_back(std::move(k));
    }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return to_lower_ascii(a) < to_lower_ascii(b);
  });
  return out;
}

std::uint32_t MessageStore::first_unseen(std::int64_t folder_id) {
  auto st = db_->prepare("SELECT min(uid) FROM messages WHERE folder = ? AND (flags & 1) = 0");
  st.bind(1, folder_id);
  return st.step() && !st.is_null(0) ? static_cast<std::uint32_t>(st.integer(0)) : 0;
}

std::vector<std::uint32_t> MessageStore::uids(std::int64_t folder_id) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare("SELECT uid FROM messages WHERE folder = ? ORDER BY uid");
  st.bind(1, folder_id);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

std::uint64_t MessageStore::set_flags(std::int64_t folder_id, std::uint32_t uid,
                                      std::uint32_t flags,
                                      const std::vector<std::string>& keywords) {
  const std::string kw = keywords_text(keywords);
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) return 0;
  const auto modseq = f.integer(0) + 1;
  auto st = db_->prepare(
      "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE folder = ? AND uid = ?");
  st.bind(1, static_cast<std::int64_t>(flags & 0x1f))
      .bind(2, kw)
      .bind(3, modseq)
      .bind(4, folder_id)
      .bind(5, static_cast<std::int64_t>(uid))
      .run();
  if (db_->changes() == 0) return 0;
  db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
      .bind(1, modseq)
      .bind(2, folder_id)
      .run();
  tx.commit();
  return static_cast<std::uint64_t>(modseq);
}

MessageStore::StoreResult MessageStore::store_flags(std::int64_t folder_id,
                                                    std::span<const std::uint32_t> uids,
                                                    FlagChange change, std::uint32_t flags,
                                                    const std::vector<std::string>& keywords,
                                                    std::optional<std::uint64_t> unchanged_since) {
  StoreResult result;
  const std::string given = keywords_text(keywords);  // validates
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) throw StoreError("no such folder");
  const auto modseq = static_cast<std::uint64_t>(f.integer(0)) + 1;
  auto read =
      db_->prepare("SELECT flags, keywords, modseq FROM messages WHERE folder = ? AND uid = ?");
  auto write = db_->prepare(
      "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE folder = ? AND uid = ?");
  const auto given_words = split(given, ' ');
  for (const auto uid : uids) {
    read.reset();
    read.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
    if (!read.step()) continue;
    const auto old_flags = static_cast<std::uint32_t>(read.integer(0));
    const auto old_words = split(read.text(1), ' ');
    if (unchanged_since && static_cast<std::uint64_t>(read.integer(2)) > *unchanged_since) {
      result.modified.push_back(uid);
      continue;
    }
    std::uint32_t new_flags = old_flags;
    std::vector<std::string> words = old_words;
    switch (change) {
      case FlagChange::kReplace:
        new_flags = flags;
        words = given_words;
        break;
      case FlagChange::kAdd:
        new_flags |= flags;
        for (const auto& w : given_words) {
          if (!has_keyword(words, w)) words.push_back(w);
        }
        break;
      case FlagChange::kRemove:
        new_flags &= ~flags;
        std::erase_if(words, [&](const std::string& w) { return has_keyword(given_words, w); });
        break;
    }
    new_flags &= 0x1f;
    if (new_flags == old_flags && words == old_words) continue;
    const std::string text = keywords_text(words);
    write.reset();
    write.bind(1, static_cast<std::int64_t>(new_flags))
        .bind(2, text)
        .bind(3, static_cast<std::int64_t>(modseq))
        .bind(4, folder_id)
        .bind(5, static_cast<std::int64_t>(uid))
        .run();
    result.changed.push_back({uid, modseq, new_flags, split(text, ' ')});
  }
  if (!result.changed.empty()) {
    db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
        .bind(1, static_cast<std::int64_t>(modseq))
        .bind(2, folder_id)
        .run();
  }
  tx.commit();
  return result;
}

MessageStore::CopyResult MessageStore::copy(std::int64_t from_folder,
                                            std::span<const std::uint32_t> uids,
                                            std::int64_t to_folder, bool move) {
  CopyResult result;
  sqlite::Transaction tx(*db_);
  auto target =
      db_->prepare("SELECT uidnext, highest_modseq, uidvalidity FROM folders WHERE id = ?");
  target.bind(1, to_folder);
  if (!target.step()) throw StoreError("no such folder");
  auto next = static_cast<std::uint32_t>(target.integer(0));
  const auto modseq = target.integer(1) + 1;
  result.uidvalidity = static_cast<std::uint32_t>(target.integer(2));
  auto source = db_->prepare(
      "SELECT body, flags, keywords, internal_date FROM messages WHERE folder = ? AND uid = ?");
  auto insert = db_->prepare(
      "INSERT INTO messages(folder, uid, body, modseq, flags, keywords, internal_date) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (const auto uid : uids) {
    source.reset();
    source.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid));
    if (!source.step()) continue;
    if (next == 0xffffffffU) throw StoreError("the folder has run out of UIDs");
    insert.reset();
    insert.bind(1, to_folder)
        .bind(2, static_cast<std::int64_t>(next))
        .bind(3, source.integer(0))
        .bind(4, modseq)
        .bind(5, source.integer(1))
        .bind(6, source.text(2))
        .bind(7, source.integer(3))
        .run();
    result.source.push_back(uid);
    result.target.push_back(next++);
  }
  if (!result.target.empty()) {
    db_->prepare("UPDATE folders SET uidnext = ?, highest_modseq = ? WHERE id = ?")
        .bind(1, static_cast<std::int64_t>(next))
        .bind(2, modseq)
        .bind(3, to_folder)
        .run();
  }
  if (move && !result.source.empty()) {
    auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
    f.bind(1, from_folder);
    f.step();
    const auto gone = f.integer(0) + 1;
    auto remove = db_->prepare("DELETE FROM messages WHERE folder = ? AND uid = ?");
    auto log = db_->prepare("INSERT OR REPLACE INTO expunged VALUES(?, ?, ?)");
    for (const auto uid : result.source) {
      remove.reset();
      remove.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid)).run();
      log.reset();
      log.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid)).bind(3, gone).run();
    }
    db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
        .bind(1, gone)
        .bind(2, from_folder)
        .run();
  }
  tx.commit();
  return result;
}

void MessageStore::rename_folder(std::string_view from, std::string_view to) {
  if (!valid_folder_name(to)) throw StoreError("invalid folder name");
  const auto source = folder(from);
  if (!source) throw StoreError("no such folder");
  if (folder(to)) throw StoreError("the target folder exists");
  const std::string old_name = source->name;
  if (old_name == "INBOX") {
    // RFC 9051 6.3.6: INBOX's messages move to the new name; INBOX stays, empty.
    const auto created = create_folder(to);
    const auto uids = this->uids(source->id);
    (void)copy(source->id, uids, created.id, true);
    return;
  }
  const std::string new_name(to);
  if (new_name.starts_with(old_name + "/")) throw StoreError("cannot move a folder into itself");
  sqlite::Transaction tx(*db_);
  // The folder and its inferiors ("a/b" -> "c/b"), keeping UIDVALIDITY and UIDs: the messages
  // do not change (as Dovecot does).
  auto st = db_->prepare("SELECT id, name FROM folders WHERE name = ? OR substr(name, 1, ?) = ?");
  st.bind(1, old_name)
      .bind(2, static_cast<std::int64_t>(old_name.size() + 1))
      .bind(3, old_name + "/");
  std::vector<std::pair<std::int64_t, std::string>> renames;
  while (st.step())
    renames.emplace_back(st.integer(0), new_name + st.text(1).substr(old_name.size()));
  auto update = db_->prepare("UPDATE folders SET name = ? WHERE id = ?");
  for (const auto& [id, name] : renames) {
    update.reset();
    update.bind(1, name).bind(2, id).run();
  }
  tx.commit();
}

void MessageStore::delete_folder(std::string_view name) {
  const auto f = folder(name);
  if (!f) throw StoreError("no such folder");
  if (f->name == "INBOX") throw StoreError("INBOX cannot be deleted");
  sqlite::Transaction tx(*db_);
  // Messages first (the trigger frees bodies no other folder shares), then the folder and its
  // expunge log.
  db_->prepare("DELETE FROM messages WHERE folder = ?").bind(1, f->id).run();
  db_->prepare("DELETE FROM folders WHERE id = ?").bind(1, f->id).run();
  tx.commit();
}

void MessageStore::set_subscribed(std::string_view name, bool subscribed) {
  const auto f = folder(name);
  if (!f) throw StoreError("no such folder");
  db_->prepare("UPDATE folders SET subscribed = ? WHERE id = ?")
      .bind(1, std::int64_t{subscribed ? 1 : 0})
      .bind(2, f->id)
      .run();
}

std::vector<std::uint32_t> MessageStore::expunge(
    std::int64_t folder_id, std::optional<std::span<const std::uint32_t>> only) {
  std::vector<std::uint32_t> uids;
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) return uids;
  const auto modseq = f.integer(0) + 1;
  if (only) {
    auto st = db_->prepare(
        "DELETE FROM messages WHERE folder = ? AND uid = ? AND (flags & ?) != 0 RETURNING uid");
    for (const auto uid : *only) {
      st.reset();
      st.bind(1, folder_id).bind(2, std::int64_t{uid}).bind(3, static_cast<std::int64_t>(kDeleted));
      while (st.step()) uids.push_back(static_cast<std::uint32_t>(st.integer(0)));
    }
  } else {
    auto st =
        db_->prepare("DELETE FROM messages WHERE folder = ? AND (flags & ?) != 0 RETURNING uid");
    st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(kDeleted));
    while (st.step()) uids.push_back(static_cast<std::uint32_t>(st.integer(0)));
  }
  if (uids.empty()) return uids;
  std::sort(uids.begin(), uids.end());
  auto log = db_->prepare("INSERT OR REPLACE INTO expunged VALUES(?, ?, ?)");
  for (const auto uid : uids) {
    log.reset();
    log.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid)).bind(3, modseq).run();
  }
  db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
      .bind(1, modseq)
      .bind(2, folder_id)
      .run();
  tx.commit();
  return uids;
}

std::vector<std::uint32_t> MessageStore::expunged_since(std::int64_t folder_id,
                                                        std::uint64_t modseq) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare("SELECT uid FROM expunged WHERE folder = ? AND modseq > ? ORDER BY uid");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(modseq));
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

std::vector<std::uint32_t> MessageStore::search_text(std::int64_t folder_id,
                                                     std::string_view query) {
  // The trigram index finds substrings of 3 characters or more (IMAP SEARCH is a substring
  // match), each word one quoted FTS5 phrase. The index holds no copy of the text (contentless),
  // so words of one or two characters are looked for in the messages themselves.
  std::string match;
  std::vector<std::string> short_words;
  for (const auto& word : split(query, ' ')) {
    if (word.size() < 3) {
      short_words.push_back(to_lower_ascii(word));
      continue;
    }
    if (!match.empty()) match += " AND ";
    match += '"';
    for (char c : word) {
      if (c == '"') match += '"';
      match += c;
    }
    match += '"';
  }
  if (!match.empty() && role_ == Role::kWriter) index_pending();
  std::vector<std::uint32_t> out;
  auto st = match.empty() ? db_->prepare("SELECT uid FROM messages WHERE folder = ? ORDER BY uid")
                          : db_->prepare(
                                "SELECT m.uid FROM messages m JOIN fts ON fts.rowid = m.body "
                                "WHERE m.folder = ? AND fts MATCH ? ORDER BY m.uid");
  st.bind(1, folder_id);
  if (!match.empty()) st.bind(2, match);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  if (short_words.empty()) return out;
  std::erase_if(out, [&](std::uint32_t uid) {
    const auto bytes = raw(folder_id, uid);
    if (!bytes) return true;
    const std::string lower = to_lower_ascii(*bytes);
    return std::any_of(short_words.begin(), short_words.end(),
                       [&](const std::string& w) { return lower.find(w) == std::string::npos; });
  });
  return out;
}

std::vector<std::uint32_t> MessageStore::thread_members(std::int64_t folder_id,
                                                        std::int64_t thread) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare(
      "SELECT m.uid FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ? AND "
      "b.thread = ? ORDER BY m.uid");
  st.bind(1, folder_id).bind(2, thread);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

std::uint64_t MessageStore::usage_bytes() {
  auto st = db_->prepare("SELECT bytes FROM usage WHERE id = 1");
  return st.step() ? static_cast<std::uint64_t>(st.integer(0)) : 0;
}

}  // namespace sealpost::store::mailbox
