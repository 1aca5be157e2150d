// SqlDb: one SQLite database on a node's simulated disk (sim/disk.h), the way every durable store
// of the platform keeps its state (the DO directory and storage replicas, the queue brokers, the
// cron scheduler). A small wrapper: statements with bound values, rows through a callback, and
// errors as booleans plus error(), because a store decides itself what a failed write means (a
// crashed disk fails every statement until the node restarts).
//
// Durability is SQLite's on the simulated disk: with `synced` the database runs with a rollback
// journal and synchronous=FULL, so a statement that succeeded (outside an explicit transaction)
// survives a crash; without, writes may be lost (a mutant's choice).
//
// Single-threaded, never suspends: SQLite runs to completion on the caller's task.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "sim/disk.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sim {

class SqlDb {
 public:
  struct Blob {
    std::string_view bytes;
  };
  using Value = std::variant<std::monostate, std::int64_t, std::string_view, Blob>;
  using RowFn = std::function<void(sqlite3_stmt*)>;

  SqlDb() = default;
  SqlDb(const SqlDb&) = delete;
  SqlDb& operator=(const SqlDb&) = delete;
  ~SqlDb() { close(); }

  // Opens `path` with a rollback journal and synchronous FULL (or OFF), then runs `schema`.
  bool open(Disk& disk, const char* path, bool synced, const char* schema);
  void close();
  bool is_open() const { return db_ != nullptr; }
  // Whether a statement that succeeded is on the disk (synchronous FULL) rather than pending.
  bool synced() const { return synced_; }
  // Inside an explicit transaction: statements that succeed are not committed yet.
  bool in_transaction() const;
  // Runs one statement; `row` sees each result row. Returns true on success.
  bool run(const char* sql, std::initializer_list<Value> binds, const RowFn& row = {});
  bool exec(const char* sql);  // several statements, no bindings
  std::string error() const;

  static std::string column_text(sqlite3_stmt* st, int col);
  static std::string column_blob(sqlite3_stmt* st, int col);
  static std::int64_t column_int(sqlite3_stmt* st, int col);
  static bool column_null(sqlite3_stmt* st, int col);

 private:
  // Prepared statements by their SQL text, kept until close(); bounded, for SQL built at run time.
  static constexpr std::size_t kStatementsMax = 64;
  sqlite3* db_ = nullptr;
  bool synced_ = false;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace sim
