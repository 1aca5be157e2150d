#include "props/history.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include "props/linearizability.h"
#include "props/test_util.h"
#include "sim/events.h"
#include "sim/world.h"
#include "traces/writer.h"

namespace props {
namespace {

struct Collector : sim::EventSink {
  std::vector<traces::RecordedEvent> events;
  void on_event(const sim::TraceEvent& e) override {
    events.push_back(traces::RecordedEvent::from(e, events.size(), 0));
  }
};

sim::Result<std::vector<sim::Operation>> ops_from_events(
    const std::vector<traces::RecordedEvent>& events) {
  HistoryRecorder recorder;
  for (const traces::RecordedEvent& e : events) {
    sim::Status s = recorder.add(e.index, e.view());
    if (!s.ok()) return s.error();
  }
  return recorder.take().ops;
}

// Names without spaces (possibly empty), and free text that tries hard to look like fields.
std::string word(test::TestRng& rng) {
  static const char* kWords[] = {"", "c1", "counter-7", "k", "read", "x_y", "a.b", "=="};
  return kWords[rng.next() % 8];
}
std::string text(test::TestRng& rng) {
  static const char* kParts[] = {"",   " ",     "=",         "kind=", " output=x", " input=",
                                 "\n", "a b c", "status=ok", "42",    "\x01\xff",  "op=9"};
  std::string s;
  int n = static_cast<int>(rng.next() % 4);
  for (int i = 0; i < n; ++i) s += kParts[rng.next() % 12];
  return s;
}

void expect_same(const std::vector<sim::Operation>& got, const std::vector<sim::Operation>& want) {
  RC_ASSERT(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const sim::Operation& a = got[i];
    const sim::Operation& b = want[i];
    RC_ASSERT(a.id == b.id);
    RC_ASSERT(a.node == b.node);
    RC_ASSERT(a.client == b.client);
    RC_ASSERT(a.object == b.object);
    RC_ASSERT(a.key == b.key);
    RC_ASSERT(a.kind == b.kind);
    RC_ASSERT(a.input == b.input);
    RC_ASSERT(a.output == b.output);
    RC_ASSERT(a.invoke == b.invoke);
    RC_ASSERT(a.complete == b.complete);
    RC_ASSERT(a.status == b.status);
    RC_ASSERT(a.effect_seq == b.effect_seq);
  }
}

// Drives a History from a task: invokes, completions (ok, fail, unknown), effects and sleeps.
void record(sim::World& w, std::uint64_t seed, int actions) {
  sim::Node& node = w.add_node("client", "lhr");
  w.start();
  sim::History& h = w.history();
  w.spawn(node, "client", [&h, &node, seed, actions](sim::Task& t) {
    test::TestRng rng(seed);
    std::vector<sim::OpId> pending;
    std::vector<sim::OpId> no_effect;
    for (int i = 0; i < actions; ++i) {
      switch (rng.next() % 4) {
        case 0: {
          sim::OpId id = h.invoke(node.id(), word(rng), word(rng), word(rng), word(rng), text(rng));
          pending.push_back(id);
          no_effect.push_back(id);
          break;
        }
        case 1:
          if (!pending.empty()) {
            std::size_t k = rng.next() % pending.size();
            sim::OpStatus s = rng.chance(0.6)   ? sim::OpStatus::kOk
                              : rng.chance(0.5) ? sim::OpStatus::kFail
                                                : sim::OpStatus::kUnknown;
            h.complete(pending[k], s, text(rng));
            pending.erase(pending.begin() + static_cast<long>(k));
          }
          break;
        case 2:
          if (!no_effect.empty()) {
            std::size_t k = rng.next() % no_effect.size();
            h.effect(no_effect[k]);
            no_effect.erase(no_effect.begin() + static_cast<long>(k));
          }
          break;
        default:
          t.sleep(rng.range(0, sim::millis(5)));
      }
    }
  });
  RC_ASSERT(w.run_until(sim::kTimeMax));
}

RC_GTEST_PROP(HistoryRecorder, RebuildsTheRecordedHistoryFromEvents, ()) {
  sim::World w(1);
  Collector sink;
  w.add_sink(&sink);
  record(w, *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(0, 200));
  auto ops = ops_from_events(sink.events);
  RC_ASSERT(ops.ok());
  expect_same(*ops, w.history().ops());
}

TEST(HistoryRecorder, ChecksATraceFile) {
  std::string path =
      ::testing::TempDir() + "props-history-" + std::to_string(::getpid()) + ".trace";
  // A correct counter history, recorded through a real History into a real trace file.
  sim::World w(7);
  traces::WriterOptions wo;
  wo.sync = false;
  auto writer = traces::TraceWriter::open(path, traces::Header(), wo);
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  w.add_sink(writer->get());
  sim::Node& node = w.add_node("client", "lhr");
  w.start();
  sim::History& h = w.history();
  int value = 0;
  for (int c = 0; c < 3; ++c) {
    w.spawn(node, "c" + std::to_string(c), [&, c](sim::Task& t) {
      for (int i = 0; i < 5; ++i) {
        sim::OpId id = h.invoke(node.id(), "c" + std::to_string(c), "ctr", "", "increment", "");
        t.sleep(sim::millis(1 + c));
        h.effect(id);
        std::string out = std::to_string(++value);
        t.sleep(sim::millis(1));
        h.complete(id, sim::OpStatus::kOk, out);
      }
    });
  }
  ASSERT_TRUE(w.run_until(sim::kTimeMax));
  ASSERT_TRUE((*writer)->finish(traces::Footer()).ok());
  auto history = history_from_trace_file(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(history.ok()) << history.error().to_string();
  ASSERT_EQ(history->nodes.size(), 1u);
  EXPECT_EQ(history->nodes.at(node.id()).location, "lhr");
  auto* ops = &history->ops;
  ASSERT_EQ(ops->size(), 15u);
  CounterModel model;
  auto r = check_linearizability(*ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kOk);
  EXPECT_EQ(r->partitions[0].method, CheckMethod::kWitness);
  // A lost increment in the file's history is caught the same way.
  (*ops)[14].output = (*ops)[13].output;
  r = check_linearizability(*ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
}

TEST(HistoryRecorder, MissingFileIsAnError) {
  auto history = history_from_trace_file("/nonexistent/props.trace");
  EXPECT_FALSE(history.ok());
}

traces::RecordedEvent event(std::uint64_t index, sim::ev::Body body) {
  traces::RecordedEvent e;
  e.index = index;
  e.time = sim::millis(3);
  e.body = std::move(body);
  return e;
}

sim::ev::Body invoke_body(std::uint64_t op, std::string kind, std::string input) {
  sim::ev::Body b;
  auto& e = *b.mutable_op_invoke();
  e.set_op(op);
  e.set_client("a");
  e.set_object("o");
  e.set_kind(std::move(kind));
  e.set_input(std::move(input));
  return b;
}

sim::ev::Body complete_body(std::uint64_t op, sim::ev::OpStatus status, std::string output) {
  sim::ev::Body b;
  auto& e = *b.mutable_op_complete();
  e.set_op(op);
  e.set_status(status);
  e.set_output(std::move(output));
  return b;
}

sim::ev::Body effect_body(std::uint64_t op, std::uint64_t seq) {
  sim::ev::Body b;
  b.mutable_op_effect()->set_op(op);
  b.mutable_op_effect()->set_seq(seq);
  return b;
}

TEST(HistoryRecorder, ErrorsNameTheEvent) {
  auto check = [](std::vector<traces::RecordedEvent> events, const std::string& want) {
    auto ops = ops_from_events(events);
    ASSERT_FALSE(ops.ok()) << want;
    EXPECT_EQ(ops.error().message, want);
  };
  auto invoke = event(0, invoke_body(1, "read", ""));
  check({invoke, event(4, complete_body(2, sim::ev::OP_OK, ""))},
        "event #4 (op.complete at 0.003000s): op 2 was never invoked");
  check({event(7, invoke_body(0, "read", ""))}, "event #7 (op.invoke at 0.003000s): op id 0");
  check({invoke, event(1, complete_body(1, sim::ev::OpStatus(9), ""))},
        "event #1 (op.complete at 0.003000s): status 9 (ok, fail or unknown)");
  check({invoke, invoke}, "event #0 (op.invoke at 0.003000s): op 1 was already invoked");
  check({invoke, event(2, effect_body(1, 0))}, "event #2 (op.effect at 0.003000s): effect seq 0");
  check({event(3, effect_body(5, 1))}, "event #3 (op.effect at 0.003000s): op 5 was never invoked");
  check({invoke, event(1, complete_body(1, sim::ev::OP_OK, "")),
         event(2, complete_body(1, sim::ev::OP_OK, ""))},
        "event #2 (op.complete at 0.003000s): op 1 was already completed");
}

// Values that once broke a text format (fields glued as k=v) are plain bytes now.
TEST(HistoryRecorder, ValuesWithSpacesSeparatorsAndEmptyFields) {
  sim::ev::Body invoke = invoke_body(1, "put", "a b=c kind=d");
  invoke.mutable_op_invoke()->set_client("");
  invoke.mutable_op_invoke()->set_key(" kind=x ");
  sim::ev::Body heal;
  heal.mutable_net_heal();
  std::vector<traces::RecordedEvent> events = {
      event(0, heal),
      event(1, invoke),
      event(2, complete_body(1, sim::ev::OP_UNKNOWN, " output=\n")),
  };
  auto ops = ops_from_events(events);
  ASSERT_TRUE(ops.ok()) << ops.error().to_string();
  ASSERT_EQ(ops->size(), 1u);
  const sim::Operation& op = (*ops)[0];
  EXPECT_EQ(op.client, "");
  EXPECT_EQ(op.key, " kind=x ");
  EXPECT_EQ(op.kind, "put");
  EXPECT_EQ(op.input, "a b=c kind=d");
  EXPECT_EQ(op.output, " output=\n");
  EXPECT_EQ(op.status, sim::OpStatus::kUnknown);
  EXPECT_EQ(op.complete, sim::kTimeMax);
}

// Queue events become the queue checker's input: sends from the send operations, dead letters
// from stores into a dead letter queue (also sends there), dispatches, deliveries and acks.
TEST(HistoryRecorder, QueueEventsMakeTheQueueHistory) {
  HistoryRecorder r;
  std::uint64_t index = 0;
  auto add = [&](sim::ev::Body b) {
    ASSERT_TRUE(r.add(index, event(index, std::move(b)).view()).ok());
    ++index;
  };
  sim::ev::Body send = invoke_body(1, "send", "a,b");
  send.mutable_op_invoke()->set_object("queue:jobs");
  add(send);
  add(complete_body(1, sim::ev::OP_OK, ""));
  sim::ev::Body dispatch;
  dispatch.mutable_queue_dispatch()->set_queue("jobs");
  dispatch.mutable_queue_dispatch()->add_ids("a");
  dispatch.mutable_queue_dispatch()->add_attempts(2);
  add(dispatch);
  sim::ev::Body deliver;
  deliver.mutable_queue_deliver()->set_queue("jobs");
  deliver.mutable_queue_deliver()->add_ids("a");
  deliver.mutable_queue_deliver()->add_attempts(2);
  add(deliver);
  sim::ev::Body ack;
  ack.mutable_queue_ack()->set_queue("jobs");
  ack.mutable_queue_ack()->add_ids("a");
  add(ack);
  sim::ev::Body store;
  store.mutable_queue_store()->set_queue("dead");
  store.mutable_queue_store()->add_ids("b");
  store.mutable_queue_store()->set_dead_lettered_from("jobs");
  add(store);
  const QueueHistory q = r.take().queues;
  ASSERT_EQ(q.sends.size(), 3u);  // a and b to jobs, b to dead
  EXPECT_EQ(q.sends[0].queue, "dead");
  EXPECT_EQ(q.sends[1].message_id, "a");
  EXPECT_TRUE(q.sends[2].resolved_ok);
  ASSERT_EQ(q.dispatches.size(), 1u);
  EXPECT_EQ(q.dispatches[0].attempt, 2u);
  ASSERT_EQ(q.deliveries.size(), 1u);
  EXPECT_EQ(q.deliveries[0].attempt, 2u);
  ASSERT_EQ(q.acks.size(), 1u);
  ASSERT_EQ(q.dead_letters.size(), 1u);
  EXPECT_EQ(q.dead_letters[0].queue, "jobs");
  // Mismatched ids and attempts are refused.
  dispatch.mutable_queue_dispatch()->add_ids("c");
  EXPECT_FALSE(r.add(9, event(9, dispatch).view()).ok());
}

}  // namespace
}  // namespace props
