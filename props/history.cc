#include "props/history.h"

#include <memory>
#include <string_view>

#include "sim/events.h"
#include "traces/reader.h"

namespace props {

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
  auto bad = [&](const std::string& why) {
    return sim::Error{sim::ErrorKind::kInvalid, "event #" + std::to_string(index) + " (" +
                                                    std::string(sim::event_kind(b)) + " at " +
                                                    sim::format_time(event.time) + "): " + why};
  };
  switch (b.kind_case()) {
    case sim::ev::Body::kNodeStart:
      history_.nodes[event.node] = NodeInfo{b.node_start().name(), b.node_start().location()};
      return sim::Status::Ok();
    case sim::ev::Body::kOpInvoke: {
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
    case sim::ev::Body::kOpComplete: {
      const sim::ev::OpComplete& e = b.op_complete();
      auto it = ops_.find(e.op());
      if (it == ops_.end()) return bad("op " + std::to_string(e.op()) + " was never invoked");
      sim::Operation& op = it->second;
      if (op.status != sim::OpStatus::kPending) {
        return bad("op " + std::to_string(e.op()) + " was already completed");
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
    case sim::ev::Body::kOpEffect: {
      const sim::ev::OpEffect& e = b.op_effect();
      auto it = ops_.find(e.op());
      if (it == ops_.end()) return bad("op " + std::to_string(e.op()) + " was never invoked");
      if (e.seq() == 0) return bad("effect seq 0");
      if (it->second.effect_seq != 0) {
        return bad("op " + std::to_string(e.op()) + " already took effect");
      }
      it->second.effect_seq = e.seq();
      return sim::Status::Ok();
    }
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
    default:
      return sim::Status::Ok();
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

}  // namespace props
