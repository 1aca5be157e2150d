// services::D1Service: Cloudflare D1 on simulated nodes (no JS, no V8).
//
// What it is for. A Worker's `env.DB.prepare(sql).bind(...).all()` (and `run`, `first`, `raw`,
// `batch`, `exec`, sessions) ends up here: the binding (bindings::D1Binding) calls the D1Client
// of its node, which sends the statements over sim::Rpc to a node of the database. Every node
// of a database holds a real SQLite database on its own simulated disk (sim::SqlDb). README.md
// explains the model; docs/semantics.md ("D1") the behaviour and its numbers; every number is a
// D1Config knob ("d1.*").
//
// Nodes. The first node of a database is its primary: it takes every write, in one synced
// transaction with the write's entry in its replication log, so an acknowledged write survives
// any crash. The others are read replicas: the primary pushes each log entry to each replica,
// which applies entries in order after a lag drawn from the seed (mean lag_mean; the code site
// "d1.lag_spike" adds up to lag_spike_max); a replica that missed entries (a crash, a cut link)
// pulls them from the primary when it sees a gap, at boot, and every poll_every.
//
// Routing, as the platform does it. Without a session every query goes to the primary. In a
// session (withSession): "first-primary" sends the first query to the primary;
// "first-unconstrained" sends it to the node nearest the caller; a bookmark (a session's
// position: the log sequence number the serving node had applied, as 16 hex digits, so that
// bookmarks sort as they grow) sends it to the nearest node, which serves it only once it has
// applied the bookmark: it waits up to replica_wait_max, then hands the query to the primary.
// Writes always go to the primary (a replica forwards them). Every answer carries the serving
// node's bookmark, and the session keeps the largest it has seen.
//
// Faults. Primary crash (queries fail until it restarts; nothing acknowledged is lost), replica
// crashes and lag spikes, partitions. Mutants (off by default): sessions = off (replicas ignore
// bookmarks: a session may read the past), batch_atomic = off (a batch's statements commit one
// by one, statement_time apart: a crash in between leaves it half applied).
//
// Trace events (sim/events.proto, docs/events.md): d1.query (a node served statements: the
// session's bookmark, the one it answered with, read-only or not, forwarded or not), d1.apply (a
// replica applied log entries), d1.lag_spike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/sql_db.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

namespace d1_internal {
class DbNode;
}

struct D1Config {
  sim::Duration lag_mean = 200 * sim::kMillisecond;  // a replica's apply delay (exponential)
  double lag_spike_p = 0.02;                         // code site d1.lag_spike (sites on)
  sim::Duration lag_spike_max = 10 * sim::kSecond;
  sim::Duration poll_every = 5 * sim::kSecond;    // a replica asks the primary for what it missed
  sim::Duration replica_wait_max = sim::kSecond;  // then a session query goes to the primary
  sim::Duration query_timeout = 30 * sim::kSecond;
  sim::Duration statement_time = sim::kMillisecond;  // simulated execution time per statement
  std::int64_t params_max = 100;                     // bound parameters per statement
  std::int64_t database_bytes_max = std::int64_t{10} * 1000 * 1000 * 1000;  // 10 GB
  // Mutants.
  bool sessions = true;
  bool batch_atomic = true;

  static const sim::Knobs<D1Config>& knobs();
};

struct D1Statement {
  std::string sql;
  std::vector<sim::SqlDb::Param> params;
};

// What a Worker asks: one statement (prepare().run/all/first/raw), a batch, or exec's lines.
struct D1Request {
  std::string database;
  std::vector<D1Statement> statements;
  // "" (no session: the primary), "first-primary", "first-unconstrained", or a bookmark.
  std::string session;
  bool exec = false;  // exec(): each statement on its own, stop at the first error
};

struct D1StatementResult {
  bool ok = true;
  std::string error;  // "no such table: x: SQLITE_ERROR"
  std::vector<std::string> columns;
  std::vector<std::vector<sim::SqlDb::Cell>> rows;
  std::int64_t changes = 0;
  std::int64_t last_row_id = 0;
  std::uint64_t rows_read = 0;
  std::uint64_t rows_written = 0;
  double duration_ms = 0;
};

struct D1Response {
  std::vector<D1StatementResult> results;
  std::string bookmark;  // the serving node's position after the query
  std::string served_by;
  std::string served_by_region;
  bool served_by_primary = true;
  bool changed_db = false;
  std::int64_t size_after = 0;
};

class D1Service;

// The D1 API of one node (a PoP, a DO host).
class D1Client {
 public:
  // Sends `request` to the node its session routes it to. Errors: kInvalid (an unknown
  // database), kUnreachable / kTimeout (the node did not answer). Suspends; REQUIRES: `task`
  // runs on this client's node.
  sim::Result<D1Response> query(sim::Task& task, const D1Request& request);

 private:
  friend class D1Service;
  D1Client(D1Service& service, sim::Node& node) : service_(service), node_(node) {}
  D1Service& service_;
  sim::Node& node_;
};

class D1Service {
 public:
  struct Stats {
    std::uint64_t queries = 0;        // served (any node)
    std::uint64_t replica_reads = 0;  // served by a replica
    std::uint64_t forwarded = 0;      // handed to the primary by a replica
    std::uint64_t writes = 0;         // log entries committed
    std::uint64_t applied = 0;        // log entries applied by replicas
  };

  D1Service(sim::World& world, D1Config config);
  D1Service(const D1Service&) = delete;
  D1Service& operator=(const D1Service&) = delete;
  ~D1Service();

  // Declares a database on `nodes` (the first is the primary) with its migrations (SQL, in
  // order), applied by the primary at its first boot. REQUIRES: before World::start().
  void add_database(const std::string& id, const std::vector<sim::Node*>& nodes,
                    std::vector<std::pair<std::string, std::string>> migrations);
  D1Client& attach(sim::Node& node);

  const D1Config& config() const { return config_; }
  sim::World& world() const { return world_; }
  const Stats& stats() const { return stats_; }

 private:
  friend class D1Client;
  friend class d1_internal::DbNode;
  struct Database {
    std::string id;
    std::vector<d1_internal::DbNode*> nodes;  // [0] is the primary
    std::vector<std::pair<std::string, std::string>> migrations;
  };
  const Database* database(std::string_view id) const;

  sim::World& world_;
  D1Config config_;
  std::map<std::string, Database, std::less<>> databases_;
  std::vector<std::unique_ptr<d1_internal::DbNode>> nodes_;
  std::map<sim::NodeId, std::unique_ptr<D1Client>> clients_;
  Stats stats_;
};

}  // namespace services
