// A thin RAII layer over the SQLite C API: a connection, prepared statements with typed binds,
// and errors as exceptions carrying SQLite's message.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

#include "store/metadata_store.hpp"

namespace sealpost::store::sqlite {

class Database;

class Statement {
 public:
  // Taken from `owner`'s idle statements of the same SQL, or compiled; given back to them, reset,
  // when done: a connection compiles each of its statements once, not at every use.
  Statement(Database& owner, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_blob(int index, const std::vector<unsigned char>& bytes) {
    return bind_blob(index, std::span<const unsigned char>(bytes));
  }
  Statement& bind_blob(int index, std::span<const unsigned char> bytes);
  Statement& bind_null(int index);
  // Clears the bindings' values and rewinds, to run the statement again.
  void reset();
  // Steps once: true while a row is available.
  bool step();
  void run() {
    while (step()) {
    }
  }
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::int64_t integer(int column) const;
  [[nodiscard]] std::vector<unsigned char> blob(int column) const;
  // Valid until the next step() or reset().
  [[nodiscard]] std::span<const unsigned char> blob_view(int column) const;
  [[nodiscard]] bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Database* owner_ = nullptr;                   // whose cache takes stmt_ back
  std::vector<sqlite3_stmt*>* idle_ = nullptr;  // the cache's idle statements of this SQL
};

class Database {
 public:
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return {*this, sql}; }
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] int changes() const { return sqlite3_changes(db_); }
  // Runs PRAGMA optimize when the connection closes (DESIGN.md's mailbox pragmas).
  void optimize_on_close() { optimize_on_close_ = true; }

 private:
  friend class Statement;
  // Bounds of the statement cache: the SQL texts it keeps (the first ones used: a connection's
  // statements are a fixed set) and the idle statements of each (more than one when a statement
  // is used while another of the same SQL is running).
  static constexpr std::size_t kCachedTexts = 64;
  static constexpr std::size_t kIdlePerText = 2;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // The idle statements of `sql` (nullptr when the cache is full of other texts), and one of
  // them taken out when there is one.
  std::vector<sqlite3_stmt*>* idle_for(std::string_view sql, sqlite3_stmt*& taken);
  void give_back(std::vector<sqlite3_stmt*>* idle, sqlite3_stmt* stmt);

  sqlite3* db_ = nullptr;
  bool optimize_on_close_ = false;
  std::mutex cache_mutex_;  // the connection is FULLMUTEX: statements may come from any thread
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, TextHash, std::equal_to<>> cache_;
};

// Commits on success, rolls back when destroyed by an exception.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to do while unwinding
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace sealpost::store::sqlite
