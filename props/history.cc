#include "props/history.h"

#include <memory>
#include <string_view>

#include "sim/events.h"
#include "traces/reader.h"

namespace props {
namespace {

// The Fault body of a fault.* event (every kind but fault.swarm has one).
const sim::ev::Fault& fault_of(const sim::ev::Body& b) {
  switch (b.kind_case()) {
    case sim::ev::Body::kFaultPartition:
      return b.fault_partition();
    case sim::ev::Body::kFaultIsolate:
      return b.fault_isolate();
    case sim::ev::Body::kFaultHeal:
      return b.fault_heal();
    case sim::ev::Body::kFaultCrash:
      return b.fault_crash();
    case sim::ev::Body::kFaultRestart:
      return b.fault_restart();
    case sim::ev::Body::kFaultPause:
      return b.fault_pause();
    case sim::ev::Body::kFaultResume:
      return b.fault_resume();
    case sim::ev::Body::kFaultClog:
      return b.fault_clog();
    case sim::ev::Body::kFaultLoss:
      return b.fault_loss();
    case sim::ev::Body::kFaultDuplicate:
      return b.fault_duplicate();
    case sim::ev::Body::kFaultReorder:
      return b.fault_reorder();
    case sim::ev::Body::kFaultTornWrites:
      return b.fault_torn_writes();
    case sim::ev::Body::kFaultSites:
      return b.fault_sites();
    case sim::ev::Body::kFaultQuiet:
      return b.fault_quiet();
    default:
      return b.fault_site();
  }
}

}  // namespace

namespace {

sim::OpStatus status_of(sim::ev::OpStatus s, bool* ok) {
  *ok = true;
  switch (s) {
    case sim::ev::OP_OK:
      return sim::OpStatus::kOk;
    case sim::ev::OP_FAIL:
      return sim::OpStatus::kFail;
    case sim::ev::OP_UNKNOWN:
      return sim::OpStatus::kUnknown;
    default:
      *ok = false;
      return sim::OpStatus::kPending;
  }
}

}  // namespace

std::string History::location_of(sim::NodeId node) const {
  auto it = nodes.find(node);
  return it == nodes.end() ? std::string() : it->second.location;
}

sim::Status HistoryRecorder::add(std::uint64_t index, const sim::TraceEvent& event) {
  const sim::ev::Body& b = *event.body;
  const Bad bad = [&](const std::string& why) {
    return sim::Error{sim::ErrorKind::kInvalid, "event #" + std::to_string(index) + " (" +
                                                    std::string(sim::event_kind(b)) + " at " +
                                                    sim::format_time(event.time) + "): " + why};
  };
  switch (b.kind_case()) {
    case sim::ev::Body::kNodeStart:
      history_.nodes[event.node] = NodeInfo{b.node_start().name(), b.node_start().location()};
      return sim::Status::Ok();
    case sim::ev::Body::kOpInvoke:
    case sim::ev::Body::kOpComplete:
    case sim::ev::Body::kOpEffect:
      return add_op(event, bad);
    case sim::ev::Body::kDoActivate: {
      const sim::ev::DoActivate& e = b.do_activate();
      history_.do_activations.push_back(DoActivation{e.object(), "i" + std::to_string(e.instance()),
                                                     history_.nodes.count(e.host()) != 0
                                                         ? history_.nodes.at(e.host()).name
                                                         : "node " + std::to_string(e.host()),
                                                     e.epoch(), event.time});
      return sim::Status::Ok();
    }
    case sim::ev::Body::kDoCommit: {
      const sim::ev::DoCommit& e = b.do_commit();
      history_.do_commits.push_back(
          DoCommit{e.object(), "i" + std::to_string(e.instance()), e.epoch(), event.time});
      return sim::Status::Ok();
    }
    case sim::ev::Body::kLoadResponse:
      ++history_.load_statuses[b.load_response().load()][b.load_response().status()];
      return sim::Status::Ok();
    case sim::ev::Body::kFaultPartition:
    case sim::ev::Body::kFaultIsolate:
    case sim::ev::Body::kFaultHeal:
    case sim::ev::Body::kFaultCrash:
    case sim::ev::Body::kFaultRestart:
    case sim::ev::Body::kFaultPause:
    case sim::ev::Body::kFaultResume:
    case sim::ev::Body::kFaultClog:
    case sim::ev::Body::kFaultLoss:
    case sim::ev::Body::kFaultDuplicate:
    case sim::ev::Body::kFaultReorder:
    case sim::ev::Body::kFaultTornWrites:
    case sim::ev::Body::kFaultSites:
    case sim::ev::Body::kFaultQuiet:
    case sim::ev::Body::kFaultSite:
      history_.faults.push_back(FaultRecord{
          event.time, std::string(sim::event_kind_name(static_cast<int>(b.kind_case()))),
          fault_of(b).text()});
      return sim::Status::Ok();
    case sim::ev::Body::kCronRun:
    case sim::ev::Body::kCronDone:
    case sim::ev::Body::kCronGiveUp:
      add_cron_event(event);
      return sim::Status::Ok();
    case sim::ev::Body::kWorkflowStatus:
    case sim::ev::Body::kWorkflowStep:
    case sim::ev::Body::kWorkflowReference:
      add_workflow_event(event);
      return sim::Status::Ok();
    case sim::ev::Body::kQueueStore:
    case sim::ev::Body::kQueueDispatch:
    case sim::ev::Body::kQueueDeliver:
    case sim::ev::Body::kQueueAck:
      if (b.queue_dispatch().ids_size() != b.queue_dispatch().attempts_size() ||
          b.queue_deliver().ids_size() != b.queue_deliver().attempts_size()) {
        return bad("ids and attempts differ in number");
      }
      add_queue_event(event);
      return sim::Status::Ok();
    default:
      return sim::Status::Ok();
  }
}

sim::Status HistoryRecorder::add_op(const sim::TraceEvent& event, const Bad& bad) {
  const sim::ev::Body& b = *event.body;
  if (b.has_op_invoke()) {
    const sim::ev::OpInvoke& e = b.op_invoke();
    if (e.op() == 0) return bad("op id 0");
    if (ops_.count(e.op()) != 0)
      return bad("op " + std::to_string(e.op()) + " was already invoked");
    sim::Operation op;
    op.id = e.op();
    op.node = event.node;
    op.client = e.client();
    op.object = e.object();
    op.key = e.key();
    op.kind = e.kind();
    op.input = e.input();
    op.invoke = event.time;
    ops_.emplace(op.id, std::move(op));
    return sim::Status::Ok();
  }
  const std::uint64_t id = b.has_op_complete() ? b.op_complete().op() : b.op_effect().op();
  auto it = ops_.find(id);
  if (it == ops_.end()) return bad("op " + std::to_string(id) + " was never invoked");
  sim::Operation& op = it->second;
  if (b.has_op_effect()) {
    if (b.op_effect().seq() == 0) return bad("effect seq 0");
    if (op.effect_seq != 0) return bad("op " + std::to_string(id) + " already took effect");
    op.effect_seq = b.op_effect().seq();
    return sim::Status::Ok();
  }
  const sim::ev::OpComplete& e = b.op_complete();
  if (op.status != sim::OpStatus::kPending) {
    return bad("op " + std::to_string(id) + " was already completed");
  }
  bool known = false;
  const sim::OpStatus status = status_of(e.status(), &known);
  if (!known) return bad("status " + std::to_string(e.status()) + " (ok, fail or unknown)");
  if (event.time < op.invoke) return bad("completion before the invoke");
  op.status = status;
  op.output = e.output();
  op.complete = status == sim::OpStatus::kUnknown ? sim::kTimeMax : event.time;
  return sim::Status::Ok();
}

void HistoryRecorder::add_workflow_event(const sim::TraceEvent& event) {
  const sim::ev::Body& b = *event.body;
  if (b.has_workflow_reference()) {
    // Compared only with an instance that completed here too: one that errored under faults (an
    // event that never came, a step that ran out of retries) was not replayed wrongly.
    auto it = history_.workflows.instances.find(b.workflow_reference().instance());
    if (it != history_.workflows.instances.end() && it->second.status == "complete") {
      it->second.replay.reference_output = b.workflow_reference().output();
    }
    return;
  }
  if (b.has_workflow_status()) {
    const sim::ev::WorkflowStatus& e = b.workflow_status();
    WorkflowRecord& rec = history_.workflows.instances[e.instance()];
    rec.replay.instance_id = e.instance();
    if (e.from().empty()) {
      rec.workflow = e.workflow();
      rec.created = event.time;
    }
    rec.status = e.status();
    if (e.status() == "complete" || e.status() == "errored" || e.status() == "terminated") {
      if (!rec.finished.has_value()) rec.finished = event.time;
      rec.replay.final_output = e.status() == "complete"  ? e.output()
                                : e.status() == "errored" ? "errored: " + e.error()
                                                          : std::string("terminated");
    }
    return;
  }
  const sim::ev::WorkflowStep& e = b.workflow_step();
  WorkflowInstance& inst = history_.workflows.instances[e.instance()].replay;
  inst.instance_id = e.instance();
  const std::string& kind = e.kind();
  const auto step = [&](StepEventKind k, std::string result) {
    inst.events.push_back({e.step(), k, e.run(), event.time, std::move(result)});
  };
  if (kind == "start") step(StepEventKind::kStart, "");
  if (kind == "success" || kind == "wake" || kind == "deliver") {
    step(StepEventKind::kSuccess, e.result());
  }
  if (kind == "failure" || kind == "timeout") step(StepEventKind::kFailure, "");
  // A cached failure returns no result: it is not a cached return of one.
  if (kind == "cached" && e.error().empty()) step(StepEventKind::kCachedReturn, e.result());
  if (kind == "start" || kind == "cached" || kind == "sleep" || kind == "wait") {
    if (inst.runs.size() <= e.run()) inst.runs.resize(e.run() + 1);
    inst.runs[e.run()].push_back(e.step());
  }
}

void HistoryRecorder::add_queue_event(const sim::TraceEvent& event) {
  const sim::ev::Body& b = *event.body;
  QueueHistory& q = history_.queues;
  const std::string consumer = history_.nodes.count(event.node) != 0
                                   ? history_.nodes.at(event.node).name
                                   : "node " + std::to_string(event.node);
  switch (b.kind_case()) {
    case sim::ev::Body::kQueueStore:
      if (b.queue_store().dead_lettered_from().empty()) return;
      for (const std::string& id : b.queue_store().ids()) {
        q.dead_letters.push_back({b.queue_store().dead_lettered_from(), id, event.time});
        q.sends.push_back({b.queue_store().queue(), id, true, event.time});
      }
      return;
    case sim::ev::Body::kQueueDispatch:
      for (int i = 0; i < b.queue_dispatch().ids_size(); ++i) {
        q.dispatches.push_back({b.queue_dispatch().queue(), b.queue_dispatch().ids(i),
                                b.queue_dispatch().attempts(i), event.time});
      }
      return;
    case sim::ev::Body::kQueueDeliver:
      for (int i = 0; i < b.queue_deliver().ids_size(); ++i) {
        q.deliveries.push_back({b.queue_deliver().queue(), b.queue_deliver().ids(i),
                                b.queue_deliver().attempts(i), event.time, consumer});
      }
      return;
    case sim::ev::Body::kQueueAck:
      for (const std::string& id : b.queue_ack().ids()) {
        q.acks.push_back({b.queue_ack().queue(), id, event.time});
      }
      return;
    default:
      return;
  }
}

void HistoryRecorder::on_event(const sim::TraceEvent& event) {
  const std::uint64_t index = next_index_++;
  if (!status_.ok()) return;
  status_ = add(index, event);
}

History HistoryRecorder::take() {
  History out = std::move(history_);
  history_ = History();
  out.ops.reserve(ops_.size());
  for (auto& [id, op] : ops_) out.ops.push_back(std::move(op));
  ops_.clear();
  // A queue send is an operation whose input lists its message ids.
  for (const sim::Operation& op : out.ops) {
    if (!op.object.starts_with("queue:") || op.kind != "send") continue;
    const std::string queue = op.object.substr(6);
    const bool ok = op.status == sim::OpStatus::kOk;
    const sim::Time time = op.complete == sim::kTimeMax ? op.invoke : op.complete;
    std::size_t from = 0;
    while (from < op.input.size()) {
      std::size_t comma = op.input.find(',', from);
      if (comma == std::string::npos) comma = op.input.size();
      out.queues.sends.push_back({queue, op.input.substr(from, comma - from), ok, time});
      from = comma + 1;
    }
  }
  return out;
}

sim::Result<History> history_from_trace_file(const std::string& path) {
  auto reader = traces::TraceReader::open(path);
  if (!reader.ok()) return reader.error();
  HistoryRecorder recorder;
  while (true) {
    auto event = (*reader)->next();
    if (!event.ok()) return event.error();
    if (*event == nullptr) break;
    sim::Status s = recorder.add((*event)->index, (*event)->view());
    if (!s.ok()) return sim::Error{s.error().kind, (*reader)->name() + ": " + s.error().message};
  }
  return recorder.take();
}

void HistoryRecorder::add_cron_event(const sim::TraceEvent& event) {
  const sim::ev::Body& b = *event.body;
  CronHistory& c = history_.cron;
  switch (b.kind_case()) {
    case sim::ev::Body::kCronRun: {
      const sim::ev::CronFiring& f = b.cron_run();
      CronRun run;
      run.worker = f.worker();
      run.cron = f.cron();
      run.scheduled = f.scheduled_time();
      run.attempt = f.attempt();
      run.pop = event.node;
      run.started = event.time;
      c.runs.push_back(std::move(run));
      return;
    }
    case sim::ev::Body::kCronDone: {
      const sim::ev::CronFiring& f = b.cron_done().firing();
      // The run it ends: the latest unended run of this firing on this node.
      for (auto it = c.runs.rbegin(); it != c.runs.rend(); ++it) {
        if (!it->ended && it->pop == event.node && it->scheduled == f.scheduled_time() &&
            it->attempt == f.attempt() && it->worker == f.worker() && it->cron == f.cron()) {
          it->ended = true;
          it->outcome = b.cron_done().outcome();
          it->error = b.cron_done().error();
          return;
        }
      }
      return;
    }
    case sim::ev::Body::kCronGiveUp: {
      const sim::ev::CronFiring& f = b.cron_give_up().firing();
      c.give_ups.push_back(CronGiveUp{f.worker(), f.cron(), f.scheduled_time(), event.time,
                                      b.cron_give_up().reason()});
      return;
    }
    default:
      return;
  }
}

}  // namespace props
