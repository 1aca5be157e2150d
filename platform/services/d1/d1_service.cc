// D1Service (d1.h): the knobs, the messages on the wire, the database nodes (primary and
// replicas), replication and session routing. The promises, asserted where they are made:
// - a write is answered only after it and its log entry are committed (synced) at the primary;
// - a replica applies log entries in sequence order, each once;
// - a session query (sessions on) is served only by a node that applied its bookmark.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <utility>

#include "platform/services/d1/d1.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/location.h"
#include "sim/rpc.h"
#include "sim/sync.h"
#include "sim/wire.h"

namespace services {

const sim::Knobs<D1Config>& D1Config::knobs() {
  using C = D1Config;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .duration("lag_mean", &C::lag_mean,
                     "mean delay before a replica applies a write (exponential)", sim::kMillisecond)
           .decimal("lag_spike_p", &C::lag_spike_p, 0, 1,
                    "chance that the d1.lag_spike code site delays a replica's apply (sites on)")
           .duration("lag_spike_max", &C::lag_spike_max, "longest replication lag spike")
           .duration("poll_every", &C::poll_every,
                     "how often a replica asks the primary for writes it missed", sim::kMillisecond)
           .duration("replica_wait_max", &C::replica_wait_max,
                     "how long a replica behind a session's bookmark waits before the query goes "
                     "to the primary",
                     sim::kMillisecond)
           .duration("query_timeout", &C::query_timeout, "how long a query waits for its node",
                     sim::kMillisecond)
           .duration("statement_time", &C::statement_time,
                     "simulated execution time of one statement", sim::kMicrosecond)
           .integer("params_max", &C::params_max, 1, 32766, "bound parameters per statement (100)")
           .integer("database_bytes_max", &C::database_bytes_max, 1, std::int64_t{1} << 50,
                    "largest database (10 GB); a write beyond it fails")
           .flag("sessions", &C::sessions,
                 "replicas wait for a session's bookmark (off: a mutant: sessions read the past)")
           .flag("batch_atomic", &C::batch_atomic,
                 "a batch commits as one transaction (off: a mutant: statement by statement, so "
                 "a crash can half-apply it)");
  return *table;
}

namespace d1_internal {

namespace {

constexpr char kQueryService[] = "d1.query";
constexpr char kPushService[] = "d1.push";
constexpr char kPullService[] = "d1.pull";
constexpr std::uint32_t kItemsMax = 100000;

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS _d1_log (seq INTEGER PRIMARY KEY, rec BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _d1_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

std::string bookmark_of(std::uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, seq);
  return buf;
}

std::optional<std::uint64_t> seq_of(const std::string& bookmark) {
  if (bookmark.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : bookmark) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

void write_param(sim::WireWriter& w, const sim::SqlDb::Param& p) {
  if (const auto* n = std::get_if<std::int64_t>(&p)) {
    w.u8(1).i64(*n);
  } else if (const auto* d = std::get_if<double>(&p)) {
    w.u8(2).f64(*d);
  } else if (const auto* t = std::get_if<std::string>(&p)) {
    w.u8(3).str(*t);
  } else if (const auto* b = std::get_if<sim::SqlDb::Blob>(&p)) {
    w.u8(4).str(b->bytes);
  } else {
    w.u8(0);
  }
}

// Blob params point into `storage` (kept alive by the caller).
sim::SqlDb::Param read_param(sim::WireReader& r, std::deque<std::string>& storage) {
  switch (r.u8()) {
    case 1:
      return r.i64();
    case 2:
      return r.f64();
    case 3:
      return r.str();
    case 4:
      storage.push_back(r.str());
      return sim::SqlDb::Blob{storage.back()};
    default:
      return std::monostate{};
  }
}

void write_statements(sim::WireWriter& w, const std::vector<D1Statement>& ss) {
  w.u32(static_cast<std::uint32_t>(ss.size()));
  for (const D1Statement& s : ss) {
    w.str(s.sql).u32(static_cast<std::uint32_t>(s.params.size()));
    for (const auto& p : s.params) write_param(w, p);
  }
}

bool read_statements(sim::WireReader& r, std::vector<D1Statement>* out,
                     std::deque<std::string>& storage) {
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kItemsMax) return false;
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    D1Statement s;
    s.sql = r.str();
    const std::uint32_t k = r.u32();
    if (!r.ok() || k > kItemsMax) return false;
    for (std::uint32_t j = 0; j < k && r.ok(); ++j) s.params.push_back(read_param(r, storage));
    out->push_back(std::move(s));
  }
  return r.ok();
}

struct WireRequest {
  D1Request request;
  std::deque<std::string> blobs;
  bool forwarded = false;
};

std::string encode(const D1Request& q, bool forwarded) {
  sim::WireWriter w;
  w.str(q.database).str(q.session).boolean(q.exec).boolean(forwarded);
  write_statements(w, q.statements);
  return w.take();
}

bool decode(std::string_view bytes, WireRequest* out) {
  sim::WireReader r(bytes);
  out->request.database = r.str();
  out->request.session = r.str();
  out->request.exec = r.boolean();
  out->forwarded = r.boolean();
  return read_statements(r, &out->request.statements, out->blobs) && r.done();
}

std::string encode(const D1Response& a) {
  sim::WireWriter w;
  w.str(a.bookmark).str(a.served_by).str(a.served_by_region).boolean(a.served_by_primary);
  w.boolean(a.changed_db).i64(a.size_after).u32(static_cast<std::uint32_t>(a.results.size()));
  for (const D1StatementResult& s : a.results) {
    w.boolean(s.ok).str(s.error).i64(s.changes).i64(s.last_row_id).u64(s.rows_read);
    w.u64(s.rows_written).f64(s.duration_ms).u32(static_cast<std::uint32_t>(s.columns.size()));
    for (const std::string& c : s.columns) w.str(c);
    w.u32(static_cast<std::uint32_t>(s.rows.size()));
    for (const auto& row : s.rows) {
      for (const sim::SqlDb::Cell& cell : row) {
        w.u8(static_cast<std::uint8_t>(cell.type)).i64(cell.integer).f64(cell.real).str(cell.bytes);
      }
    }
  }
  return w.take();
}

sim::Result<D1Response> decode_response(std::string_view bytes) {
  sim::WireReader r(bytes);
  D1Response a;
  a.bookmark = r.str();
  a.served_by = r.str();
  a.served_by_region = r.str();
  a.served_by_primary = r.boolean();
  a.changed_db = r.boolean();
  a.size_after = r.i64();
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kItemsMax) return sim::Error{sim::ErrorKind::kInvalid, "malformed D1 answer"};
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    D1StatementResult s;
    s.ok = r.boolean();
    s.error = r.str();
    s.changes = r.i64();
    s.last_row_id = r.i64();
    s.rows_read = r.u64();
    s.rows_written = r.u64();
    s.duration_ms = r.f64();
    const std::uint32_t cols = r.u32();
    if (!r.ok() || cols > kItemsMax) break;
    for (std::uint32_t c = 0; c < cols; ++c) s.columns.push_back(r.str());
    const std::uint32_t rows = r.u32();
    if (!r.ok() || rows > kItemsMax * 100) break;
    for (std::uint32_t k = 0; k < rows && r.ok(); ++k) {
      std::vector<sim::SqlDb::Cell> row(cols);
      for (sim::SqlDb::Cell& cell : row) {
        const std::uint8_t t = r.u8();
        cell.type = static_cast<sim::SqlDb::Cell::Type>(std::min<std::uint8_t>(t, 4));
        cell.integer = r.i64();
        cell.real = r.f64();
        cell.bytes = r.str();
      }
      s.rows.push_back(std::move(row));
    }
    a.results.push_back(std::move(s));
  }
  if (!r.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed D1 answer"};
  return a;
}

}  // namespace

// One node of one database: the primary (index 0) or a replica.
class DbNode {
 public:
  DbNode(D1Service& service, const std::string& database, std::size_t index, sim::Node& node)
      : service_(service), database_(database), index_(index), node_(node) {
    node.add_boot_hook([this](sim::Node& n) { boot(n); });
  }
  sim::Node& node() const { return node_; }
  bool primary() const { return index_ == 0; }

 private:
  struct Entry {
    std::uint64_t seq = 0;
    std::string rec;  // the statements, as the wire writes them
  };
  const D1Service::Database& db() const { return *service_.database(database_); }
  DbNode& primary_node() const { return *db().nodes.front(); }
  void boot(sim::Node& node);
  bool migrate();
  sim::Result<std::string> on_query(sim::Task& task, std::string_view bytes);
  // `writes`: some statement of `q` may write (decided once, by on_query).
  D1Response serve(sim::Task& task, const D1Request& q, bool writes);
  D1StatementResult run_one(const D1Statement& s);
  bool log(const std::vector<D1Statement>& statements);
  sim::Result<std::string> on_push(std::string_view bytes);
  sim::Result<std::string> on_pull(std::string_view bytes);
  void apply_loop(sim::Task& task);
  void poll_loop(sim::Task& task);
  void pull(sim::Task& task);
  bool apply(const Entry& e);
  void emit_query(const D1Request& q, const D1Response& a, bool read_only, bool forwarded);

  D1Service& service_;
  std::string database_;
  std::size_t index_;
  sim::Node& node_;
  sim::SqlDb sql_;
  sim::Rng rng_{0};
  std::uint64_t applied_ = 0;  // the last log entry in this node's database
  // Replica: entries received and not applied yet, by sequence; each with its apply time.
  std::map<std::uint64_t, std::pair<sim::Time, std::string>> pending_;
  sim::WaitQueue changed_;  // an entry arrived or was applied
  bool busy_ = false;       // the primary runs one request at a time
  sim::WaitQueue turn_;
};

void DbNode::boot(sim::Node& node) {
  sim::World& w = service_.world();
  rng_ = w.rng("d1/" + database_ + "/" + node.name()).fork(std::to_string(node.incarnation()));
  pending_.clear();
  busy_ = false;
  sql_.close();
  if (!sql_.open(node.disk(), ("/d1-" + database_ + ".db").c_str(), true, kSchema)) return;
  sql_.limit_variables(static_cast<int>(service_.config().params_max));
  applied_ = 0;
  (void)sql_.run("SELECT v FROM _d1_meta WHERE k = 'applied'", {}, [&](sqlite3_stmt* st) {
    applied_ = static_cast<std::uint64_t>(sim::SqlDb::column_int(st, 0));
  });
  if (primary() && !migrate()) return;
  w.rpc().serve(
      node, std::string(kQueryService) + ":" + database_,
      [this](sim::Task& t, sim::NodeId, std::string_view b) { return on_query(t, b); },
      sim::Rpc::Delivery::kAtMostOnce);
  if (primary()) {
    w.rpc().serve(node, std::string(kPullService) + ":" + database_,
                  [this](sim::Task&, sim::NodeId, std::string_view b) { return on_pull(b); });
  } else {
    w.rpc().serve(node, std::string(kPushService) + ":" + database_,
                  [this](sim::Task&, sim::NodeId, std::string_view b) { return on_push(b); });
    w.spawn(node, "d1-apply", [this](sim::Task& t) { apply_loop(t); });
    w.spawn(node, "d1-poll", [this](sim::Task& t) { poll_loop(t); });
  }
}

// The migrations not applied yet, each as a write of the log (replicas get them too).
bool DbNode::migrate() {
  constexpr char kTable[] =
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT "
      "UNIQUE, applied_at TEXT)";
  bool ok = true;
  for (const auto& [name, sql] : db().migrations) {
    bool done = false;
    (void)sql_.run("SELECT 1 FROM d1_migrations WHERE name = ?", {std::string_view(name)},
                   [&](sqlite3_stmt*) { done = true; });
    if (done) continue;
    // The table of applied migrations is created by the same log entry, so replicas have it.
    std::vector<D1Statement> statements = {
        {kTable, {}},
        {sql, {}},
        {"INSERT INTO d1_migrations (name, applied_at) VALUES (?, datetime('now'))", {name}}};
    ok = sql_.exec("BEGIN");
    for (const D1Statement& s : statements) {
      sim::SqlDb::Outcome o;
      ok = ok && sql_.query(s.sql, s.params, &o);
    }
    ok = ok && log(statements) && sql_.exec("COMMIT");
    if (!ok) (void)sql_.exec("ROLLBACK");
  }
  return ok;
}

// Appends the statements as the next log entry (inside the caller's transaction) and pushes it.
bool DbNode::log(const std::vector<D1Statement>& statements) {
  sim::WireWriter w;
  write_statements(w, statements);
  const std::string rec = w.take();
  const std::uint64_t seq = applied_ + 1;
  const bool ok = sql_.run("INSERT INTO _d1_log VALUES (?, ?)",
                           {static_cast<std::int64_t>(seq), sim::SqlDb::Blob{rec}}) &&
                  sql_.run("INSERT OR REPLACE INTO _d1_meta VALUES ('applied', ?)",
                           {static_cast<std::int64_t>(seq)});
  if (!ok) return false;
  applied_ = seq;
  ++service_.stats_.writes;
  sim::World& w2 = service_.world();
  const std::string push = sim::WireWriter().u64(seq).str(rec).take();
  for (std::size_t i = 1; i < db().nodes.size(); ++i) {
    const sim::NodeId dst = db().nodes[i]->node().id();
    const std::string service = std::string(kPushService) + ":" + database_;
    w2.spawn(node_, "d1-push", [&w2, dst, push, service](sim::Task& t) {
      (void)w2.rpc().call(t, dst, service, push, 10 * sim::kSecond);
    });
  }
  return true;
}

D1StatementResult DbNode::run_one(const D1Statement& s) {
  D1StatementResult r;
  sim::SqlDb::Outcome o;
  r.ok = sql_.query(s.sql, s.params, &o);
  if (!r.ok) {
    r.error = o.error + ": " + o.error_code;
    return r;
  }
  r.columns = std::move(o.columns);
  r.rows = std::move(o.rows);
  r.changes = o.changes;
  r.last_row_id = o.last_row_id;
  r.rows_read = o.rows_read;
  r.rows_written = static_cast<std::uint64_t>(o.changes);
  r.duration_ms = static_cast<double>(service_.config().statement_time) / sim::kMillisecond;
  return r;
}

sim::Result<std::string> DbNode::on_query(sim::Task& task, std::string_view bytes) {
  WireRequest wr;
  if (!decode(bytes, &wr)) return sim::Error{sim::ErrorKind::kInvalid, "malformed D1 query"};
  const D1Request& q = wr.request;
  const D1Config& c = service_.config();
  bool read_only = true;
  for (const D1Statement& s : q.statements) read_only = read_only && sql_.read_only(s.sql);
  if (!primary()) {
    // A replica serves reads at or after the session's bookmark; the rest goes to the primary.
    std::optional<std::uint64_t> need = seq_of(q.session);
    const sim::Time until = task.now() + c.replica_wait_max;
    while (read_only && c.sessions && need && applied_ < *need && task.now() < until) {
      changed_.wait(task, until);
    }
    if (!read_only || (c.sessions && need && applied_ < *need)) {
      ++service_.stats_.forwarded;
      sim::Result<std::string> a = service_.world().rpc().call(
          task, primary_node().node().id(), std::string(kQueryService) + ":" + database_,
          encode(q, true), c.query_timeout);
      return a;
    }
  }
  D1Response a = serve(task, q, !read_only);
  emit_query(q, a, read_only, wr.forwarded);
  return encode(a);
}

D1Response DbNode::serve(sim::Task& task, const D1Request& q, bool writes) {
  const D1Config& c = service_.config();
  // One request at a time: a batch's transaction never interleaves with another's statements.
  while (busy_) turn_.wait(task);
  busy_ = true;
  struct Release {
    DbNode* n;
    ~Release() {
      n->busy_ = false;
      n->turn_.notify_one(n->service_.world());
    }
  } release{this};
  D1Response a;
  bool slept = false;  // the per-statement path sleeps as it goes
  if (writes && sql_.size_bytes() > c.database_bytes_max) {
    D1StatementResult r;
    r.ok = false;
    r.error = "Exceeded maximum DB size: SQLITE_FULL";
    a.results.push_back(r);
  } else if (!writes || !primary()) {
    for (const D1Statement& s : q.statements) {
      a.results.push_back(run_one(s));
      if (!a.results.back().ok) break;
    }
  } else if ((c.batch_atomic && !q.exec) || q.statements.size() == 1) {
    // One transaction: every statement and the log entry, or nothing.
    bool ok = sql_.exec("BEGIN");
    for (const D1Statement& s : q.statements) {
      a.results.push_back(run_one(s));
      if (!a.results.back().ok) {
        ok = false;
        break;
      }
    }
    ok = ok && log(q.statements) && sql_.exec("COMMIT");
    if (!ok) {
      (void)sql_.exec("ROLLBACK");
      if (a.results.empty() || a.results.back().ok) {
        D1StatementResult r;
        r.ok = false;
        r.error = "the database's storage failed: " + sql_.error() + ": SQLITE_IOERR";
        a.results.push_back(r);
      }
    }
    a.changed_db = ok;
  } else {
    // exec(), and the mutant's batches: each statement commits on its own (the mutant's
    // statement_time after the previous one), and the first failure ends it.
    for (const D1Statement& s : q.statements) {
      bool ok = sql_.exec("BEGIN");
      a.results.push_back(run_one(s));
      ok = ok && a.results.back().ok && log({s}) && sql_.exec("COMMIT");
      if (!ok) {
        (void)sql_.exec("ROLLBACK");
        break;
      }
      a.changed_db = true;
      if (!q.exec) {
        task.sleep(c.statement_time);
        slept = true;
      }
    }
  }
  if (c.statement_time > 0 && !slept) {
    task.sleep(c.statement_time * static_cast<sim::Duration>(q.statements.size()));
  }
  a.bookmark = bookmark_of(applied_);
  a.served_by = node_.name();
  for (char ch : node_.location().region) {
    a.served_by_region += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
  }
  a.served_by_primary = primary();
  a.size_after = sql_.size_bytes();
  ++service_.stats_.queries;
  if (!primary()) ++service_.stats_.replica_reads;
  return a;
}

void DbNode::emit_query(const D1Request& q, const D1Response& a, bool read_only, bool forwarded) {
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_d1_query();
    e.set_database(database_);
    e.set_session(q.session);
    e.set_bookmark(a.bookmark);
    e.set_statements(static_cast<std::uint32_t>(q.statements.size()));
    e.set_read_only(read_only);
    e.set_forwarded(forwarded);
    e.set_ok(!a.results.empty() && a.results.back().ok);
  });
}

// ---- Replication ----

sim::Result<std::string> DbNode::on_push(std::string_view bytes) {
  sim::WireReader r(bytes);
  const std::uint64_t seq = r.u64();
  std::string rec = r.str();
  if (!r.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed D1 push"};
  if (seq <= applied_ || pending_.contains(seq)) return std::string();
  const D1Config& c = service_.config();
  sim::World& w = service_.world();
  sim::Duration lag = static_cast<sim::Duration>(rng_.exponential(static_cast<double>(c.lag_mean)));
  if (c.lag_spike_p > 0 && w.faults().sites_enabled() &&
      w.faults().fire("d1.lag_spike", c.lag_spike_p)) {
    const sim::Duration spike = rng_.uniform_int(1, std::max<sim::Duration>(1, c.lag_spike_max));
    lag += spike;
    w.emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_d1_lag_spike();
      e.set_database(database_);
      e.set_delay(spike);
    });
  }
  pending_[seq] = {w.now() + lag, std::move(rec)};
  changed_.notify_all(w);
  return std::string();
}

sim::Result<std::string> DbNode::on_pull(std::string_view bytes) {
  sim::WireReader r(bytes);
  const std::uint64_t after = r.u64();
  if (!r.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed D1 pull"};
  sim::WireWriter w;
  std::vector<Entry> entries;
  (void)sql_.run("SELECT seq, rec FROM _d1_log WHERE seq > ? ORDER BY seq LIMIT 100",
                 {static_cast<std::int64_t>(after)}, [&](sqlite3_stmt* st) {
                   entries.push_back({static_cast<std::uint64_t>(sim::SqlDb::column_int(st, 0)),
                                      sim::SqlDb::column_blob(st, 1)});
                 });
  w.u32(static_cast<std::uint32_t>(entries.size()));
  for (const Entry& e : entries) w.u64(e.seq).str(e.rec);
  return w.take();
}

void DbNode::pull(sim::Task& task) {
  sim::World& w = service_.world();
  sim::Result<std::string> reply =
      w.rpc().call(task, primary_node().node().id(), std::string(kPullService) + ":" + database_,
                   sim::WireWriter().u64(applied_).take(), 10 * sim::kSecond);
  if (!reply.ok()) return;
  sim::WireReader r(*reply);
  const std::uint32_t n = r.u32();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    const std::uint64_t seq = r.u64();
    std::string rec = r.str();
    if (seq > applied_ && !pending_.contains(seq)) {
      const sim::Duration lag = static_cast<sim::Duration>(
          rng_.exponential(static_cast<double>(service_.config().lag_mean)));
      pending_[seq] = {w.now() + lag, std::move(rec)};
    }
  }
  changed_.notify_all(w);
}

void DbNode::poll_loop(sim::Task& task) {
  pull(task);  // what this replica missed while it was down
  for (;;) {
    task.sleep(service_.config().poll_every);
    // Only when something may be missing: a gap before the first pending entry, or nothing
    // pending at all (the last push may have been lost).
    if (pending_.empty() || pending_.begin()->first != applied_ + 1) pull(task);
  }
}

void DbNode::apply_loop(sim::Task& task) {
  sim::World& w = service_.world();
  for (;;) {
    auto it = pending_.find(applied_ + 1);
    if (it == pending_.end()) {
      changed_.wait(task);
      continue;
    }
    if (it->second.first > task.now()) {
      changed_.wait(task, it->second.first);
      continue;
    }
    const Entry e{it->first, it->second.second};
    pending_.erase(it);
    if (!apply(e)) return;  // the disk failed: the node is crashing
    changed_.notify_all(w);
  }
}

bool DbNode::apply(const Entry& e) {
  SIM_ASSERT(e.seq == applied_ + 1);  // in order, each once
  sim::WireReader r(e.rec);
  std::vector<D1Statement> statements;
  std::deque<std::string> blobs;
  if (!read_statements(r, &statements, blobs)) return false;
  bool ok = sql_.exec("BEGIN");
  for (const D1Statement& s : statements) {
    sim::SqlDb::Outcome o;
    if (!sql_.query(s.sql, s.params, &o)) {
      // It succeeded at the primary: this copy diverged (SQL whose result is not a function of
      // the data, such as random()). Said in the trace; the replica goes on.
      service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
        b.mutable_sim_note()->set_text("d1 replica " + node_.name() + " of " + database_ +
                                       ": a replicated statement failed: " + o.error);
      });
    }
  }
  ok = ok &&
       sql_.run("INSERT INTO _d1_log VALUES (?, ?)",
                {static_cast<std::int64_t>(e.seq), sim::SqlDb::Blob{e.rec}}) &&
       sql_.run("INSERT OR REPLACE INTO _d1_meta VALUES ('applied', ?)",
                {static_cast<std::int64_t>(e.seq)}) &&
       sql_.exec("COMMIT");
  if (!ok) {
    (void)sql_.exec("ROLLBACK");
    return false;
  }
  applied_ = e.seq;
  ++service_.stats_.applied;
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    auto& ev = *b.mutable_d1_apply();
    ev.set_database(database_);
    ev.set_bookmark(bookmark_of(e.seq));
  });
  return true;
}

}  // namespace d1_internal

// ---- The service and its clients ----

D1Service::D1Service(sim::World& world, D1Config config)
    : world_(world), config_(std::move(config)) {}

D1Service::~D1Service() = default;

void D1Service::add_database(const std::string& id, const std::vector<sim::Node*>& nodes,
                             std::vector<std::pair<std::string, std::string>> migrations) {
  SIM_REQUIRE(!nodes.empty());
  SIM_REQUIRE(databases_.count(id) == 0);
  Database& db = databases_[id];
  db.id = id;
  db.migrations = std::move(migrations);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes_.push_back(std::make_unique<d1_internal::DbNode>(*this, id, i, *nodes[i]));
    db.nodes.push_back(nodes_.back().get());
  }
}

const D1Service::Database* D1Service::database(std::string_view id) const {
  auto it = databases_.find(id);
  return it == databases_.end() ? nullptr : &it->second;
}

D1Client& D1Service::attach(sim::Node& node) {
  auto& c = clients_[node.id()];
  if (c == nullptr) c.reset(new D1Client(*this, node));
  return *c;
}

sim::Result<D1Response> D1Client::query(sim::Task& task, const D1Request& request) {
  const D1Service::Database* db = service_.database(request.database);
  if (db == nullptr) {
    return sim::Error{sim::ErrorKind::kInvalid, "no D1 database \"" + request.database + "\""};
  }
  // The node the session routes the query to: the primary, or the nearest node.
  d1_internal::DbNode* target = db->nodes.front();
  if (!request.session.empty() && request.session != "first-primary") {
    double best = -1;
    for (d1_internal::DbNode* n : db->nodes) {
      const double d = sim::distance_km(node_.location(), n->node().location());
      if (best < 0 || d < best) {
        best = d;
        target = n;
      }
    }
  }
  sim::Result<std::string> reply = service_.world().rpc().call(
      task, target->node().id(), std::string(d1_internal::kQueryService) + ":" + request.database,
      d1_internal::encode(request, false), service_.config().query_timeout);
  if (!reply.ok()) return reply.error();
  return d1_internal::decode_response(*reply);
}

}  // namespace services
