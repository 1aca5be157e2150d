#include "platform/objects/object_storage.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/assert.h"

namespace objects {

namespace {

using json = nlohmann::json;

js::CallReply fail(std::string message) {
  return js::CallReply::failure("Error", std::move(message));
}

js::CallReply reply_json(const json& value, std::string bytes = {}, bool has_bytes = false) {
  js::CallReply r;
  r.json = value.dump();
  r.bytes = std::move(bytes);
  r.has_bytes = has_bytes;
  return r;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(in[i]) << 16) |
                            (i + 1 < in.size() ? static_cast<std::uint8_t>(in[i + 1]) << 8 : 0) |
                            (i + 2 < in.size() ? static_cast<std::uint8_t>(in[i + 2]) : 0);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kB64[n & 63] : '=';
  }
  return out;
}

bool unbase64(std::string_view in, std::string* out) {
  int value = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (p == nullptr || c == '\0') return false;
    value = (value << 6) | static_cast<int>(p - kB64);
    bits += 6;
    if (bits >= 0) {
      out->push_back(static_cast<char>((value >> bits) & 0xff));
      bits -= 8;
    }
  }
  return true;
}

bool reserved(const char* name) {
  return name != nullptr && sqlite3_strnicmp(name, "_cf_", 4) == 0;
}

// User SQL may not touch the platform's tables nor manage transactions itself.
int user_authorizer(void* user_sql, int action, const char* a1, const char* a2, const char*,
                    const char*) {
  if (!*static_cast<bool*>(user_sql)) return SQLITE_OK;  // the platform's own statements
  if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT) return SQLITE_DENY;
  if (reserved(a1) || reserved(a2)) return SQLITE_DENY;
  return SQLITE_OK;
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

// A `{values: [[key, offset, length]...]}` reply from rows (key, value) of `stmt`.
js::CallReply values_reply(sqlite3* db, sqlite3_stmt* stmt) {
  json values = json::array();
  std::string bytes;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const int n = sqlite3_column_bytes(stmt, 1);
    const auto* v = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
    values.push_back(json::array({key != nullptr ? key : "", bytes.size(), n}));
    if (n > 0) bytes.append(v, static_cast<std::size_t>(n));
  }
  if (rc != SQLITE_DONE) return fail(std::string("storage: ") + sqlite3_errmsg(db));
  return reply_json(json{{"values", std::move(values)}}, std::move(bytes), true);
}

// The SQL API's tables (not the platform's _cf_* nor SQLite's own), by name.
std::vector<std::string> user_tables(sqlite3* db) {
  std::vector<std::string> tables;
  Stmt st;
  if (sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                         "LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                         "ORDER BY name",
                         -1, &st.s, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st.s) == SQLITE_ROW) {
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0)));
    }
  }
  return tables;
}

// Binds the parameters of `stmt` from `bindings`, starting at *bound (the bindings are shared by
// every statement of a query, in order). Returns the error message, or "".
std::string bind_sql(sqlite3_stmt* stmt, const json& bindings, std::size_t* bound) {
  const int params = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= params; ++i, ++*bound) {
    if (*bound >= bindings.size()) return "Wrong number of parameter bindings for SQL query.";
    const json& b = bindings[*bound];
    if (b.is_null()) {
      sqlite3_bind_null(stmt, i);
    } else if (b.is_number_integer()) {
      sqlite3_bind_int64(stmt, i, b.get<std::int64_t>());
    } else if (b.is_number()) {
      sqlite3_bind_double(stmt, i, b.get<double>());
    } else if (b.is_string()) {
      const std::string v = b.get<std::string>();
      sqlite3_bind_text(stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    } else if (b.is_object() && b.contains("$blob")) {
      std::string blob;
      if (!unbase64(b["$blob"].get<std::string>(), &blob)) return "storage: bad blob binding";
      sqlite3_bind_blob(stmt, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    } else {
      return "Unsupported type for a SQL binding.";
    }
  }
  return "";
}

// Column `c` of the current row, as the JS side reads it (blobs as {"$blob": base64}).
json sql_value(sqlite3_stmt* stmt, int c) {
  switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(stmt, c);
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, c);
    case SQLITE_TEXT:
      return reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
    case SQLITE_BLOB: {
      const int n = sqlite3_column_bytes(stmt, c);
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
      return json{{"$blob", base64(std::string_view(p != nullptr ? p : "", n))}};
    }
    default:
      return nullptr;
  }
}

// What storage.sql.exec() returns: the last statement's columns and rows, and the counters of
// all of them.
struct SqlResult {
  json columns = json::array();
  json rows = json::array();
  std::int64_t rows_read = 0;
  std::int64_t rows_written = 0;
};

// Runs `stmt` (bound) to its end into `result`. False on an SQLite error (see sqlite3_errmsg).
bool step_sql(sqlite3* db, sqlite3_stmt* stmt, SqlResult* result) {
  result->columns = json::array();
  result->rows = json::array();
  const int ncol = sqlite3_column_count(stmt);
  for (int c = 0; c < ncol; ++c) result->columns.push_back(sqlite3_column_name(stmt, c));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    json row = json::array();
    for (int c = 0; c < ncol; ++c) row.push_back(sql_value(stmt, c));
    result->rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return false;
  // Approximations of the billing counters: rows returned plus rows a full scan stepped over;
  // rows changed.
  result->rows_read += static_cast<std::int64_t>(result->rows.size()) +
                       sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
  if (!sqlite3_stmt_readonly(stmt)) result->rows_written += sqlite3_changes(db);
  return true;
}

}  // namespace

sim::Result<std::unique_ptr<ObjectStorage>> ObjectStorage::open(std::string_view image) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return sim::Error{sim::ErrorKind::kIo, "storage: cannot open a working copy"};
  }
  std::unique_ptr<ObjectStorage> storage(new ObjectStorage(db));
  if (!image.empty()) {
    auto* buffer = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
    if (buffer == nullptr) return sim::Error{sim::ErrorKind::kIo, "storage: out of memory"};
    std::memcpy(buffer, image.data(), image.size());
    if (sqlite3_deserialize(db, "main", buffer, static_cast<sqlite3_int64>(image.size()),
                            static_cast<sqlite3_int64>(image.size()),
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
        SQLITE_OK) {
      return sim::Error{sim::ErrorKind::kInvalid, "storage: the recovered image is corrupt"};
    }
  }
  sim::Status s = storage->exec(
      "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _cf_METADATA (key TEXT PRIMARY KEY, value) WITHOUT ROWID;");
  if (!s.ok()) return s.error();
  return storage;
}

ObjectStorage::~ObjectStorage() { sqlite3_close(db_); }

sim::Status ObjectStorage::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = std::string("storage: ") + (error != nullptr ? error : "failed");
    sqlite3_free(error);
    return sim::Error{sim::ErrorKind::kIo, std::move(message)};
  }
  return sim::Status::Ok();
}

sim::Status ObjectStorage::begin_batch() {
  if (batch_open_) return sim::Status::Ok();
  sim::Status s = exec("BEGIN");
  if (s.ok()) batch_open_ = true;
  return s;
}

std::string ObjectStorage::take_image() {
  SIM_REQUIRE(!in_transaction());
  if (batch_open_) {
    sim::Status s = exec("COMMIT");
    SIM_ASSERT(s.ok());
    batch_open_ = false;
  }
  dirty_ = false;
  sqlite3_int64 size = 0;
  unsigned char* data = sqlite3_serialize(db_, "main", &size, 0);
  std::string image;
  if (data != nullptr)
    image.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
  sqlite3_free(data);
  return image;
}

void ObjectStorage::discard_batch() {
  if (batch_open_) (void)exec("ROLLBACK");
  batch_open_ = false;
  savepoints_ = 0;
  dirty_ = false;
}

std::optional<double> ObjectStorage::alarm() const {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM _cf_METADATA WHERE key = 'alarm'", -1, &st.s,
                         nullptr) != SQLITE_OK) {
    return std::nullopt;
  }
  if (sqlite3_step(st.s) != SQLITE_ROW || sqlite3_column_type(st.s, 0) == SQLITE_NULL) {
    return std::nullopt;
  }
  return sqlite3_column_double(st.s, 0);
}

std::uint64_t ObjectStorage::size_bytes() const {
  Stmt st;
  if (sqlite3_prepare_v2(
          db_, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1,
          &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW) {
    return 0;
  }
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

js::CallReply ObjectStorage::call(const js::CallRequest& request) {
  try {
    return call_checked(request);
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("storage: malformed arguments to ") + request.method + ": " + e.what());
  }
}

ObjectStorage::Method ObjectStorage::method(std::string_view name) {
  static const std::map<std::string, Method, std::less<>> kMethods = {
      {"get", &ObjectStorage::get},
      {"put", &ObjectStorage::put},
      {"delete", &ObjectStorage::delete_keys},
      {"list", &ObjectStorage::list},
      {"deleteAll", &ObjectStorage::delete_all},
      {"begin", &ObjectStorage::begin},
      {"release", &ObjectStorage::release},
      {"rollback", &ObjectStorage::rollback},
      {"getAlarm", &ObjectStorage::get_alarm},
      {"setAlarm", &ObjectStorage::set_alarm},
      {"deleteAlarm", &ObjectStorage::delete_alarm},
      {"dbsize", &ObjectStorage::dbsize},
      {"sql", &ObjectStorage::sql},
  };
  auto it = kMethods.find(name);
  return it == kMethods.end() ? nullptr : it->second;
}

js::CallReply ObjectStorage::call_checked(const js::CallRequest& request) {
  // Arguments are parsed before the method is looked up: malformed JSON is reported as such
  // whatever the method.
  json args = json::parse(request.json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) return fail("storage: malformed arguments");
  const Method m = method(request.method);
  if (m == nullptr) return fail("storage: unknown method " + request.method);
  return (this->*m)(request, args);
}

sim::Status ObjectStorage::begin_write() {
  sim::Status s = begin_batch();
  if (s.ok()) dirty_ = true;
  return s;
}

js::CallReply ObjectStorage::get(const js::CallRequest&, json& args) {
  if (!args.contains("keys") || !args["keys"].is_array()) return fail("storage: get needs keys");
  json values = json::array();
  std::string bytes;
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM _cf_KV WHERE key = ?1", -1, &st.s, nullptr) !=
      SQLITE_OK) {
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  }
  for (const json& k : args["keys"]) {
    const std::string key = k.get<std::string>();
    sqlite3_reset(st.s);
    sqlite3_bind_text(st.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st.s) == SQLITE_ROW) {
      const int n = sqlite3_column_bytes(st.s, 0);
      values.push_back(json::array({key, bytes.size(), n}));
      if (n > 0) bytes.append(static_cast<const char*>(sqlite3_column_blob(st.s, 0)), n);
    }
  }
  // As the real API: a multi-key get returns its Map in key order.
  std::vector<json> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) {
    return a[0].get<std::string>() < b[0].get<std::string>();
  });
  return reply_json(json{{"values", sorted}}, std::move(bytes), true);
}

js::CallReply ObjectStorage::put(const js::CallRequest& request, json& args) {
  if (!args.contains("entries") || !args["entries"].is_array())
    return fail("storage: put needs entries");
  if (sim::Status s = begin_write(); !s.ok()) return fail(s.error().message);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?1, ?2)", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  }
  std::size_t at = 0;
  for (const json& e : args["entries"]) {
    const std::string key = e[0].get<std::string>();
    const std::size_t n = e[1].get<std::size_t>();
    if (at + n > request.bytes.size()) return fail("storage: put values truncated");
    sqlite3_reset(st.s);
    sqlite3_bind_text(st.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(st.s, 2, request.bytes.data() + at, static_cast<int>(n), SQLITE_TRANSIENT);
    if (sqlite3_step(st.s) != SQLITE_DONE)
      return fail(std::string("storage: ") + sqlite3_errmsg(db_));
    at += n;
  }
  return reply_json(nullptr);
}

js::CallReply ObjectStorage::delete_keys(const js::CallRequest&, json& args) {
  if (!args.contains("keys") || !args["keys"].is_array()) return fail("storage: delete needs keys");
  if (sim::Status s = begin_write(); !s.ok()) return fail(s.error().message);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "DELETE FROM _cf_KV WHERE key = ?1", -1, &st.s, nullptr) !=
      SQLITE_OK) {
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  }
  int deleted = 0;
  for (const json& k : args["keys"]) {
    const std::string key = k.get<std::string>();
    sqlite3_reset(st.s);
    sqlite3_bind_text(st.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st.s) != SQLITE_DONE)
      return fail(std::string("storage: ") + sqlite3_errmsg(db_));
    deleted += sqlite3_changes(db_);
  }
  return reply_json(json{{"deleted", deleted}});
}

js::CallReply ObjectStorage::list(const js::CallRequest&, json& args) {
  std::string sql = "SELECT key, value FROM _cf_KV WHERE 1";
  std::vector<std::string> binds;
  auto add = [&](const char* field, const char* clause) {
    if (args.is_object() && args.contains(field)) {
      binds.push_back(args[field].get<std::string>());
      sql += std::string(" AND ") + clause + std::to_string(binds.size());
    }
  };
  add("start", "key >= ?");
  add("startAfter", "key > ?");
  add("end", "key < ?");
  if (args.is_object() && args.contains("prefix")) {
    binds.push_back(args["prefix"].get<std::string>());
    const std::string n = std::to_string(binds.size());
    sql += " AND substr(key, 1, length(?" + n + ")) = ?" + n;
  }
  const bool reverse = args.is_object() && args.value("reverse", false);
  sql += reverse ? " ORDER BY key DESC" : " ORDER BY key ASC";
  if (args.is_object() && args.contains("limit")) {
    sql += " LIMIT " + std::to_string(args["limit"].get<std::int64_t>());
  }
  Stmt st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) {
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  }
  for (std::size_t i = 0; i < binds.size(); ++i) {
    sqlite3_bind_text(st.s, static_cast<int>(i + 1), binds[i].data(),
                      static_cast<int>(binds[i].size()), SQLITE_TRANSIENT);
  }
  return values_reply(db_, st.s);
}

js::CallReply ObjectStorage::delete_all(const js::CallRequest&, json&) {
  if (sim::Status s = begin_write(); !s.ok()) return fail(s.error().message);
  // deleteAll() also drops the SQL API's tables, as in production (the alarm stays).
  for (const std::string& t : user_tables(db_)) {
    std::string drop = "DROP TABLE \"";
    for (char c : t) drop += c == '"' ? std::string("\"\"") : std::string(1, c);
    drop += "\"";
    if (sim::Status s = exec(drop.c_str()); !s.ok()) return fail(s.error().message);
  }
  if (sim::Status s = exec("DELETE FROM _cf_KV"); !s.ok()) return fail(s.error().message);
  return reply_json(nullptr);
}

js::CallReply ObjectStorage::begin(const js::CallRequest&, json&) {
  if (sim::Status s = begin_batch(); !s.ok()) return fail(s.error().message);
  const std::string sp = "SAVEPOINT t" + std::to_string(savepoints_);
  if (sim::Status s = exec(sp.c_str()); !s.ok()) return fail(s.error().message);
  ++savepoints_;
  return reply_json(nullptr);
}

js::CallReply ObjectStorage::release(const js::CallRequest&, json&) {
  return end_transaction(/*rollback=*/false);
}

js::CallReply ObjectStorage::rollback(const js::CallRequest&, json&) {
  return end_transaction(/*rollback=*/true);
}

js::CallReply ObjectStorage::end_transaction(bool rollback) {
  if (savepoints_ == 0) return fail("storage: no transaction is open");
  --savepoints_;
  const std::string name = "t" + std::to_string(savepoints_);
  if (rollback) {
    if (sim::Status s = exec(("ROLLBACK TO " + name).c_str()); !s.ok())
      return fail(s.error().message);
  }
  if (sim::Status s = exec(("RELEASE " + name).c_str()); !s.ok()) return fail(s.error().message);
  return reply_json(nullptr);
}

js::CallReply ObjectStorage::get_alarm(const js::CallRequest&, json&) {
  std::optional<double> t = alarm();
  return reply_json(json{{"time", t ? json(*t) : json(nullptr)}});
}

js::CallReply ObjectStorage::set_alarm(const js::CallRequest&, json& args) {
  return write_alarm(&args);
}

js::CallReply ObjectStorage::delete_alarm(const js::CallRequest&, json&) {
  return write_alarm(nullptr);
}

js::CallReply ObjectStorage::write_alarm(const json* args) {
  // The batch opens before the time is read, so a setAlarm whose time is malformed still leaves a
  // (possibly empty) batch behind: kept as it was.
  if (sim::Status s = begin_write(); !s.ok()) return fail(s.error().message);
  Stmt st;
  const char* sql = args != nullptr
                        ? "INSERT OR REPLACE INTO _cf_METADATA (key, value) VALUES ('alarm', ?1)"
                        : "DELETE FROM _cf_METADATA WHERE key = 'alarm'";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  }
  if (args != nullptr) sqlite3_bind_double(st.s, 1, args->value("time", 0.0));
  if (sqlite3_step(st.s) != SQLITE_DONE)
    return fail(std::string("storage: ") + sqlite3_errmsg(db_));
  return reply_json(nullptr);
}

js::CallReply ObjectStorage::dbsize(const js::CallRequest&, json&) {
  return reply_json(json{{"size", size_bytes()}});
}

js::CallReply ObjectStorage::sql(const js::CallRequest&, json& args) {
  const std::string query = args.value("query", "");
  const json bindings = args.value("bindings", json::array());
  // The authorizer fences user SQL off the platform's tables; it is lifted for the platform's
  // own statement that opens the batch.
  bool user_sql = true;
  sqlite3_set_authorizer(db_, &user_authorizer, &user_sql);
  struct Unset {
    sqlite3* db;
    ~Unset() { sqlite3_set_authorizer(db, nullptr, nullptr); }
  } unset{db_};
  SqlResult result;
  const char* tail = query.c_str();
  const char* end = tail + query.size();
  std::size_t bound = 0;
  while (tail < end) {
    Stmt st;
    if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &st.s, &tail) != SQLITE_OK) {
      return fail(std::string(sqlite3_errmsg(db_)) + ": SQLITE_ERROR");
    }
    if (st.s == nullptr) continue;  // whitespace or a comment
    if (!sqlite3_stmt_readonly(st.s)) {
      user_sql = false;
      sim::Status s = begin_write();
      user_sql = true;
      if (!s.ok()) return fail(s.error().message);
    }
    if (std::string error = bind_sql(st.s, bindings, &bound); !error.empty()) return fail(error);
    if (!step_sql(db_, st.s, &result)) {
      return fail(std::string(sqlite3_errmsg(db_)) + ": SQLITE_ERROR");
    }
  }
  if (bound != bindings.size()) return fail("Wrong number of parameter bindings for SQL query.");
  return reply_json(json{{"columns", result.columns},
                         {"rows", result.rows},
                         {"rowsRead", result.rows_read},
                         {"rowsWritten", result.rows_written}});
}

}  // namespace objects
