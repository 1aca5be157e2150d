// The engine (workflow_internal.h): instances, their steps and inbox on the disk, runs dispatched
// to PoPs and fenced by number. The promises it keeps, asserted where they are made:
// - a step's result is answered only once it is on the disk (unless persist_after_ack);
// - at most one run of an instance is active, and only the active run's calls are served;
// - an instance leaves a final status (complete, errored, terminated) only by restart().
#include <algorithm>
#include <cstdio>
#include <utility>

#include "platform/services/workflows/workflow_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/rpc.h"
#include "sim/wire.h"

namespace services::workflow_internal {

namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
    " rec BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS steps (instance TEXT NOT NULL, key TEXT NOT NULL,"
    " rec BLOB NOT NULL, PRIMARY KEY (instance, key));"
    "CREATE TABLE IF NOT EXISTS inbox (instance TEXT NOT NULL, seq INTEGER NOT NULL,"
    " rec BLOB NOT NULL, PRIMARY KEY (instance, seq));";

constexpr std::size_t kShownMax = 100;  // a result longer than this is shown cut, with a hash

bool final_status(const std::string& s) {
  return s == "complete" || s == "errored" || s == "terminated";
}

// A result as the history shows it: its JSON text when short, else a prefix and a hash of the
// clone (so that two different long results never compare equal).
std::string shown(const std::string& display, const std::string& bytes) {
  if (display.size() <= kShownMax) return display;
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(sim::stable_hash(bytes)));
  return display.substr(0, kShownMax / 2) + "... #" + hash;
}

WorkflowMessage ok() { return WorkflowMessage{"ok", {}, {}}; }
WorkflowMessage action(const char* a) { return ok().set("a", a); }

// Backoff of the retry after failed attempt n (1-based): constant, linear or exponential.
sim::Duration backoff(const std::string& kind, sim::Duration delay, std::uint32_t n) {
  if (kind == "constant") return delay;
  if (kind == "linear") return delay * n;
  const std::uint32_t shift = std::min<std::uint32_t>(n - 1, 40);
  return delay * (sim::Duration{1} << shift);
}

}  // namespace

Engine::Engine(WorkflowService& service, sim::Node& node) : service_(service), node_(node) {
  node.on_boot([this](sim::Node& n) { boot(n); });
}

// ---- Boot and the disk ----

void Engine::boot(sim::Node& node) {
  service_.assign_engines();
  sim::World& w = service_.world();
  instances_.clear();  // the previous incarnation's volatile state (its tasks are gone)
  order_.clear();
  rng_ = w.rng("workflow/engine/" + node.name()).fork(std::to_string(node.incarnation()));
  db_.close();
  if (!db_.open(node.disk(), "/workflows.db", true, kSchema) || !load()) {
    w.emit(node.id(), [&](sim::ev::Body& b) {
      b.mutable_sim_note()->set_text("workflow engine " + node.name() +
                                     ": cannot open its storage");
    });
    return;
  }
  w.rpc().serve(
      node, kEngineService,
      [this](sim::Task& t, sim::NodeId, std::string_view bytes) { return on_call(t, bytes); },
      sim::Rpc::Delivery::kAtMostOnce);
  w.spawn(node, "workflow-scheduler", [this](sim::Task& t) { scheduler_loop(t); });
  if (service_.config().persist_after_ack) {
    w.spawn(node, "workflow-flush", [this](sim::Task& t) { flush_loop(t); });
  }
}

bool Engine::load() {
  next_seq_ = 1;
  bool ok = db_.run("SELECT id, seq, rec FROM instances ORDER BY seq", {}, [&](sqlite3_stmt* st) {
    auto inst = std::make_unique<Instance>();
    inst->id = sim::SqlDb::column_text(st, 0);
    const auto seq = static_cast<std::uint64_t>(sim::SqlDb::column_int(st, 1));
    const std::string rec = sim::SqlDb::column_blob(st, 2);
    sim::WireReader r(rec);
    inst->workflow = r.str();
    inst->status = r.str();
    inst->params = r.str();
    inst->created = r.i64();
    inst->generation = r.u32();
    inst->runs = r.u32();
    inst->output = r.str();
    inst->output_display = r.str();
    inst->error_name = r.str();
    inst->error_message = r.str();
    inst->wake_at = r.i64();
    SIM_ASSERT(r.done());
    // A run in progress when the engine stopped is gone: dispatch a new one (a pause that was
    // waiting for the run to reach a step takes effect now).
    if (inst->status == "running") inst->status = "queued";
    if (inst->status == "waitingForPause") inst->status = "paused";
    next_seq_ = std::max(next_seq_, seq + 1);
    order_[inst->id] = seq;
    instances_[inst->id] = std::move(inst);
  });
  ok = ok && db_.run("SELECT instance, key, rec FROM steps", {}, [&](sqlite3_stmt* st) {
    Instance* inst = find(sim::SqlDb::column_text(st, 0));
    if (inst == nullptr) return;
    Step s;
    const std::string rec = sim::SqlDb::column_blob(st, 2);
    sim::WireReader r(rec);
    s.state = static_cast<StepState>(r.u8());
    s.bytes = r.str();
    s.display = r.str();
    s.error_name = r.str();
    s.error_message = r.str();
    s.attempts = r.u32();
    s.at = r.i64();
    s.event_type = r.str();
    SIM_ASSERT(r.done());
    inst->steps[sim::SqlDb::column_text(st, 1)] = std::move(s);
  });
  ok =
      ok && db_.run("SELECT instance, seq, rec FROM inbox ORDER BY seq", {}, [&](sqlite3_stmt* st) {
        Instance* inst = find(sim::SqlDb::column_text(st, 0));
        if (inst == nullptr) return;
        Event e;
        e.seq = static_cast<std::uint64_t>(sim::SqlDb::column_int(st, 1));
        const std::string rec = sim::SqlDb::column_blob(st, 2);
        sim::WireReader r(rec);
        e.type = r.str();
        e.bytes = r.str();
        e.time = r.i64();
        SIM_ASSERT(r.done());
        next_seq_ = std::max(next_seq_, e.seq + 1);
        inst->inbox.push_back(std::move(e));
      });
  return ok;
}

bool Engine::save(const Instance& inst, const std::vector<std::string>& steps, bool inbox) {
  sim::WireWriter w;
  w.str(inst.workflow).str(inst.status).str(inst.params).i64(inst.created).u32(inst.generation);
  w.u32(inst.runs).str(inst.output).str(inst.output_display).str(inst.error_name);
  w.str(inst.error_message).i64(inst.volatile_wake ? sim::kTimeMax : inst.wake_at);
  const std::string rec = w.take();
  const std::string_view id = inst.id;
  bool ok = db_.exec("BEGIN");
  ok = ok && db_.run("INSERT OR REPLACE INTO instances VALUES (?, ?, ?)",
                     {id, static_cast<std::int64_t>(order_.at(inst.id)), sim::SqlDb::Blob{rec}});
  for (const std::string& key : steps) {
    auto it = inst.steps.find(key);
    if (it == inst.steps.end()) {
      ok = ok &&
           db_.run("DELETE FROM steps WHERE instance = ? AND key = ?", {id, std::string_view(key)});
      continue;
    }
    const Step& s = it->second;
    if (!s.written) continue;
    sim::WireWriter sw;
    sw.u8(static_cast<std::uint8_t>(s.state)).str(s.bytes).str(s.display).str(s.error_name);
    sw.str(s.error_message).u32(s.attempts).i64(s.at).str(s.event_type);
    const std::string srec = sw.take();
    ok = ok && db_.run("INSERT OR REPLACE INTO steps VALUES (?, ?, ?)",
                       {id, std::string_view(key), sim::SqlDb::Blob{srec}});
  }
  if (inbox) {
    ok = ok && db_.run("DELETE FROM inbox WHERE instance = ?", {id});
    for (const Event& e : inst.inbox) {
      const std::string erec = sim::WireWriter().str(e.type).str(e.bytes).i64(e.time).take();
      ok = ok && db_.run("INSERT INTO inbox VALUES (?, ?, ?)",
                         {id, static_cast<std::int64_t>(e.seq), sim::SqlDb::Blob{erec}});
    }
  }
  if (!ok || !db_.exec("COMMIT")) {
    (void)db_.exec("ROLLBACK");
    return false;
  }
  return true;
}

Engine::Instance* Engine::find(const std::string& id) {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

Engine::Reply Engine::storage_failed() {
  return WorkflowMessage::error("Error", "the workflow engine's storage failed: " + db_.error());
}

// ---- Calls ----

sim::Result<std::string> Engine::on_call(sim::Task& task, std::string_view bytes) {
  sim::Result<WorkflowMessage> m = WorkflowMessage::decode(bytes);
  if (!m.ok()) return m.error();
  return handle(task, *m).encode();
}

Engine::Reply Engine::handle(sim::Task& task, const WorkflowMessage& m) {
  if (m.op == "create") return create(m);
  Instance* inst = find(m.get("id"));
  if (inst == nullptr || inst->workflow != m.get("workflow")) {
    if (m.op == "begin" || m.op == "commit" || m.op == "finish") return action("abort");
    return WorkflowMessage::error("Error", "instance.not_found");
  }
  if (m.op == "get") return ok();
  if (m.op == "status") return status(*inst);
  if (m.op == "pause") return pause(*inst);
  if (m.op == "resume") return resume(*inst);
  if (m.op == "terminate") return terminate(*inst);
  if (m.op == "restart") return restart(*inst);
  if (m.op == "send_event") return send_event(*inst, m);
  // The step protocol: only the active run is served.
  const auto run = static_cast<std::uint32_t>(m.num("run"));
  if (inst->active != run + 1 || m.num("generation") != inst->generation) return action("abort");
  inst->deadline = task.now() + service_.config().idle_max;
  inst->lost_in_row = 0;
  if (m.op == "begin") return begin(*inst, run, m);
  if (m.op == "commit") return commit(*inst, run, m);
  if (m.op == "finish") return finish(*inst, run, m);
  return WorkflowMessage::error("TypeError", "unknown workflow operation " + m.op);
}

void Engine::set_status(Instance& inst, const std::string& status) {
  if (inst.status == status) return;
  SIM_ASSERT(!final_status(inst.status));  // only restart() leaves a final status
  const std::string from = inst.status;
  inst.status = status;
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_workflow_status();
    e.set_instance(inst.label());
    e.set_workflow(inst.workflow);
    e.set_status(status);
    e.set_from(from);
    if (status == "complete") e.set_output(shown(inst.output_display, inst.output));
    if (status == "errored") e.set_error(inst.error_name + ": " + inst.error_message);
  });
  if (status == "complete") ++service_.stats_.completed;
  if (status == "errored") ++service_.stats_.errored;
}

void Engine::emit_step(const Instance& inst, std::uint32_t run, const std::string& key,
                       const char* kind, std::uint32_t attempt, const std::string& result,
                       sim::Duration delay, const std::string& error, sim::Time until) {
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_workflow_step();
    e.set_instance(inst.label());
    e.set_run(run);
    e.set_step(key);
    e.set_kind(kind);
    e.set_attempt(attempt);
    e.set_result(result);
    e.set_delay(delay);
    e.set_error(error);
    e.set_until(until);
  });
}

// ---- The instance API ----

Engine::Reply Engine::create(const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  std::string id = m.get("id");
  if (id.empty()) {
    // A fresh id from the engine's seeded stream (the platform's ids are UUIDs).
    char buf[40];
    const std::uint64_t a = rng_.next_u64(), b = rng_.next_u64();
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xfff),
                  static_cast<unsigned long long>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    id = buf;
  }
  if (find(id) != nullptr) return WorkflowMessage::error("Error", "instance.already_exists");
  if (std::cmp_greater(m.bytes.size(), c.payload_bytes_max)) {
    return WorkflowMessage::error("Error", "instance.params_too_large: the params are " +
                                               std::to_string(m.bytes.size()) + " bytes; at most " +
                                               std::to_string(c.payload_bytes_max) + " allowed");
  }
  auto owned = std::make_unique<Instance>();
  Instance& inst = *owned;
  inst.id = id;
  inst.workflow = m.get("workflow");
  inst.params = m.bytes;
  inst.created = service_.world().now();
  inst.status = "";
  order_[id] = next_seq_++;
  instances_[id] = std::move(owned);
  set_status(inst, "queued");
  if (!save(inst)) {
    instances_.erase(id);
    return storage_failed();
  }
  ++service_.stats_.instances;
  wakeup_.notify_all(service_.world());
  return ok().set("id", id);
}

Engine::Reply Engine::status(Instance& inst) {
  Reply r = ok().set("status", inst.status);
  if (inst.status == "complete") r.bytes = inst.output;
  if (inst.status == "errored") {
    r.set("error_name", inst.error_name).set("error_message", inst.error_message);
  }
  return r;
}

Engine::Reply Engine::pause(Instance& inst) {
  if (final_status(inst.status)) {
    return WorkflowMessage::error(
        "Error", "instance.invalid_state: cannot pause an instance that is " + inst.status);
  }
  if (inst.status == "running") {
    set_status(inst, "waitingForPause");  // takes effect when the run reaches its next step
  } else if (inst.status == "queued" || inst.status == "waiting") {
    set_status(inst, "paused");
  }
  return save(inst) ? ok() : storage_failed();
}

Engine::Reply Engine::resume(Instance& inst) {
  if (inst.status == "waitingForPause") {
    set_status(inst, "running");
  } else if (inst.status == "paused") {
    set_status(inst, inst.wake_at > service_.world().now() ? "waiting" : "queued");
    wakeup_.notify_all(service_.world());
  } else if (final_status(inst.status)) {
    return WorkflowMessage::error(
        "Error", "instance.invalid_state: cannot resume an instance that is " + inst.status);
  }
  return save(inst) ? ok() : storage_failed();
}

Engine::Reply Engine::terminate(Instance& inst) {
  if (final_status(inst.status)) {
    return WorkflowMessage::error(
        "Error", "instance.invalid_state: cannot terminate an instance that is " + inst.status);
  }
  inst.active = 0;  // a run in progress is fenced: its next call is refused
  set_status(inst, "terminated");
  inst.changed.notify_all(service_.world());
  return save(inst) ? ok() : storage_failed();
}

Engine::Reply Engine::restart(Instance& inst) {
  inst.active = 0;
  inst.changed.notify_all(service_.world());
  // The old generation ends here, whatever it was doing.
  if (!final_status(inst.status)) set_status(inst, "terminated");
  ++inst.generation;
  inst.runs = 0;
  std::vector<std::string> old_steps;  // deleted by the save below: the instance has none now
  for (const auto& [key, s] : inst.steps) old_steps.push_back(key);
  inst.steps.clear();
  inst.inbox.clear();
  inst.output.clear();
  inst.output_display.clear();
  inst.error_name.clear();
  inst.error_message.clear();
  inst.wake_at = 0;
  inst.volatile_wake = false;
  inst.lost_in_row = 0;
  inst.status = "";
  set_status(inst, "queued");
  if (!save(inst, old_steps, /*inbox=*/true)) return storage_failed();
  wakeup_.notify_all(service_.world());
  return ok();
}

Engine::Reply Engine::send_event(Instance& inst, const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  if (final_status(inst.status)) {
    return WorkflowMessage::error(
        "Error",
        "instance.invalid_state: cannot send an event to an instance that is " + inst.status);
  }
  if (std::cmp_greater(m.bytes.size(), c.payload_bytes_max)) {
    return WorkflowMessage::error("Error", "event.payload_too_large");
  }
  const std::string type = m.get("type");
  inst.inbox.push_back(Event{next_seq_++, type, m.bytes, service_.world().now()});
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_workflow_event();
    e.set_instance(inst.label());
    e.set_type(type);
  });
  // An instance waiting for this type runs now (it consumes the event at its step).
  const bool waited = std::any_of(inst.steps.begin(), inst.steps.end(), [&](const auto& kv) {
    return kv.second.state == StepState::kWaiting && kv.second.event_type == type;
  });
  if (waited && inst.status == "waiting") {
    inst.wake_at = 0;
    set_status(inst, "queued");
  } else if (waited && inst.status == "paused") {
    inst.wake_at = 0;
  }
  if (!save(inst, {}, /*inbox=*/true)) return storage_failed();
  wakeup_.notify_all(service_.world());
  return ok();
}

// ---- The step protocol ----

Engine::Reply Engine::cached(Instance& inst, std::uint32_t run, const std::string& key,
                             const Step& s) {
  ++service_.stats_.steps_cached;
  Reply r = action("cached");
  if (s.state == StepState::kDone) {
    emit_step(inst, run, key, "cached", 0, shown(s.display, s.bytes));
    r.set("ok", 1).set("display", s.display).set("event_type", s.event_type).set("at", s.at);
    r.bytes = s.bytes;
  } else {
    emit_step(inst, run, key, "cached", 0, "", 0, s.error_name + ": " + s.error_message);
    r.set("ok", 0).set("error_name", s.error_name).set("error_message", s.error_message);
  }
  return r;
}

Engine::Reply Engine::suspend(Instance& inst, sim::Time wake) {
  inst.active = 0;
  inst.wake_at = wake;
  set_status(inst, "waiting");
  inst.changed.notify_all(service_.world());
  wakeup_.notify_all(service_.world());
  return action("suspend");
}

Engine::Reply Engine::begin(Instance& inst, std::uint32_t run, const WorkflowMessage& m) {
  if (inst.status == "waitingForPause") {
    inst.active = 0;
    set_status(inst, "paused");
    inst.changed.notify_all(service_.world());
    wakeup_.notify_all(service_.world());
    return save(inst) ? action("suspend") : storage_failed();
  }
  const std::string key = m.get("key");
  const std::string kind = m.get("kind");
  if (!inst.steps.contains(key) &&
      std::cmp_greater_equal(inst.steps.size(), service_.config().steps_max)) {
    return ok()
        .set("a", "throw")
        .set("error_name", "WorkflowFatalError")
        .set("error_message", "The limit of " + std::to_string(service_.config().steps_max) +
                                  " steps has been reached. This limit can be changed in your "
                                  "worker configuration.");
  }
  if (kind == "do") return begin_do(inst, run, key, m);
  if (kind == "sleep") return begin_sleep(inst, run, key, m);
  if (kind == "wait") return begin_wait(inst, run, key, m);
  return WorkflowMessage::error("TypeError", "unknown step kind " + kind);
}

Engine::Reply Engine::begin_do(Instance& inst, std::uint32_t run, const std::string& key,
                               const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  auto it = inst.steps.find(key);
  if (it != inst.steps.end() && c.cache_steps &&
      (it->second.state == StepState::kDone || it->second.state == StepState::kFailed)) {
    return cached(inst, run, key, it->second);
  }
  const std::uint32_t attempt = (it == inst.steps.end() ? 0 : it->second.attempts) + 1;
  sim::Duration timeout = m.num("timeout", c.step_timeout);
  sim::World& w = service_.world();
  if (c.step_timeout_spike_p > 0 && w.faults().sites_enabled() &&
      w.faults().fire("workflow.step_timeout_spike", c.step_timeout_spike_p)) {
    timeout = sim::kMillisecond;  // the attempt times out, though its fn may still run
  }
  inst.deadline = w.now() + timeout + c.lease_grace;
  inst.changed.notify_all(w);
  ++service_.stats_.steps_run;
  emit_step(inst, run, key, "start", attempt);
  return action("run").set("attempt", attempt).set("timeout", timeout);
}

Engine::Reply Engine::begin_sleep(Instance& inst, std::uint32_t run, const std::string& key,
                                  const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  const sim::Time now = service_.world().now();
  auto it = inst.steps.find(key);
  if (it != inst.steps.end() && it->second.state == StepState::kDone && c.cache_steps) {
    return cached(inst, run, key, it->second);
  }
  if (it != inst.steps.end() && it->second.state == StepState::kSleeping) {
    if (it->second.at <= now) {
      Step& s = it->second;
      s.state = StepState::kDone;
      s.display = "undefined";
      s.written = true;
      if (!save(inst, {key})) return storage_failed();
      emit_step(inst, run, key, "wake", 0, shown(s.display, s.bytes), 0, "", s.at);
      return cached(inst, run, key, s);
    }
    emit_step(inst, run, key, "sleep", 0, "", 0, "", it->second.at);
    return suspend(inst, it->second.at);
  }
  const sim::Time until = m.fields.contains("until")
                              ? m.num("until")
                              : now + std::max<sim::Duration>(0, m.num("duration"));
  if (m.num("until_past_throws") != 0 && until < now) {
    return ok()
        .set("a", "throw")
        .set("error_name", "Error")
        .set("error_message", "You can't sleep until a time in the past, time-traveler");
  }
  if (until - now > c.sleep_max) {
    return ok()
        .set("a", "throw")
        .set("error_name", "RangeError")
        .set("error_message",
             "step.sleep: a sleep may last at most " + sim::format_duration(c.sleep_max));
  }
  Step s;
  s.state = StepState::kSleeping;
  s.at = until;
  s.written = c.durable_sleep;
  inst.steps[key] = s;
  emit_step(inst, run, key, "sleep", 0, "", 0, "", until);
  Reply r = suspend(inst, until);
  inst.volatile_wake = !c.durable_sleep;
  return save(inst, {key}) ? r : storage_failed();
}

Engine::Reply Engine::begin_wait(Instance& inst, std::uint32_t run, const std::string& key,
                                 const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  const sim::Time now = service_.world().now();
  auto it = inst.steps.find(key);
  if (it != inst.steps.end() && c.cache_steps &&
      (it->second.state == StepState::kDone || it->second.state == StepState::kFailed)) {
    return cached(inst, run, key, it->second);
  }
  const std::string type = m.get("type");
  auto ev = std::find_if(inst.inbox.begin(), inst.inbox.end(),
                         [&](const Event& e) { return e.type == type; });
  if (ev != inst.inbox.end()) {
    Step s;
    s.state = StepState::kDone;
    s.bytes = ev->bytes;
    s.display = m.get("type");
    s.event_type = type;
    s.at = ev->time;
    inst.inbox.erase(ev);
    inst.steps[key] = s;
    if (!save(inst, {key}, /*inbox=*/true)) return storage_failed();
    emit_step(inst, run, key, "deliver", 0, shown(s.display, s.bytes), 0, type);
    return cached(inst, run, key, inst.steps[key]);
  }
  if (it != inst.steps.end() && it->second.state == StepState::kWaiting) {
    if (it->second.at <= now) {
      Step& s = it->second;
      s.state = StepState::kFailed;
      s.error_name = "WorkflowTimeoutError";
      s.error_message = "Execution timed out after " +
                        std::to_string(m.num("timeout", c.event_timeout) / sim::kMillisecond) +
                        "ms";
      if (!save(inst, {key})) return storage_failed();
      emit_step(inst, run, key, "timeout", 0, "", 0, type);
      return cached(inst, run, key, s);
    }
    emit_step(inst, run, key, "wait", 0, "", 0, type, it->second.at);
    return suspend(inst, it->second.at);
  }
  Step s;
  s.state = StepState::kWaiting;
  s.event_type = type;
  s.at = now + m.num("timeout", c.event_timeout);
  inst.steps[key] = s;
  emit_step(inst, run, key, "wait", 0, "", 0, type, s.at);
  Reply r = suspend(inst, s.at);
  return save(inst, {key}) ? r : storage_failed();
}

Engine::Reply Engine::commit(Instance& inst, std::uint32_t run, const WorkflowMessage& m) {
  const WorkflowConfig& c = service_.config();
  sim::World& w = service_.world();
  const std::string key = m.get("key");
  const auto attempt = static_cast<std::uint32_t>(m.num("attempt", 1));
  auto found = inst.steps.find(key);
  // A step with a persisted result is never granted, so never committed (unless the mutant
  // ignores persisted results).
  SIM_ASSERT(found == inst.steps.end() || found->second.state != StepState::kDone ||
             !c.cache_steps);
  Step& s = inst.steps[key];
  bool succeeded = m.num("ok") != 0;
  std::string error_name = m.get("error_name"), error_message = m.get("error_message");
  bool retryable = m.num("non_retryable") == 0;
  if (succeeded && std::cmp_greater(m.bytes.size(), c.result_bytes_max)) {
    succeeded = false;
    retryable = false;
    error_name = "Error";
    error_message = "Step \"" + key + "\" returned " + std::to_string(m.bytes.size()) +
                    " bytes; a step's result may be at most " + std::to_string(c.result_bytes_max) +
                    " bytes";
  }
  if (succeeded) {
    s.state = StepState::kDone;
    s.bytes = m.bytes;
    s.display = m.get("display");
    s.attempts = attempt - 1;
    s.written = !c.persist_after_ack;
    if (!save(inst, {key})) return storage_failed();  // durable before the run hears of it
    emit_step(inst, run, key, "success", attempt, shown(s.display, s.bytes));
    if (c.lost_result_p > 0 && w.faults().sites_enabled() &&
        w.faults().fire("workflow.lost_result", c.lost_result_p)) {
      // The answer is lost on its way back: the run cannot go on, and its replay gets the
      // persisted result.
      lost(inst, run, "lost_result");
      return action("abort");
    }
    return action("continue");
  }
  s.attempts = attempt;
  const std::int64_t limit = m.num("limit", c.retry_limit);
  emit_step(inst, run, key, "failure", attempt, "", 0, error_name + ": " + error_message);
  if (m.num("fatal") != 0) {
    // A result that cannot be stored terminates the instance at once, as in the runtime.
    s.state = StepState::kFailed;
    s.error_name = error_name;
    s.error_message = error_message;
    s.written = true;
    inst.active = 0;
    inst.error_name = "WorkflowFatalError";
    inst.error_message = "The execution of the Workflow instance was terminated, as the step \"" +
                         m.get("step_name") + "\" returned a value which is not serialisable";
    set_status(inst, "errored");
    inst.changed.notify_all(w);
    wakeup_.notify_all(w);
    return save(inst, {key}) ? action("abort") : storage_failed();
  }
  if (!retryable || attempt > limit) {
    s.state = StepState::kFailed;
    s.error_name = error_name;
    s.error_message = error_message;
    s.written = true;
    if (!save(inst, {key})) return storage_failed();
    return action("throw");
  }
  const sim::Duration delay = backoff(m.get("backoff"), m.num("delay", c.retry_delay), attempt);
  s.state = StepState::kRetrying;
  s.at = w.now() + delay;
  s.written = true;
  emit_step(inst, run, key, "retry", attempt, "", delay);
  Reply r = suspend(inst, s.at);
  return save(inst, {key}) ? r : storage_failed();
}

Engine::Reply Engine::finish(Instance& inst, std::uint32_t run, const WorkflowMessage& m) {
  inst.active = 0;
  if (m.num("ok") != 0) {
    inst.output = m.bytes;
    inst.output_display = m.get("display");
    set_status(inst, "complete");
  } else {
    inst.error_name = m.get("error_name");
    inst.error_message = m.get("error_message");
    set_status(inst, "errored");
  }
  inst.changed.notify_all(service_.world());
  wakeup_.notify_all(service_.world());
  return save(inst) ? ok() : storage_failed();
}

// ---- Runs ----

std::int64_t Engine::active_count() const {
  std::int64_t n = 0;
  for (const auto& [id, inst] : instances_) n += inst->active != 0 ? 1 : 0;
  return n;
}

void Engine::scheduler_loop(sim::Task& task) {
  const WorkflowConfig& c = service_.config();
  for (;;) {
    const sim::Time now = task.now();
    sim::Time next = sim::kTimeMax;
    // Runnable instances, oldest wake-up first (ties: creation order).
    std::vector<std::pair<std::pair<sim::Time, std::uint64_t>, Instance*>> ready;
    for (auto& [id, inst] : instances_) {
      if (inst->active != 0) continue;
      if (inst->status != "queued" && inst->status != "waiting") continue;
      if (inst->wake_at <= now) {
        ready.push_back({{inst->wake_at, order_.at(id)}, inst.get()});
      } else {
        next = std::min(next, inst->wake_at);
      }
    }
    std::sort(ready.begin(), ready.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::int64_t active = active_count();
    for (const auto& [k, inst] : ready) {
      if (active >= c.concurrent_instances_max) break;
      dispatch(*inst);
      ++active;
    }
    wakeup_.wait(task, next);
  }
}

void Engine::dispatch(Instance& inst) {
  sim::World& w = service_.world();
  SIM_ASSERT(inst.active == 0);  // one active run per instance
  SIM_ASSERT(inst.status == "queued" || inst.status == "waiting");
  const std::uint32_t run = inst.runs++;
  inst.active = run + 1;
  inst.wake_at = 0;
  inst.volatile_wake = false;
  inst.deadline = w.now() + service_.config().idle_max;
  set_status(inst, "running");
  if (!save(inst)) {
    inst.active = 0;
    return;  // the disk is gone with the node
  }
  ++service_.stats_.runs;
  w.spawn(node_, "workflow-run", [this, &inst, run](sim::Task& t) { run_task(t, inst, run); });
  w.spawn(node_, "workflow-lease", [this, &inst, run](sim::Task& t) { lease_task(t, inst, run); });
}

void Engine::run_task(sim::Task& task, Instance& inst, std::uint32_t run) {
  sim::World& w = service_.world();
  const WorkflowService::Workflow& wf = service_.workflows_.at(inst.workflow);
  auto found = service_.runners_.find(wf.worker);
  std::vector<WorkflowService::Runner> order;
  if (found != service_.runners_.end()) order = found->second;
  // A seeded order: which PoP runs an instance is the seed's choice, as placement is.
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
  const std::string request = encode_run(WorkflowRun{
      wf.name, wf.class_name, inst.id, inst.generation, run, inst.created, inst.params});
  for (const WorkflowService::Runner& r : order) {
    w.emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_workflow_run();
      e.set_instance(inst.label());
      e.set_run(run);
      e.set_pop(r.node->id());
    });
    // The run's progress is watched by its lease; this call only learns when it ended.
    sim::Result<std::string> reply =
        w.rpc().call(task, r.node->id(), std::string(kRunService) + ":" + wf.worker, request,
                     400 * 24 * sim::kHour);
    if (!reply.ok() && reply.error().kind == sim::ErrorKind::kUnreachable) continue;
    if (inst.active == run + 1) lost(inst, run, "ended");
    return;
  }
  if (inst.active == run + 1) lost(inst, run, "unreachable");
}

void Engine::lease_task(sim::Task& task, Instance& inst, std::uint32_t run) {
  while (inst.active == run + 1) {
    if (task.now() >= inst.deadline) {
      lost(inst, run, "silent");
      return;
    }
    inst.changed.wait(task, inst.deadline);
  }
}

void Engine::lost(Instance& inst, std::uint32_t run, const std::string& reason) {
  SIM_ASSERT(inst.active == run + 1);
  sim::World& w = service_.world();
  const WorkflowConfig& c = service_.config();
  inst.active = 0;
  ++service_.stats_.runs_lost;
  w.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_workflow_run_lost();
    e.set_instance(inst.label());
    e.set_run(run);
    e.set_reason(reason);
  });
  if (++inst.lost_in_row >= c.runs_lost_max) {
    inst.error_name = "Error";
    inst.error_message = "the instance's last " + std::to_string(inst.lost_in_row) +
                         " runs were lost (" + reason + ")";
    set_status(inst, "errored");
  } else if (inst.status == "running") {
    set_status(inst, "queued");
    inst.wake_at = w.now() + c.redispatch_delay;
  } else if (inst.status == "waitingForPause") {
    set_status(inst, "paused");
  }
  (void)save(inst);
  inst.changed.notify_all(w);
  wakeup_.notify_all(w);
}

// ---- The persist_after_ack mutant's writer ----

void Engine::flush_loop(sim::Task& task) {
  for (;;) {
    task.sleep(service_.config().unsynced_flush_every);
    for (auto& [id, inst] : instances_) {
      std::vector<std::string> keys;
      for (auto& [key, s] : inst->steps) {
        if (s.written) continue;
        s.written = true;
        keys.push_back(key);
      }
      if (!keys.empty() && !save(*inst, keys)) return;
    }
  }
}

}  // namespace services::workflow_internal
