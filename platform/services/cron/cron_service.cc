// CronService (cron.h): the scheduler node, firings with retries, and the cron.run service of
// the targets. The promises it keeps, asserted or arranged where they are made:
// - a scheduled time leaves the schedule only in the transaction that records its firing, and
//   the firing leaves the database only after a run answered or its attempts ran out: a
//   scheduler crash never loses a scheduled time (it may fire it twice);
// - a firing is in flight at most once per scheduler incarnation.
#include <algorithm>
#include <set>
#include <utility>

#include "platform/services/cron/cron.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/rpc.h"
#include "sim/sql_db.h"
#include "sim/wire.h"

namespace services {

namespace {

constexpr std::string_view kRunService = "cron.run";
constexpr std::int64_t kUnixMinuteAtTimeZero = sim::kUnixSecondsAtTimeZero / 60;

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS next (schedule TEXT PRIMARY KEY, minute INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS firing (schedule TEXT NOT NULL, minute INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, PRIMARY KEY (schedule, minute));";

struct RunRequest {
  std::string worker;
  std::string cron;
  sim::Time scheduled = 0;
  std::uint32_t attempt = 0;
};

std::string encode(const RunRequest& r) {
  return sim::WireWriter().str(r.worker).str(r.cron).i64(r.scheduled).u32(r.attempt).take();
}

sim::Result<RunRequest> decode_request(std::string_view bytes) {
  sim::WireReader in(bytes);
  RunRequest r;
  r.worker = in.str();
  r.cron = in.str();
  r.scheduled = in.i64();
  r.attempt = in.u32();
  if (!in.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed cron.run request"};
  return r;
}

std::string encode(const CronRunResult& r) {
  return sim::WireWriter().boolean(r.ok).boolean(r.no_retry).str(r.error).take();
}

sim::Result<CronRunResult> decode_result(std::string_view bytes) {
  sim::WireReader in(bytes);
  CronRunResult r;
  r.ok = in.boolean();
  r.no_retry = in.boolean();
  r.error = in.str();
  if (!in.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed cron.run answer"};
  return r;
}

void fill(sim::ev::CronFiring& e, const RunRequest& r) {
  e.set_worker(r.worker);
  e.set_cron(r.cron);
  e.set_scheduled_time(r.scheduled);
  e.set_attempt(r.attempt);
}

}  // namespace

sim::Time cron_minute_time(std::int64_t unix_minute) {
  return (unix_minute - kUnixMinuteAtTimeZero) * sim::kMinute;
}

std::int64_t cron_unix_minute(sim::Time t) {
  // Floor division: times before the epoch (none in a run) still land in their minute.
  std::int64_t m = t / sim::kMinute;
  if (t < 0 && t % sim::kMinute != 0) --m;
  return m + kUnixMinuteAtTimeZero;
}

std::vector<sim::Time> cron_times(const CronExpr& expr, sim::Time after, sim::Time until,
                                  std::size_t max) {
  std::vector<sim::Time> out;
  std::int64_t m = cron_unix_minute(after);
  while (out.size() < max) {
    std::optional<std::int64_t> next = expr.next_after(m);
    if (!next.has_value() || cron_minute_time(*next) > until) break;
    if (cron_minute_time(*next) > after) out.push_back(cron_minute_time(*next));
    m = *next;
  }
  return out;
}

// ---- the scheduler ----

class CronService::Scheduler {
 public:
  Scheduler(CronService& service, sim::Node& node) : service_(service), node_(node) {
    node.on_boot([this](sim::Node& n) { boot(n); });
  }

 private:
  struct Firing {
    const Schedule* schedule;
    std::int64_t minute;
    std::uint32_t attempts;  // runs sent so far (in every incarnation)
  };

  void boot(sim::Node& node) {
    sim::World& w = service_.world();
    rng_ = w.rng("cron/scheduler/" + node.name()).fork(std::to_string(node.incarnation()));
    in_flight_.clear();  // the previous incarnation's tasks are gone
    db_.close();
    if (!db_.open(node.disk(), "/cron.db", true, kSchema)) {
      note("cron scheduler " + node.name() + ": cannot open its storage: " + db_.error());
      return;
    }
    // Firings in progress when the previous incarnation stopped: fired again.
    std::vector<Firing> resumed;
    for (const Schedule& s : service_.schedules_) {
      const bool ok =
          db_.run("SELECT minute, attempts FROM firing WHERE schedule = ? ORDER BY minute",
                  {std::string_view(s.key)}, [&](sqlite3_stmt* st) {
                    resumed.push_back({&s, sim::SqlDb::column_int(st, 0),
                                       static_cast<std::uint32_t>(sim::SqlDb::column_int(st, 1))});
                  });
      if (!ok) return note("cron scheduler: cannot read its firings: " + db_.error());
    }
    for (const Firing& f : resumed) start(f, /*resumed=*/true);
    for (const Schedule& s : service_.schedules_) {
      w.spawn(node, "cron-schedule:" + s.key, [this, &s](sim::Task& t) { schedule_loop(t, s); });
    }
  }

  void note(const std::string& text) {
    service_.world().emit(node_.id(),
                          [&](sim::ev::Body& b) { b.mutable_sim_note()->set_text(text); });
  }

  // The next minute due of `s`: stored, or (first boot) the first match after now, stored at
  // once: a crash before it fires must not move the schedule past it.
  std::optional<std::int64_t> next_due(const Schedule& s, sim::Time now) {
    std::optional<std::int64_t> due;
    if (!db_.run("SELECT minute FROM next WHERE schedule = ?", {std::string_view(s.key)},
                 [&](sqlite3_stmt* st) { due = sim::SqlDb::column_int(st, 0); })) {
      return std::nullopt;
    }
    if (due.has_value()) return due;
    due = s.expr.next_after(cron_unix_minute(now));
    if (due.has_value() && !save_next(s, *due)) return std::nullopt;
    return due;
  }

  bool save_next(const Schedule& s, std::int64_t minute) {
    return db_.run("INSERT OR REPLACE INTO next (schedule, minute) VALUES (?, ?)",
                   {std::string_view(s.key), minute});
  }

  void schedule_loop(sim::Task& task, const Schedule& s) {
    const CronConfig& c = service_.config();
    std::optional<std::int64_t> due = next_due(s, task.now());
    std::int64_t late = 0;
    while (due.has_value()) {
      const sim::Time at = cron_minute_time(*due);
      if (at > task.now()) {
        late = 0;
        task.sleep_until(at);
      } else if (late >= c.catch_up_max) {
        // Down for longer than the catch-up allows: skip to the next minute from now.
        note("cron " + s.key + ": skipped the minutes missed since " + sim::format_time(at));
        due = s.expr.next_after(cron_unix_minute(task.now()));
        // Stored: a crash now must not bring the skipped minutes back.
        if (due.has_value() && !save_next(s, *due)) return;
        late = 0;
        continue;
      } else {
        ++late;
        ++service_.stats_.caught_up;
      }
      const std::optional<std::int64_t> after = s.expr.next_after(*due);
      // One transaction: the firing is recorded exactly when the schedule moves past it.
      bool ok = db_.exec("BEGIN");
      ok = ok &&
           db_.run("INSERT OR IGNORE INTO firing (schedule, minute, attempts) VALUES (?, ?, 0)",
                   {std::string_view(s.key), *due});
      ok = ok && (after.has_value()
                      ? db_.run("INSERT OR REPLACE INTO next (schedule, minute) VALUES (?, ?)",
                                {std::string_view(s.key), *after})
                      : db_.run("DELETE FROM next WHERE schedule = ?", {std::string_view(s.key)}));
      if (!ok || !db_.exec("COMMIT")) {
        (void)db_.exec("ROLLBACK");
        // A failed disk (the node is crashing): the restart takes over from what is stored.
        return;
      }
      start({&s, *due, 0}, /*resumed=*/false);
      due = after;
    }
  }

  void start(Firing f, bool resumed) {
    const std::pair<std::string, std::int64_t> key{f.schedule->key, f.minute};
    if (!in_flight_.insert(key).second) return;
    service_.world().spawn(node_, "cron-fire:" + f.schedule->key,
                           [this, f, resumed, key](sim::Task& t) mutable {
                             fire(t, f, resumed);
                             in_flight_.erase(key);
                           });
  }

  // Runs one firing to its end: answered, or out of attempts.
  void fire(sim::Task& task, Firing f, bool resumed) {
    const CronConfig& c = service_.config();
    RunRequest request{f.schedule->worker, f.schedule->expr.text(), cron_minute_time(f.minute), 0};
    task.sleep(rng_.uniform_int(0, c.delay_max));
    if (resumed && std::cmp_greater_equal(f.attempts, c.retries_max + 2)) {
      // Its last attempt, and the one a restart allows after it, are spent: repeated crashes
      // must not grow the runs of one scheduled time without bound.
      request.attempt = f.attempts;
      give_up(request, "exhausted", "restart");
      forget(f);
      return;
    }
    if (resumed) retry_event(request, f.attempts, "restart", 0);
    for (;;) {
      request.attempt = ++f.attempts;
      if (!db_.run("UPDATE firing SET attempts = ? WHERE schedule = ? AND minute = ?",
                   {static_cast<std::int64_t>(f.attempts), std::string_view(f.schedule->key),
                    f.minute})) {
        return;  // the disk failed: the node is going down
      }
      std::string reason;
      const bool answered = run_once(task, request, &reason);
      if (answered) break;
      const bool retries_left = std::cmp_less(f.attempts, c.retries_max + 1);
      if (!c.retry || !retries_left) {
        give_up(request, !c.retry ? "retry_off" : "exhausted", reason);
        break;
      }
      ++service_.stats_.retried;
      retry_event(request, f.attempts, reason, c.retry_delay);
      task.sleep(c.retry_delay);
    }
    forget(f);
  }

  // The firing is over: its row leaves the database (a failed disk leaves it for the restart).
  void forget(const Firing& f) {
    (void)db_.run("DELETE FROM firing WHERE schedule = ? AND minute = ?",
                  {std::string_view(f.schedule->key), f.minute});
  }

  void give_up(const RunRequest& r, const char* reason, const std::string& last_failure) {
    ++service_.stats_.given_up;
    service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_cron_give_up();
      fill(*e.mutable_firing(), r);
      e.set_reason(reason);
      e.set_last_failure(last_failure);
    });
  }

  void retry_event(const RunRequest& r, std::uint32_t attempts, const std::string& reason,
                   sim::Duration delay) {
    service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_cron_retry();
      RunRequest shown = r;
      shown.attempt = attempts;
      fill(*e.mutable_firing(), shown);
      e.set_reason(reason);
      e.set_delay(delay);
    });
  }

  // Sends one run to a target. True when it answered ok or no_retry; else `reason` says why not
  // (failed, timeout, unreachable, lost_result).
  bool run_once(sim::Task& task, const RunRequest& request, std::string* reason) {
    const CronConfig& c = service_.config();
    sim::World& w = service_.world();
    auto it = service_.targets_.find(request.worker);
    std::vector<Target> targets =
        it == service_.targets_.end() ? std::vector<Target>{} : it->second;
    // Seeded order; a target that refuses the connection is skipped for the next.
    for (std::size_t i = targets.size(); i > 1; --i) {
      std::swap(
          targets[i - 1],
          targets[static_cast<std::size_t>(rng_.uniform_int(0, static_cast<std::int64_t>(i) - 1))]);
    }
    for (const Target& target : targets) {
      const sim::NodeId dst = target.node->id();
      ++service_.stats_.fired;
      w.emit(node_.id(), [&](sim::ev::Body& b) {
        auto& e = *b.mutable_cron_fire();
        fill(e, request);
        e.set_pop(dst);
      });
      const sim::Time sent = task.now();
      sim::Result<std::string> reply =
          w.rpc().call(task, dst, kRunService, encode(request), c.run_timeout);
      if (!reply.ok() && reply.error().kind == sim::ErrorKind::kUnreachable) continue;
      if (!reply.ok()) {
        *reason = reply.error().kind == sim::ErrorKind::kTimeout ? "timeout" : "failed";
        return false;
      }
      if (c.lost_result_p > 0 && w.faults().sites_enabled() &&
          w.faults().fire("cron.lost_result", c.lost_result_p)) {
        // The answer is lost on its way back: the scheduler learns nothing until its deadline.
        task.sleep_until(sent + c.run_timeout);
        *reason = "lost_result";
        return false;
      }
      sim::Result<CronRunResult> result = decode_result(*reply);
      if (!result.ok() || !(result->ok || result->no_retry)) {
        *reason = "failed";
        return false;
      }
      ++service_.stats_.runs_ok;
      return true;
    }
    *reason = "unreachable";
    return false;
  }

  CronService& service_;
  sim::Node& node_;
  sim::SqlDb db_;
  sim::Rng rng_{0};
  std::set<std::pair<std::string, std::int64_t>> in_flight_;
};

// ---- CronService ----

CronService::CronService(sim::World& world, CronConfig config)
    : world_(world), config_(std::move(config)) {}

CronService::~CronService() = default;

void CronService::add_schedule(const std::string& worker, const CronExpr& expr) {
  SIM_REQUIRE(scheduler_ == nullptr);
  const std::string key = worker + " " + expr.text();
  for (const Schedule& s : schedules_) SIM_REQUIRE(s.key != key);
  schedules_.push_back({worker, expr, key});
}

void CronService::add_scheduler(sim::Node& node) {
  SIM_REQUIRE(scheduler_ == nullptr);
  scheduler_ = std::make_unique<Scheduler>(*this, node);
}

void CronService::add_target(sim::Node& node, const std::string& worker, CronExecutor& executor) {
  std::vector<Target>& list = targets_[worker];
  const bool first_on_node = std::none_of(targets_.begin(), targets_.end(), [&](const auto& e) {
    return std::any_of(e.second.begin(), e.second.end(),
                       [&](const Target& t) { return t.node == &node; });
  });
  list.push_back({&node, &executor});
  if (!first_on_node) return;
  // One cron.run service per node, for every Worker with schedules there.
  node.add_boot_hook([this](sim::Node& n) {
    world_.rpc().serve(
        n, kRunService,
        [this, &n](sim::Task& task, sim::NodeId, std::string_view bytes) {
          sim::Result<RunRequest> r = decode_request(bytes);
          if (!r.ok()) return sim::Result<std::string>(r.error());
          CronExecutor* executor = nullptr;
          if (auto it = targets_.find(r->worker); it != targets_.end()) {
            for (const Target& t : it->second) {
              if (t.node == &n) executor = t.executor;
            }
          }
          if (executor == nullptr) {
            return sim::Result<std::string>(
                sim::Error{sim::ErrorKind::kInvalid,
                           "no Worker " + r->worker + " with schedules on " + n.name()});
          }
          world_.emit(n.id(), [&](sim::ev::Body& b) { fill(*b.mutable_cron_run(), *r); });
          sim::Result<CronRunResult> result = executor->run(task, r->worker, r->cron, r->scheduled);
          CronRunResult out =
              result.ok() ? *result : CronRunResult{false, false, result.error().message};
          world_.emit(n.id(), [&](sim::ev::Body& b) {
            auto& e = *b.mutable_cron_done();
            fill(*e.mutable_firing(), *r);
            e.set_outcome(out.ok ? "ok" : out.no_retry ? "no_retry" : "failed");
            e.set_error(out.error);
          });
          return sim::Result<std::string>(encode(out));
        },
        sim::Rpc::Delivery::kAtMostOnce);
  });
}

}  // namespace services
