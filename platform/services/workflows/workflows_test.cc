// WorkflowService with a C++ run (no V8): a scripted workflow (step "a", a 1-hour sleep, step
// "b") driven through the engine's step protocol, across engine crashes, with the reference
// engine and the persist_after_ack mutant; and the message encoding's laws.
#include "platform/services/workflows/workflows.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/events.h"
#include "sim/world.h"

namespace services {
namespace {

// run(): step.do("a") taking `step_time`, step.sleep("nap", 1 h), step.do("b"), return "done".
// Counts how often each step's function ran.
class ScriptedRun final : public WorkflowRunExecutor {
 public:
  explicit ScriptedRun(WorkflowService& service) : service_(service) {}
  sim::Duration step_time = 0;
  std::map<std::string, int> executions;

  sim::Status run(sim::Task& task, const WorkflowRun& r) override {
    // One call of the run; nullopt when the run must end (suspended, aborted, unreachable).
    auto call = [&](WorkflowMessage m) -> std::optional<WorkflowMessage> {
      m.set("id", r.instance_id).set("generation", r.generation).set("run", r.run);
      sim::Result<WorkflowMessage> reply = service_.call(task, r.workflow, m);
      if (!reply.ok() || reply->op != "ok") return std::nullopt;
      const std::string& a = reply->get("a");
      if (a == "suspend" || a == "abort") return std::nullopt;
      return *reply;
    };
    auto step = [&](const std::string& key) {
      auto b = call(WorkflowMessage{"begin", {}, {}}.set("key", key).set("kind", "do"));
      if (!b) return false;
      if (b->get("a") == "cached") return true;
      ++executions[key];
      task.sleep(step_time);
      WorkflowMessage c{"commit", {}, "result " + key};
      c.set("key", key).set("attempt", b->num("attempt")).set("ok", 1).set("display", key);
      return call(c).has_value();
    };
    if (!step("a")) return sim::Status::Ok();
    auto nap = call(WorkflowMessage{"begin", {}, {}}
                        .set("key", "nap")
                        .set("kind", "sleep")
                        .set("duration", sim::kHour));
    if (!nap || !step("b")) return sim::Status::Ok();
    (void)call(WorkflowMessage{"finish", {}, "done"}.set("ok", 1).set("display", "done"));
    return sim::Status::Ok();
  }

 private:
  WorkflowService& service_;
};

// The engine's workflow.step events: "kind step" in order.
class StepLog final : public sim::EventSink {
 public:
  void on_event(const sim::TraceEvent& e) override {
    if (e.body->has_workflow_step()) {
      steps.push_back(e.body->workflow_step().kind() + " " + e.body->workflow_step().step());
    }
    if (e.body->has_workflow_status()) last_status = e.body->workflow_status().status();
  }
  int count(const std::string& entry) const {
    int n = 0;
    for (const std::string& s : steps) n += s == entry;
    return n;
  }
  // Starts of `key` after its first success (a persisted step that ran again).
  int starts_after_success(const std::string& key) const {
    bool persisted = false;
    int n = 0;
    for (const std::string& s : steps) {
      if (s == "success " + key) persisted = true;
      if (persisted && s == "start " + key) ++n;
    }
    return n;
  }
  std::vector<std::string> steps;
  std::string last_status;
};

struct WorkflowWorld {
  explicit WorkflowWorld(WorkflowConfig config = {}) : w(5), service(w, config), runner(service) {
    service.add_workflow("flow", "Flow", "app");
    engine = &w.add_node("workflow-1", "fra");
    service.add_engine(*engine);
    pop = &w.add_node("pop-lhr", "lhr");
    service.add_runner("app", *pop, runner);
    w.add_sink(&log);
    w.start();
  }
  ~WorkflowWorld() { w.remove_sink(&log); }
  std::string create(const std::string& id) {
    std::string out;
    w.spawn(*pop, "create", [&](sim::Task& t) {
      auto r = service.call(t, "flow", WorkflowMessage{"create", {}, "params"}.set("id", id));
      out = r.ok() ? r->op + " " + r->get("id") + r->get("message") : r.error().message;
    });
    w.run_for(sim::kSecond);
    return out;
  }

  sim::World w;
  WorkflowService service;
  ScriptedRun runner;
  StepLog log;
  sim::Node* engine = nullptr;
  sim::Node* pop = nullptr;
};

TEST(WorkflowEngine, ReplaysGetPersistedResultsBack) {
  WorkflowWorld ww;
  ASSERT_EQ(ww.create("i"), "ok i");
  EXPECT_EQ(ww.create("i"), "error instance.already_exists");
  ww.w.run_for(2 * sim::kHour);
  EXPECT_EQ(ww.log.last_status, "complete");
  EXPECT_EQ(ww.runner.executions["a"], 1);
  EXPECT_EQ(ww.runner.executions["b"], 1);
  // Run 0 ran "a" and slept; run 1 got "a" back, woke, ran "b".
  EXPECT_EQ(ww.log.count("cached a"), 1);
  EXPECT_EQ(ww.log.count("wake nap"), 1);
  EXPECT_EQ(ww.service.stats().runs, 2u);
}

// The engine crashes while step "a" runs: the run's commit cannot reach it, the restarted engine
// runs the instance again, and "a" runs a second time (at least once: its result was never
// durable). No persisted step ever runs again.
TEST(WorkflowEngine, AnEngineCrashMidStepRunsTheStepAgain) {
  WorkflowConfig c;
  WorkflowWorld ww(c);
  ww.runner.step_time = 5 * sim::kSecond;
  ASSERT_EQ(ww.create("i"), "ok i");
  ww.w.crash(*ww.engine);
  ww.w.run_for(sim::kSecond);
  ww.w.restart(*ww.engine);
  ww.w.run_for(2 * sim::kHour);
  EXPECT_EQ(ww.log.last_status, "complete");
  EXPECT_EQ(ww.runner.executions["a"], 2);
  EXPECT_EQ(ww.log.starts_after_success("a"), 0);
  EXPECT_EQ(ww.log.starts_after_success("b"), 0);
}

// The mutant acknowledges results before they are durable: a crash right after step "a" loses
// its result, and the replay runs "a" again after it was reported persisted.
TEST(WorkflowEngine, ThePersistAfterAckMutantRunsAPersistedStepAgain) {
  for (const bool mutant : {false, true}) {
    WorkflowConfig c;
    c.persist_after_ack = mutant;
    c.unsynced_flush_every = 10 * sim::kSecond;
    WorkflowWorld ww(c);
    ww.runner.step_time = 2 * sim::kSecond;
    ASSERT_EQ(ww.create("i"), "ok i");
    ww.w.run_for(3 * sim::kSecond);  // "a" succeeded; the instance sleeps
    ASSERT_EQ(ww.log.count("success a"), 1);
    ww.w.crash(*ww.engine);
    ww.w.restart(*ww.engine);
    ww.w.run_for(2 * sim::kHour);
    EXPECT_EQ(ww.log.starts_after_success("a"), mutant ? 1 : 0) << "mutant " << mutant;
  }
}

TEST(WorkflowEngine, MessagesRoundTripAndGarbageIsRefused) {
  rc::check("decode(encode(m)) == m",
            [](std::string op, std::map<std::string, std::string> f, std::string bytes) {
              if (f.size() > 64) f.erase(std::next(f.begin(), 64), f.end());
              const WorkflowMessage m{op, f, bytes};
              sim::Result<WorkflowMessage> back = WorkflowMessage::decode(m.encode());
              RC_ASSERT(back.ok());
              RC_ASSERT(back->op == op);
              RC_ASSERT(back->fields == f);
              RC_ASSERT(back->bytes == bytes);
            });
  rc::check("a truncated message is refused", [](std::string op, std::string bytes) {
    const std::string whole = WorkflowMessage{op, {{"k", "v"}}, bytes}.encode();
    const std::size_t cut = *rc::gen::inRange<std::size_t>(0, whole.size());
    RC_ASSERT(!WorkflowMessage::decode(whole.substr(0, cut)).ok());
  });
}

}  // namespace
}  // namespace services
