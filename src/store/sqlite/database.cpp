#include "store/sqlite/database.hpp"

namespace sealpost::store::sqlite {
namespace {

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw StoreError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Statement::Statement(Database& owner, std::string_view sql) : db_(owner.db_) {
  idle_ = owner.idle_for(sql, stmt_);
  if (idle_ != nullptr) owner_ = &owner;
  // PERSISTENT: a cached statement lives long, so SQLite keeps it out of its lookaside memory.
  const unsigned flags = owner_ != nullptr ? SQLITE_PREPARE_PERSISTENT : 0;
  if (stmt_ == nullptr && sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags,
                                             &stmt_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    fail(db_, "prepare");
  }
}

Statement::~Statement() {
  if (owner_ != nullptr) {
    owner_->give_back(idle_, stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    fail(db_, "bind");
  }
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
  // An empty span may have no data pointer, which SQLite would bind as NULL: an empty blob is
  // meant.
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* data = bytes.empty() ? &kEmpty : bytes.data();
  if (sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK) {
    fail(db_, "bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::span<const unsigned char> Statement::blob_view(int column) const {
  const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  if (!p || n <= 0) return {};
  return {p, static_cast<std::size_t>(n)};
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::vector<unsigned char> Statement::blob(int column) const {
  const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  if (!p || n <= 0) return {};
  return {p, p + n};
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, "step");
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

Database::Database(const std::string& path) {
  if (sqlite3_open_v2(
          path.c_str(), &db_,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI,
          nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(path + ": " + msg);
  }
  exec("PRAGMA busy_timeout = 5000");
}

Database::~Database() {
  if (optimize_on_close_) sqlite3_exec(db_, "PRAGMA optimize", nullptr, nullptr, nullptr);
  for (auto& [sql, idle] : cache_) {
    for (auto* stmt : idle) sqlite3_finalize(stmt);
  }
  sqlite3_close(db_);
}

std::vector<sqlite3_stmt*>* Database::idle_for(std::string_view sql, sqlite3_stmt*& taken) {
  const std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    if (cache_.size() >= kCachedTexts) return nullptr;
    it = cache_.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
  }
  auto& idle = it->second;  // a node's value: its address outlives later insertions
  if (!idle.empty()) {
    taken = idle.back();
    idle.pop_back();
  }
  return &idle;
}

void Database::give_back(std::vector<sqlite3_stmt*>* idle, sqlite3_stmt* stmt) {
  // Ends any read it was in the middle of, as finalising would.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  {
    const std::lock_guard lock(cache_mutex_);
    if (idle->size() < kIdlePerText) {
      idle->push_back(stmt);
      return;
    }
  }
  sqlite3_finalize(stmt);
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(msg);
  }
}

}  // namespace sealpost::store::sqlite
