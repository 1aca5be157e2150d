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

namespace {

const char* code_name(int rc) {
  switch (rc & 0xff) {
    case SQLITE_ERROR:
      return "SQLITE_ERROR";
    case SQLITE_INTERNAL:
      return "SQLITE_INTERNAL";
    case SQLITE_PERM:
      return "SQLITE_PERM";
    case SQLITE_ABORT:
      return "SQLITE_ABORT";
    case SQLITE_BUSY:
      return "SQLITE_BUSY";
    case SQLITE_LOCKED:
      return "SQLITE_LOCKED";
    case SQLITE_NOMEM:
      return "SQLITE_NOMEM";
    case SQLITE_READONLY:
      return "SQLITE_READONLY";
    case SQLITE_INTERRUPT:
      return "SQLITE_INTERRUPT";
    case SQLITE_IOERR:
      return "SQLITE_IOERR";
    case SQLITE_CORRUPT:
      return "SQLITE_CORRUPT";
    case SQLITE_FULL:
      return "SQLITE_FULL";
    case SQLITE_CANTOPEN:
      return "SQLITE_CANTOPEN";
    case SQLITE_CONSTRAINT:
      return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH:
      return "SQLITE_MISMATCH";
    case SQLITE_TOOBIG:
      return "SQLITE_TOOBIG";
    case SQLITE_RANGE:
      return "SQLITE_RANGE";
    case SQLITE_AUTH:
      return "SQLITE_AUTH";
    default:
      return "SQLITE_ERROR";
  }
}

}  // namespace

bool SqlDb::query(std::string_view sql, const std::vector<Param>& params, Outcome* out) {
  *out = Outcome{};
  if (db_ == nullptr) {
    out->error = "database not open";
    out->error_code = "SQLITE_CANTOPEN";
    return false;
  }
  const char* at = sql.data();
  const char* end = sql.data() + sql.size();
  const auto fail = [&](int rc) {
    out->error = sqlite3_errmsg(db_);
    out->error_code = code_name(rc);
    return false;
  };
  while (at < end) {
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, at, static_cast<int>(end - at), &st, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(st);
      return fail(rc);
    }
    at = tail;
    if (st == nullptr) continue;  // only whitespace or a comment
    struct Finalize {
      sqlite3_stmt* st;
      ~Finalize() { sqlite3_finalize(st); }
    } finalize{st};
    const int slots = sqlite3_bind_parameter_count(st);
    // A statement without placeholders (a CREATE before the INSERT that takes the values) runs
    // as it is; one with fewer placeholders than values is an error.
    if (slots > 0 && static_cast<int>(params.size()) > slots) {
      out->error = "Wrong number of parameter bindings for SQL query.";
      out->error_code = "SQLITE_ERROR";
      return false;
    }
    for (std::size_t i = 0; slots > 0 && i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Param& p = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        sqlite3_bind_int64(st, index, *n);
      } else if (const auto* d = std::get_if<double>(&p)) {
        sqlite3_bind_double(st, index, *d);
      } else if (const auto* t = std::get_if<std::string>(&p)) {
        sqlite3_bind_text(st, index, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
      } else if (const auto* b = std::get_if<Blob>(&p)) {
        sqlite3_bind_blob(st, index, b->bytes.empty() ? "" : b->bytes.data(),
                          static_cast<int>(b->bytes.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(st, index);
      }
    }
    const bool writes = sqlite3_stmt_readonly(st) == 0;
    out->read_only = out->read_only && !writes;
    const int columns = sqlite3_column_count(st);
    if (columns > 0) {
      out->columns.clear();
      out->rows.clear();
      for (int c = 0; c < columns; ++c) {
        const char* name = sqlite3_column_name(st, c);
        out->columns.push_back(name != nullptr ? name : "");
      }
    }
    const int before = sqlite3_total_changes(db_);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<Cell> row(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        Cell& cell = row[static_cast<std::size_t>(c)];
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_INTEGER:
            cell.type = Cell::Type::kInteger;
            cell.integer = sqlite3_column_int64(st, c);
            break;
          case SQLITE_FLOAT:
            cell.type = Cell::Type::kReal;
            cell.real = sqlite3_column_double(st, c);
            break;
          case SQLITE_TEXT:
            cell.type = Cell::Type::kText;
            cell.bytes = column_text(st, c);
            break;
          case SQLITE_BLOB:
            cell.type = Cell::Type::kBlob;
            cell.bytes = column_blob(st, c);
            break;
          default:
            break;
        }
      }
      out->rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return fail(rc);
    out->rows_read += static_cast<std::uint64_t>(
        sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0) + out->rows.size());
    if (writes) {
      out->changes += sqlite3_total_changes(db_) - before;
      out->last_row_id = sqlite3_last_insert_rowid(db_);
    }
  }
  return true;
}

bool SqlDb::read_only(std::string_view sql) {
  if (db_ == nullptr) return true;
  const char* at = sql.data();
  const char* end = sql.data() + sql.size();
  while (at < end) {
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, at, static_cast<int>(end - at), &st, &tail) != SQLITE_OK) {
      sqlite3_finalize(st);
      return false;
    }
    const bool ro = st == nullptr || sqlite3_stmt_readonly(st) != 0;
    sqlite3_finalize(st);
    if (!ro) return false;
    at = tail;
  }
  return true;
}

void SqlDb::limit_variables(int n) {
  if (db_ != nullptr) sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, n);
}

std::int64_t SqlDb::size_bytes() {
  std::int64_t pages = 0, size = 0;
  (void)run("PRAGMA page_count", {}, [&](sqlite3_stmt* st) { pages = column_int(st, 0); });
  (void)run("PRAGMA page_size", {}, [&](sqlite3_stmt* st) { size = column_int(st, 0); });
  return pages * size;
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
