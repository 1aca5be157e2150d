// The kernel demo: PoPs around the world ping each other over RPC, and each receiver records every
// ping in a ledger, a SQLite table on its simulated disk, before acknowledging it. Faults cut the
// network, crash and pause nodes, lose and duplicate messages.
//
// Properties:
// - acked-pings-durable: every acknowledged ping is in the receiver's ledger after the run, even
//   across crashes (the variant "pingpong-unsynced" turns SQLite's sync off and loses them);
// - no-delivery-across-partition: no message arrived while its link was cut (checked from the
//   trace events, independently of the network's own bookkeeping);
// - recovers-after-faults: once faults stop, every node gets a ping acknowledged again.
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "scenarios/scenario.h"
#include "sim/disk.h"
#include "sim/events.h"
#include "sim/network.h"
#include "sim/rpc.h"

namespace scenarios {
namespace {

constexpr const char* kLocations[] = {"lhr", "iad", "fra", "sin", "syd"};

// Watches trace events and checks that no delivery crossed a cut link.
class PartitionWatch : public sim::EventSink {
 public:
  explicit PartitionWatch(sim::World& w) : w_(w) {}
  void on_event(const sim::TraceEvent& e) override {
    const sim::ev::Body& b = *e.body;
    if (b.has_net_partition()) {
      const sim::ev::NetPartition& p = b.net_partition();
      for (sim::NodeId x : p.a()) {
        for (sim::NodeId y : p.b()) {
          cut_.insert({x, y});
          if (!p.one_way()) cut_.insert({y, x});
        }
      }
    } else if (b.has_net_heal()) {
      cut_.clear();
    } else if (b.has_net_deliver() && e.node >= 0) {
      const sim::NodeId from = b.net_deliver().from();
      if (cut_.count({from, e.node}) && violation_.empty()) {
        const std::string& f = w_.node(from).name();
        const std::string& to = w_.node(e.node).name();
        violation_ = "at " + sim::format_time(e.time) + " a message from " + f + " reached " + to +
                     " while " + f + " -> " + to + " was cut";
      }
    }
  }
  const std::string& violation() const { return violation_; }

 private:
  sim::World& w_;
  std::set<std::pair<sim::NodeId, sim::NodeId>> cut_;
  std::string violation_;
};

class PingPong : public ScenarioRun {
 public:
  explicit PingPong(bool synced) : synced_(synced) {}
  ~PingPong() override {
    for (auto& [id, db] : ledgers_) sqlite3_close(db);
  }

  void build(sim::World& w) override {
    world_ = &w;
    watch_ = std::make_unique<PartitionWatch>(w);
    w.add_sink(watch_.get());
    for (const char* loc : kLocations) {
      sim::Node& n = w.add_node(std::string("pop-") + loc, loc);
      ids_.push_back(n.id());
      n.on_boot([this](sim::Node& node) { boot(node); });
      n.add_crash_hook([this](sim::Node& node) {
        // The connection is volatile state; the disk already dropped what was not synced.
        auto it = ledgers_.find(node.id());
        if (it != ledgers_.end()) {
          sqlite3_close(it->second);
          ledgers_.erase(it);
        }
      });
    }
  }

  std::vector<PropertyResult> check(sim::World& w, const props::History&) override {
    w.remove_sink(watch_.get());
    std::vector<PropertyResult> out;
    // 1. Durability of acknowledged pings.
    {
      PropertyResult r{"acked-pings-durable", PropertyResult::Verdict::kOk, ""};
      std::size_t lost = 0;
      std::string first;
      for (const auto& [receiver, pings] : acked_) {
        std::set<std::int64_t> have = read_ledger(w.node(receiver));
        for (const auto& [id, at] : pings) {
          if (have.count(id)) continue;
          if (lost++ == 0) {
            first = "ping #" + std::to_string(id) + " to " + w.node(receiver).name() +
                    " was acknowledged at " + sim::format_time(at) +
                    " but is missing from its ledger";
          }
        }
      }
      if (lost > 0) {
        r.verdict = PropertyResult::Verdict::kViolated;
        r.explanation = first + (lost > 1 ? " (and " + std::to_string(lost - 1) + " more)" : "");
      } else {
        r.explanation = std::to_string(acked_total_) + " acknowledged pings all durable";
      }
      out.push_back(r);
    }
    // 2. No delivery across a cut link.
    out.push_back(
        {"no-delivery-across-partition",
         watch_->violation().empty() ? PropertyResult::Verdict::kOk
                                     : PropertyResult::Verdict::kViolated,
         watch_->violation().empty() ? "no message crossed a cut link" : watch_->violation()});
    // 3. Recovery: every node had a ping acknowledged after the faults stopped.
    {
      std::vector<std::string> silent;
      for (sim::NodeId id : ids_) {
        if (last_ack_[id] < quiet_at_) silent.push_back(w.node(id).name());
      }
      PropertyResult r{"recovers-after-faults", PropertyResult::Verdict::kOk,
                       "every node acknowledged pings after the faults stopped"};
      if (!silent.empty()) {
        r.verdict = PropertyResult::Verdict::kViolated;
        r.explanation = "no ping acknowledged after the faults stopped by:";
        for (auto& s : silent) r.explanation += " " + s;
      }
      out.push_back(r);
    }
    return out;
  }

  std::map<std::string, std::uint64_t> stats(sim::World& w) override {
    return {{"pings_acked", acked_total_},
            {"pings_failed", failed_},
            {"messages_sent", w.net().stats().sent},
            {"messages_delivered", w.net().stats().delivered}};
  }

  void set_quiet_at(sim::Time t) { quiet_at_ = t; }

 private:
  sqlite3* open_ledger(sim::Node& node) {
    auto it = ledgers_.find(node.id());
    if (it != ledgers_.end()) return it->second;
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2("/ledger.db", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   node.disk().vfs_name().c_str());
    if (rc != SQLITE_OK) {
      sqlite3_close(db);
      return nullptr;
    }
    std::string setup = std::string("PRAGMA journal_mode=DELETE; PRAGMA synchronous=") +
                        (synced_ ? "FULL" : "OFF") +
                        "; CREATE TABLE IF NOT EXISTS pings(id INTEGER PRIMARY KEY, src TEXT);";
    if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return nullptr;
    }
    ledgers_[node.id()] = db;
    return db;
  }

  std::set<std::int64_t> read_ledger(sim::Node& node) {
    std::set<std::int64_t> ids;
    sqlite3* db = open_ledger(node);
    if (db == nullptr) return ids;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM pings", -1, &st, nullptr);
    while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) ids.insert(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return ids;
  }

  void boot(sim::Node& node) {
    sim::World& w = *world_;
    w.rpc().serve(node, "ping",
                  [this, &node](sim::Task& t, sim::NodeId from,
                                std::string_view req) -> sim::Result<std::string> {
                    sqlite3* db = open_ledger(node);
                    if (db == nullptr) return sim::Error{sim::ErrorKind::kIo, "cannot open ledger"};
                    sqlite3_stmt* st = nullptr;
                    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO pings(id, src) VALUES(?, ?)", -1,
                                       &st, nullptr);
                    sqlite3_bind_int64(st, 1, std::stoll(std::string(req)));
                    sqlite3_bind_text(st, 2, world_->node(from).name().c_str(), -1,
                                      SQLITE_TRANSIENT);
                    const int rc = sqlite3_step(st);
                    sqlite3_finalize(st);
                    if (rc != SQLITE_DONE)
                      return sim::Error{sim::ErrorKind::kIo, sqlite3_errmsg(db)};
                    return std::string("pong");
                  });
    w.spawn(node, "player", [this, &node](sim::Task& t) { play(t, node); });
  }

  void play(sim::Task& t, sim::Node& self) {
    sim::World& w = *world_;
    sim::Rng rng = w.rng("player/" + self.name() + "/" + std::to_string(self.incarnation()));
    for (;;) {
      t.sleep(sim::millis(rng.uniform(50, 150)));
      sim::NodeId peer = ids_[rng.below(ids_.size())];
      if (peer == self.id()) continue;
      const std::int64_t id = next_ping_++;
      auto r = w.rpc().call(t, peer, "ping", std::to_string(id), sim::seconds(1));
      if (r.ok()) {
        acked_[peer][id] = t.now();
        ++acked_total_;
        last_ack_[peer] = t.now();
      } else {
        ++failed_;
      }
    }
  }

  bool synced_;
  sim::World* world_ = nullptr;
  std::unique_ptr<PartitionWatch> watch_;
  std::vector<sim::NodeId> ids_;
  std::map<sim::NodeId, sqlite3*> ledgers_;
  std::map<sim::NodeId, std::map<std::int64_t, sim::Time>> acked_;
  std::map<sim::NodeId, sim::Time> last_ack_;
  std::int64_t next_ping_ = 1;
  std::uint64_t acked_total_ = 0;
  std::uint64_t failed_ = 0;
  sim::Time quiet_at_ = 0;
};

}  // namespace

std::unique_ptr<ScenarioRun> make_pingpong(bool synced, sim::Time quiet_at) {
  auto p = std::make_unique<PingPong>(synced);
  p->set_quiet_at(quiet_at);
  return p;
}

}  // namespace scenarios
