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
#include <vector>

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

  // ---- Statements a user wrote (D1): any SQL, results with their types ----
  struct Cell {
    enum class Type : std::uint8_t { kNull, kInteger, kReal, kText, kBlob };
    Type type = Type::kNull;
    std::int64_t integer = 0;
    double real = 0;
    std::string bytes;  // kText, kBlob
  };
  using Param = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;
  struct Outcome {
    std::vector<std::string> columns;  // of the last statement that returns rows
    std::vector<std::vector<Cell>> rows;
    std::int64_t changes = 0;  // rows changed by the statements
    std::int64_t last_row_id = 0;
    bool read_only = true;  // no statement writes
    std::uint64_t rows_read = 0;
    std::string error;       // SQLite's message, empty on success
    std::string error_code;  // "SQLITE_ERROR", "SQLITE_CONSTRAINT", ...
  };
  // Runs the statements of `sql` in order, each with placeholders getting `params` by position
  // (more params than a statement's placeholders is an error). Not cached: the text is arbitrary.
  // Returns false with out->error set when a statement fails (the earlier ones took effect: wrap
  // the call in a transaction to undo them).
  bool query(std::string_view sql, const std::vector<Param>& params, Outcome* out);
  // Whether every statement of `sql` prepares and only reads (one that does not prepare here,
  // such as a query of a table this copy does not have yet, is not known to only read).
  bool read_only(std::string_view sql);
  // SQLite's limit on host parameters per statement.
  void limit_variables(int n);
  // The database's size in bytes (page count times page size).
  std::int64_t size_bytes();

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
