// A DO storage replica: promises and images in SQLite on the node's simulated disk.
#include <sqlite3.h>

#include "platform/services/do/do_internal.h"
#include "sim/assert.h"
#include "sim/rpc.h"

namespace services::do_internal {

namespace {

// image IS NULL: nothing written yet (epoch = seq = 0). alarm_dirty: the alarm changed and the
// directory has not acknowledged hearing about it.
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS objects(key TEXT PRIMARY KEY, promised INTEGER NOT NULL,"
    "  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, image BLOB, alarm INTEGER,"
    "  alarm_dirty INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS objects_dirty ON objects(alarm_dirty) WHERE alarm_dirty = 1;"
    "CREATE TABLE IF NOT EXISTS flushes(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO flushes(id, n) VALUES (1, 0);";

constexpr int kReportBatchMax = 64;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

SqlDb::Value time_value(const std::optional<sim::Time>& t) {
  return t ? SqlDb::Value(*t) : SqlDb::Value(std::monostate{});
}

}  // namespace

StorageRole::StorageRole(DoCluster& cluster, sim::Node& node) : c_(cluster), node_(node) {}

void StorageRole::boot() {
  sim::World& w = c_.world_;
  db_ok_ = db_.open(node_.disk(), "/do_storage.db", c_.config_.storage_sync, kSchema);
  maybe_dirty_ = true;
  if (!db_ok_) {
    emit([](sim::ev::Body& b) {
      b.mutable_do_storage_failed()->set_why("cannot open /do_storage.db");
    });
  }
  w.rpc().serve(node_, "do.promise", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_promise(t, from, req);
  });
  w.rpc().serve(node_, "do.write", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_write(t, from, req);
  });
  w.spawn(node_, "do.alarm_report", [this](sim::Task& t) { report_loop(t); });
  if (!c_.config_.storage_sync) {
    w.spawn(node_, "do.flush", [this](sim::Task& t) { flush_loop(t); });
  }
}

void StorageRole::crash() {
  db_.close();
  db_ok_ = false;
}

std::optional<StorageRole::Row> StorageRole::load(const std::string& key) {
  Row row;
  const bool ok =
      db_.run("SELECT promised, epoch, seq, image, alarm, alarm_dirty FROM objects WHERE key = ?",
              {std::string_view(key)}, [&row](sqlite3_stmt* st) {
                row.exists = true;
                row.promised = static_cast<std::uint64_t>(SqlDb::column_int(st, 0));
                row.version = Version{static_cast<std::uint64_t>(SqlDb::column_int(st, 1)),
                                      static_cast<std::uint64_t>(SqlDb::column_int(st, 2))};
                row.has_image = !SqlDb::column_null(st, 3);
                if (row.has_image) row.image = SqlDb::column_blob(st, 3);
                if (!SqlDb::column_null(st, 4)) row.alarm = SqlDb::column_int(st, 4);
                row.alarm_dirty = SqlDb::column_int(st, 5) != 0;
              });
  if (!ok) return std::nullopt;
  return row;
}

void StorageRole::check_durable(const std::string& key, const Row& row) const {
  // Without synced writes a crash may tear the database: nothing below holds then.
  if (!c_.config_.storage_sync) return;
  // Promises and versions grow together: a stored version never outruns its promise.
  SIM_ASSERT(row.version.epoch <= row.promised);
  auto it = acknowledged_.find(key);
  if (it == acknowledged_.end()) return;
  // What this replica acknowledged is still on its disk, across crashes. The stored version
  // only grows when replicas fence (without fencing the last writer wins).
  SIM_ASSERT(row.promised >= it->second.promised);
  if (c_.config_.fencing) SIM_ASSERT(!(row.version < it->second.version));
}

void StorageRole::acknowledge(const std::string& key, std::uint64_t promised,
                              const Version& version) {
  Acknowledged& a = acknowledged_[key];
  if (c_.config_.storage_sync) SIM_ASSERT(promised >= a.promised);
  if (c_.config_.storage_sync && c_.config_.fencing) SIM_ASSERT(!(version < a.version));
  a.promised = promised;
  a.version = version;
}

sim::Result<std::string> StorageRole::on_promise(sim::Task& t, sim::NodeId from,
                                                 std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  const std::uint64_t epoch = rd.u64();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.promise"};
  if (!db_ok_) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": storage unavailable"};
  std::optional<Row> row = load(key);
  if (!row) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": " + db_.error()};
  check_durable(key, *row);
  if (c_.config_.fencing && row->promised > epoch) {
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_fenced();
      e.set_object(key);
      e.set_side("replica");
      e.set_at("promise");
      e.set_epoch(epoch);
      e.set_promised(row->promised);
    });
    return Writer()
        .u8(static_cast<std::uint8_t>(ReplicaStatus::kRejected))
        .u64(row->promised)
        .take();
  }
  if (epoch > row->promised) {
    // Durable (synced) before the reply: a promise forgotten in a crash would let an older
    // epoch write again.
    const bool ok = db_.run(
        "INSERT INTO objects(key, promised, epoch, seq, image, alarm, alarm_dirty)"
        " VALUES (?, ?, 0, 0, NULL, NULL, 0)"
        " ON CONFLICT(key) DO UPDATE SET promised = excluded.promised",
        {std::string_view(key), i64(epoch)});
    if (!ok) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": " + db_.error()};
    row->promised = epoch;
  }
  // With fencing, an accepted promise is exactly the replica's promise from now on.
  if (c_.config_.fencing) SIM_ASSERT(row->promised == epoch);
  acknowledge(key, row->promised, row->version);
  return Writer()
      .u8(static_cast<std::uint8_t>(ReplicaStatus::kAccepted))
      .u64(row->promised)
      .u8(row->has_image ? 1 : 0)
      .u64(row->version.epoch)
      .u64(row->version.seq)
      .str(row->image)
      .opt_time(row->alarm)
      .take();
}

sim::Result<std::string> StorageRole::on_write(sim::Task& t, sim::NodeId from,
                                               std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  const Version v{rd.u64(), rd.u64()};
  std::string image = rd.str();
  const std::optional<sim::Time> alarm = rd.opt_time();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.write"};
  if (!db_ok_) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": storage unavailable"};
  std::optional<Row> row = load(key);
  if (!row) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": " + db_.error()};
  check_durable(key, *row);
  const auto reject = [&](const char* why) {
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_fenced();
      e.set_object(key);
      e.set_side("replica");
      e.set_at("write");
      e.set_epoch(v.epoch);
      e.set_seq(v.seq);
      e.set_promised(row->promised);
      e.set_stored_epoch(row->version.epoch);
      e.set_stored_seq(row->version.seq);
      e.set_why(why);
    });
    return Writer()
        .u8(static_cast<std::uint8_t>(ReplicaStatus::kRejected))
        .u64(row->promised)
        .take();
  };
  if (c_.config_.fencing) {
    if (v.epoch < row->promised) return reject("older epoch");
    if (row->has_image && v == row->version) {
      // A duplicated datagram: already stored.
      acknowledge(key, row->promised, row->version);
      return Writer()
          .u8(static_cast<std::uint8_t>(ReplicaStatus::kAccepted))
          .u64(row->promised)
          .take();
    }
    if (row->has_image && v < row->version) return reject("stale version");
    // Accepted: the stored version only grows, within the promise.
    SIM_ASSERT(v.epoch >= row->promised);
    SIM_ASSERT(!row->has_image || row->version < v);
  }
  const bool alarm_changed = row->has_image ? alarm != row->alarm : alarm.has_value();
  const bool dirty = row->alarm_dirty || alarm_changed;
  const std::uint64_t promised = std::max(row->promised, v.epoch);
  if (c_.config_.fencing) SIM_ASSERT(promised == v.epoch);
  // Synced before the reply (unless the storage_sync=off mutant): the acknowledgement promises
  // durability.
  const bool ok = db_.run(
      "INSERT OR REPLACE INTO objects(key, promised, epoch, seq, image, alarm, alarm_dirty)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)",
      {std::string_view(key), i64(promised), i64(v.epoch), i64(v.seq), SqlDb::Blob{image},
       time_value(alarm), std::int64_t{dirty ? 1 : 0}});
  if (!ok) return sim::Error{sim::ErrorKind::kIo, node_.name() + ": " + db_.error()};
  maybe_dirty_ = maybe_dirty_ || dirty;
  // The acknowledgement promises durability: the write is committed, and synced unless the
  // storage_sync=off mutant.
  SIM_ASSERT(!db_.in_transaction());
  SIM_ASSERT(db_.synced() == c_.config_.storage_sync);
  acknowledge(key, promised, v);
  return Writer().u8(static_cast<std::uint8_t>(ReplicaStatus::kAccepted)).u64(promised).take();
}

void StorageRole::report_loop(sim::Task& t) {
  for (;;) {
    t.sleep(c_.config_.alarm_report_every);
    if (!db_ok_ || !c_.directory_ || !maybe_dirty_) continue;
    // Cleared before the query: a dirty write while the report is on its way sets it again.
    maybe_dirty_ = false;
    struct Item {
      std::string key;
      Version version;
      std::optional<sim::Time> alarm;
    };
    std::vector<Item> items;
    const bool ok = db_.run(
        "SELECT key, epoch, seq, alarm FROM objects WHERE alarm_dirty = 1 ORDER BY key LIMIT ?",
        {std::int64_t{kReportBatchMax}}, [&items](sqlite3_stmt* st) {
          Item it;
          it.key = SqlDb::column_text(st, 0);
          it.version = Version{static_cast<std::uint64_t>(SqlDb::column_int(st, 1)),
                               static_cast<std::uint64_t>(SqlDb::column_int(st, 2))};
          if (!SqlDb::column_null(st, 3)) it.alarm = SqlDb::column_int(st, 3);
          items.push_back(std::move(it));
        });
    if (!ok) maybe_dirty_ = true;
    if (!ok || items.empty()) continue;
    if (items.size() >= static_cast<std::size_t>(kReportBatchMax))
      maybe_dirty_ = true;  // more rows than one report
    Writer w;
    w.u64(items.size());
    for (const Item& it : items) {
      w.str(it.key).u64(it.version.epoch).u64(it.version.seq).opt_time(it.alarm);
    }
    auto r = c_.world_.rpc().call(t, c_.directory_->node().id(), "do.alarms", w.take(),
                                  c_.config_.rpc_timeout);
    if (!r.ok() || !db_ok_) {
      maybe_dirty_ = true;
      continue;
    }
    // Only the versions reported: a write that came in meanwhile stays dirty.
    for (const Item& it : items) {
      if (!db_.run("UPDATE objects SET alarm_dirty = 0 WHERE key = ? AND epoch = ? AND seq = ?",
                   {std::string_view(it.key), i64(it.version.epoch), i64(it.version.seq)})) {
        maybe_dirty_ = true;
      }
    }
  }
}

void StorageRole::flush_loop(sim::Task& t) {
  // The storage_sync=off mutant: a write-back cache that reaches the disk now and then. A
  // synced transaction makes every pending write of the file durable.
  for (;;) {
    t.sleep(c_.config_.unsynced_flush_every);
    if (!db_ok_) continue;
    db_.exec(
        "PRAGMA synchronous=FULL; UPDATE flushes SET n = n + 1 WHERE id = 1;"
        " PRAGMA synchronous=OFF;");
  }
}

}  // namespace services::do_internal
