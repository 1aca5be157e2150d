// The DO directory: placement, leases with persisted epochs, and the alarm registry.
#include <sqlite3.h>

#include <algorithm>

#include "platform/services/do/do_internal.h"
#include "sim/location.h"
#include "sim/rpc.h"

namespace services::do_internal {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS grants(key TEXT PRIMARY KEY, epoch INTEGER NOT NULL,"
    "  host INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alarms(key TEXT PRIMARY KEY, alarm INTEGER,"
    "  epoch INTEGER NOT NULL, seq INTEGER NOT NULL);";

// Bounds on one request and one scan.
constexpr std::uint64_t kAvoidMax = 16;
constexpr std::uint64_t kRenewBatchMax = 100'000;
constexpr std::uint64_t kAlarmBatchMax = 1'000;
constexpr int kWakesPerScanMax = 32;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

}  // namespace

DirectoryRole::DirectoryRole(DoCluster& cluster, sim::Node& node) : c_(cluster), node_(node) {}

void DirectoryRole::boot() {
  sim::World& w = c_.world_;
  rng_ = w.rng("do/directory/" + node_.name()).fork(std::to_string(node_.incarnation()));
  leases_.clear();
  placements_.clear();
  records_.clear();
  alarms_.clear();
  host_failed_until_.clear();
  // The lease table died with the previous incarnation: leases granted then may live for up to
  // one lease_duration, so no conflicting grant until that has passed.
  grace_until_ = node_.incarnation() > 1 ? w.now() + c_.config_.lease_duration : 0;
  db_ok_ = load_tables();
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_directory_boot();
    e.set_grants(records_.size());
    e.set_alarms(alarms_.size());
    e.set_grace_until(grace_until_);
    e.set_db_failed(!db_ok_);
  });
  sim::Rpc& rpc = w.rpc();
  rpc.serve(node_, "do.locate", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_locate(t, from, req);
  });
  rpc.serve(node_, "do.acquire", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_acquire(t, from, req);
  });
  rpc.serve(node_, "do.renew", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_renew(t, from, req);
  });
  rpc.serve(node_, "do.release", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_release(t, from, req);
  });
  rpc.serve(node_, "do.alarms", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_alarms(t, from, req);
  });
  w.spawn(node_, "do.alarm_scan", [this](sim::Task& t) { alarm_scan(t); });
}

bool DirectoryRole::load_tables() {
  // Grants are persisted synced: the epochs must survive every crash.
  if (!db_.open(node_.disk(), "/do_directory.db", true, kSchema)) return false;
  SIM_ASSERT(db_.synced());
  const bool grants_ok =
      db_.run("SELECT key, epoch, host FROM grants", {}, [this](sqlite3_stmt* st) {
        const Record r{static_cast<std::uint64_t>(SqlDb::column_int(st, 1)),
                       static_cast<sim::NodeId>(SqlDb::column_int(st, 2))};
        SIM_ASSERT(r.epoch > 0);
        records_[SqlDb::column_text(st, 0)] = r;
      });
  if (!grants_ok) return false;
  return db_.run("SELECT key, alarm, epoch, seq FROM alarms", {}, [this](sqlite3_stmt* st) {
    AlarmEntry e;
    if (!SqlDb::column_null(st, 1)) e.alarm = SqlDb::column_int(st, 1);
    e.version = Version{static_cast<std::uint64_t>(SqlDb::column_int(st, 2)),
                        static_cast<std::uint64_t>(SqlDb::column_int(st, 3))};
    alarms_[SqlDb::column_text(st, 0)] = e;
  });
}

void DirectoryRole::crash() {
  db_.close();
  db_ok_ = false;
  leases_.clear();
  placements_.clear();
}

bool DirectoryRole::lease_live(std::string_view key) const {
  auto it = leases_.find(key);
  return it != leases_.end() && it->second.expiry > c_.world_.now();
}

std::optional<sim::Time> DirectoryRole::lease_expiry(std::string_view key, sim::NodeId host,
                                                     std::uint64_t epoch) const {
  auto it = leases_.find(key);
  if (it == leases_.end() || it->second.host != host || it->second.epoch != epoch) {
    return std::nullopt;
  }
  return it->second.expiry;
}

std::optional<std::uint64_t> DirectoryRole::granted_epoch(std::string_view key) const {
  if (!db_ok_) return std::nullopt;
  auto it = records_.find(key);
  return it == records_.end() ? 0 : it->second.epoch;
}

bool DirectoryRole::in_grace() const { return c_.world_.now() < grace_until_; }

bool DirectoryRole::host_ok(sim::NodeId host) const {
  auto it = host_failed_until_.find(host);
  return it == host_failed_until_.end() || it->second <= c_.world_.now();
}

sim::NodeId DirectoryRole::nearest(const sim::Location& near,
                                   const std::vector<sim::NodeId>& candidates) {
  if (candidates.empty()) return sim::kNoNode;
  double best = 0;
  std::vector<sim::NodeId> ties;
  for (const sim::NodeId h : candidates) {
    const double d = sim::distance_km(near, c_.world_.node(h).location());
    if (ties.empty() || d < best - 1e-6) {
      best = d;
      ties.assign(1, h);
    } else if (d <= best + 1e-6) {
      ties.push_back(h);
    }
  }
  return ties.size() == 1 ? ties[0] : ties[rng_.below(ties.size())];
}

sim::Result<std::string> DirectoryRole::on_locate(sim::Task& t, sim::NodeId from,
                                                  std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  const std::uint64_t n = std::min(rd.u64(), kAvoidMax);
  std::vector<sim::NodeId> avoid;
  for (std::uint64_t i = 0; i < n; ++i) avoid.push_back(static_cast<sim::NodeId>(rd.i64()));
  if (!rd.ok()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.locate"};
  const auto avoided = [&avoid](sim::NodeId h) {
    return std::find(avoid.begin(), avoid.end(), h) != avoid.end();
  };
  const auto reply = [](sim::NodeId host, bool live) {
    return Writer().i64(host).u8(live ? 1 : 0).take();
  };
  if (auto it = leases_.find(key); it != leases_.end() && it->second.expiry > t.now()) {
    // A live lease cannot move, even when this caller cannot reach its holder.
    return reply(it->second.host, true);
  }
  if (auto it = placements_.find(key);
      it != placements_.end() && it->second.until > t.now() && !avoided(it->second.host)) {
    return reply(it->second.host, false);
  }
  if (in_grace()) {
    // Its last holder may still hold a lease we forgot; only it can be granted one now.
    if (auto it = records_.find(key); it != records_.end() && !avoided(it->second.host)) {
      return reply(it->second.host, false);
    }
  }
  // Near the caller; skip hosts the caller could not reach, then those we could not reach.
  std::vector<sim::NodeId> candidates, not_avoided;
  for (const auto& [id, role] : c_.hosts_) {
    if (avoided(id)) continue;
    not_avoided.push_back(id);
    if (host_ok(id)) candidates.push_back(id);
  }
  if (candidates.empty()) candidates = not_avoided;
  if (candidates.empty()) {
    for (const auto& [id, role] : c_.hosts_) candidates.push_back(id);
  }
  const sim::NodeId host = nearest(c_.world_.node(from).location(), candidates);
  if (host == sim::kNoNode) return sim::Error{sim::ErrorKind::kUnreachable, "no DO hosts"};
  placements_[key] = Placement{host, t.now() + c_.config_.placement_ttl};
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_place();
    e.set_object(key);
    e.set_host(host);
    e.set_caller(from);
  });
  return reply(host, false);
}

sim::Result<std::string> DirectoryRole::on_acquire(sim::Task& t, sim::NodeId from,
                                                   std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  const std::uint64_t nonce = rd.u64();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.acquire"};
  if (!db_ok_) return sim::Error{sim::ErrorKind::kIo, "directory database unavailable"};
  const auto lit = leases_.find(key);
  if (lit != leases_.end() && lit->second.host == from && lit->second.nonce == nonce) {
    // A duplicated acquire: the same answer, not a second epoch.
    return Writer()
        .u8(static_cast<std::uint8_t>(AcquireStatus::kGranted))
        .u64(lit->second.epoch)
        .i64(from)
        .take();
  }
  if (lit != leases_.end() && lit->second.expiry > t.now() && lit->second.host != from) {
    return Writer()
        .u8(static_cast<std::uint8_t>(AcquireStatus::kHeld))
        .u64(0)
        .i64(lit->second.host)
        .take();
  }
  const auto rit = records_.find(key);
  if (in_grace() && rit != records_.end() && rit->second.host != from) {
    return Writer()
        .u8(static_cast<std::uint8_t>(AcquireStatus::kGrace))
        .u64(0)
        .i64(rit->second.host)
        .take();
  }
  // A new lease never overlaps another host's live one; in grace only the last holder gets one.
  SIM_ASSERT(lit == leases_.end() || lit->second.expiry <= t.now() || lit->second.host == from);
  SIM_ASSERT(!in_grace() || rit == records_.end() || rit->second.host == from);
  const std::uint64_t last = rit != records_.end() ? rit->second.epoch : 0;
  // The lease table holds only the latest grant, and the grant table lost nothing that was ever
  // granted (else an epoch would repeat).
  SIM_ASSERT(lit == leases_.end() || lit->second.epoch == last);
  std::uint64_t& ever = ever_granted_[key];
  SIM_ASSERT(last >= ever);
  const std::uint64_t epoch = last + 1;
  // Durable before anyone learns the epoch: epochs never repeat, even across crashes.
  if (!db_.run("INSERT OR REPLACE INTO grants(key, epoch, host) VALUES (?, ?, ?)",
               {std::string_view(key), i64(epoch), std::int64_t{from}})) {
    return sim::Error{sim::ErrorKind::kIo, "directory: " + db_.error()};
  }
  // Committed and synced, not pending in an open transaction or a write-back cache.
  SIM_ASSERT(db_.synced());
  SIM_ASSERT(!db_.in_transaction());
  SIM_ASSERT(epoch > ever);
  ever = epoch;
  records_[key] = Record{epoch, from};
  leases_[key] = Lease{from, epoch, t.now() + c_.config_.lease_duration, nonce};
  placements_.erase(key);
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_grant();
    e.set_object(key);
    e.set_host(from);
    e.set_epoch(epoch);
  });
  return Writer()
      .u8(static_cast<std::uint8_t>(AcquireStatus::kGranted))
      .u64(epoch)
      .i64(from)
      .take();
}

sim::Result<std::string> DirectoryRole::on_renew(sim::Task& t, sim::NodeId from,
                                                 std::string_view req) {
  Reader rd(req);
  const std::uint64_t n = rd.u64();
  if (!rd.ok() || n > kRenewBatchMax) return sim::Error{sim::ErrorKind::kInvalid, "bad do.renew"};
  Writer out;
  out.u64(n);
  std::vector<std::pair<std::string, std::uint64_t>> items;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string key = rd.str();
    const std::uint64_t epoch = rd.u64();
    items.emplace_back(std::move(key), epoch);
  }
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.renew"};
  for (const auto& [key, epoch] : items) {
    bool ok = false;
    auto lit = leases_.find(key);
    if (lit != leases_.end()) {
      // Extending past expiry is safe while no newer epoch was granted: the holder is the only
      // one that can use this epoch.
      ok = lit->second.host == from && lit->second.epoch == epoch;
    } else if (auto rit = records_.find(key); rit != records_.end()) {
      // After a restart: the latest grant, renewed by its holder, is still its lease.
      ok = rit->second.host == from && rit->second.epoch == epoch;
    }
    if (ok) {
      // Only the latest grant is renewed, and a renewal never shortens a lease.
      SIM_ASSERT(records_.count(key) == 1);
      SIM_ASSERT(records_.find(key)->second.epoch == epoch);
      Lease& l = leases_[key];
      const std::uint64_t nonce = l.nonce;
      const sim::Time before = l.expiry;
      l = Lease{from, epoch, std::max(l.expiry, t.now() + c_.config_.lease_duration), nonce};
      SIM_ASSERT(l.expiry >= before);
    }
    out.u8(ok ? 1 : 0);
  }
  return out.take();
}

sim::Result<std::string> DirectoryRole::on_release(sim::Task& t, sim::NodeId from,
                                                   std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  const std::uint64_t epoch = rd.u64();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.release"};
  auto it = leases_.find(key);
  if (it != leases_.end() && it->second.host == from && it->second.epoch == epoch) {
    it->second.expiry = std::min(it->second.expiry, t.now());
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_released();
      e.set_object(key);
      e.set_host(from);
      e.set_epoch(epoch);
    });
  }
  return std::string();
}

sim::Result<std::string> DirectoryRole::on_alarms(sim::Task& t, sim::NodeId from,
                                                  std::string_view req) {
  Reader rd(req);
  const std::uint64_t n = rd.u64();
  if (!rd.ok() || n > kAlarmBatchMax) return sim::Error{sim::ErrorKind::kInvalid, "bad do.alarms"};
  struct Item {
    std::string key;
    Version version;
    std::optional<sim::Time> alarm;
  };
  std::vector<Item> items;
  for (std::uint64_t i = 0; i < n; ++i) {
    Item it;
    it.key = rd.str();
    it.version.epoch = rd.u64();
    it.version.seq = rd.u64();
    it.alarm = rd.opt_time();
    items.push_back(std::move(it));
  }
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.alarms"};
  if (!db_ok_) return sim::Error{sim::ErrorKind::kIo, "directory database unavailable"};
  if (!db_.exec("BEGIN")) return sim::Error{sim::ErrorKind::kIo, "directory: " + db_.error()};
  std::vector<const Item*> applied;
  for (const Item& item : items) {
    auto it = alarms_.find(item.key);
    // The newest version wins; a stale replica's report changes nothing.
    if (it != alarms_.end() && !(it->second.version < item.version)) continue;
    const bool ok =
        db_.run("INSERT OR REPLACE INTO alarms(key, alarm, epoch, seq) VALUES (?, ?, ?, ?)",
                {std::string_view(item.key),
                 item.alarm ? SqlDb::Value(*item.alarm) : SqlDb::Value(std::monostate{}),
                 i64(item.version.epoch), i64(item.version.seq)});
    if (!ok) {
      const std::string why = db_.error();
      db_.exec("ROLLBACK");
      return sim::Error{sim::ErrorKind::kIo, "directory: " + why};
    }
    applied.push_back(&item);
  }
  if (!db_.exec("COMMIT")) {
    const std::string why = db_.error();
    db_.exec("ROLLBACK");
    return sim::Error{sim::ErrorKind::kIo, "directory: " + why};
  }
  for (const Item* item : applied) {
    // The newest version wins: an entry only moves forward (a replica reports each key once).
    if (auto it = alarms_.find(item->key); it != alarms_.end()) {
      SIM_ASSERT(it->second.version < item->version);
    }
    AlarmEntry& e = alarms_[item->key];
    e.alarm = item->alarm;
    e.version = item->version;
    e.woken_at = -1;
    emit([&](sim::ev::Body& b) {
      auto& ev = *b.mutable_do_alarm_registered();
      ev.set_object(item->key);
      if (item->alarm) ev.set_alarm(*item->alarm);
      ev.set_epoch(item->version.epoch);
      ev.set_seq(item->version.seq);
      ev.set_from(from);
    });
  }
  return std::string();
}

void DirectoryRole::alarm_scan(sim::Task& t) {
  for (;;) {
    t.sleep(c_.config_.alarm_scan_every);
    const sim::Time now = t.now();
    std::vector<std::pair<std::string, sim::NodeId>> wakes;
    for (auto& [key, e] : alarms_) {
      if (!e.alarm.has_value() || *e.alarm > now) continue;
      if (lease_live(key)) continue;  // its holder fires it
      if (e.woken_at >= 0 && now - e.woken_at < c_.config_.alarm_wake_retry) continue;
      const auto rit = records_.find(key);
      sim::NodeId host = sim::kNoNode;
      if (rit != records_.end() && host_ok(rit->second.host)) {
        host = rit->second.host;
      } else if (!in_grace() || rit == records_.end()) {
        std::vector<sim::NodeId> candidates;
        for (const auto& [id, role] : c_.hosts_) {
          if (host_ok(id)) candidates.push_back(id);
        }
        const sim::Location& near =
            rit != records_.end() ? c_.world_.node(rit->second.host).location() : node_.location();
        host = nearest(near, candidates);
      }
      if (host == sim::kNoNode) continue;
      e.woken_at = now;
      wakes.emplace_back(key, host);
      if (static_cast<int>(wakes.size()) >= kWakesPerScanMax) break;
    }
    for (auto& [key, host] : wakes) {
      c_.world_.spawn(node_, "do.wake", [this, key, host](sim::Task& wt) { wake(wt, key, host); });
    }
  }
}

void DirectoryRole::wake(sim::Task& t, std::string key, sim::NodeId host) {
  ++c_.stats_.wakes;
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_wake();
    e.set_object(key);
    e.set_host(host);
  });
  auto r = c_.world_.rpc().call(t, host, "do.wake", Writer().str(key).take(),
                                c_.config_.request_timeout);
  if (!r.ok() && (r.error().kind == sim::ErrorKind::kUnreachable ||
                  r.error().kind == sim::ErrorKind::kTimeout)) {
    host_failed_until_[host] = t.now() + c_.config_.host_failed_ttl;
  }
}

}  // namespace services::do_internal
