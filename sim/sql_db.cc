#include "sim/sql_db.h"

#include <sqlite3.h>

namespace sim {

bool SqlDb::open(Disk& disk, const char* path, bool synced, const char* schema) {
  close();
  const int rc = sqlite3_open_v2(path, &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 disk.vfs_name().c_str());
  if (rc != SQLITE_OK) {
    close();
    return false;
  }
  const std::string setup = std::string("PRAGMA journal_mode=DELETE; PRAGMA synchronous=") +
                            (synced ? "FULL" : "OFF") + ";";
  if (!exec(setup.c_str()) || !exec(schema)) {
    close();
    return false;
  }
  synced_ = synced;
  return true;
}

void SqlDb::close() {
  for (auto& [sql, st] : statements_) sqlite3_finalize(st);
  statements_.clear();
  if (db_ != nullptr) sqlite3_close(db_);
  db_ = nullptr;
  synced_ = false;
}

bool SqlDb::in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

bool SqlDb::exec(const char* sql) {
  if (db_ == nullptr) return false;
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

bool SqlDb::run(const char* sql, std::initializer_list<Value> binds, const RowFn& row) {
  if (db_ == nullptr) return false;
  // Statements are prepared once and kept (parsing dominated the cost of the small statements
  // the stores run); a statement already running (a nested run() of the same SQL from a row
  // callback) gets a fresh one for this call.
  sqlite3_stmt* st = nullptr;
  bool owned = false;
  auto it = statements_.find(std::string_view(sql));
  if (it != statements_.end() && sqlite3_stmt_busy(it->second) == 0) {
    st = it->second;
  } else {
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      return false;
    }
    if (it == statements_.end() && statements_.size() < kStatementsMax) {
      statements_.emplace(sql, st);
    } else {
      owned = true;
    }
  }
  int index = 1;
  for (const Value& v : binds) {
    if (std::holds_alternative<std::int64_t>(v)) {
      sqlite3_bind_int64(st, index, std::get<std::int64_t>(v));
    } else if (std::holds_alternative<std::string_view>(v)) {
      const auto s = std::get<std::string_view>(v);
      sqlite3_bind_text(st, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    } else if (std::holds_alternative<Blob>(v)) {
      const auto b = std::get<Blob>(v).bytes;
      // A zero-length blob, not NULL: bind_blob with a null pointer would store NULL.
      sqlite3_bind_blob(st, index, b.empty() ? "" : b.data(), static_cast<int>(b.size()),
                        SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(st, index);
    }
    ++index;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (row) row(st);
  }
  if (owned) {
    sqlite3_finalize(st);
  } else {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return rc == SQLITE_DONE;
}

std::string SqlDb::error() const {
  return db_ != nullptr ? sqlite3_errmsg(db_) : "database not open";
}

std::string SqlDb::column_text(sqlite3_stmt* st, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
                      : std::string();
}

std::string SqlDb::column_blob(sqlite3_stmt* st, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(st, col));
  const int n = sqlite3_column_bytes(st, col);
  return p != nullptr ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::int64_t SqlDb::column_int(sqlite3_stmt* st, int col) { return sqlite3_column_int64(st, col); }

bool SqlDb::column_null(sqlite3_stmt* st, int col) {
  return sqlite3_column_type(st, col) == SQLITE_NULL;
}

}  // namespace sim
