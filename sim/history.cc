#include "sim/history.h"

#include "sim/assert.h"
#include "sim/events.h"
#include "sim/world.h"

namespace sim {

const char* op_status_name(OpStatus s) {
  switch (s) {
    case OpStatus::kPending:
      return "pending";
    case OpStatus::kOk:
      return "ok";
    case OpStatus::kFail:
      return "fail";
    case OpStatus::kUnknown:
      return "unknown";
  }
  return "?";
}

OpId History::invoke(NodeId node, std::string client, std::string object, std::string key,
                     std::string kind, std::string input) {
  Operation op;
  op.id = ops_.size() + 1;
  op.node = node;
  op.client = std::move(client);
  op.object = std::move(object);
  op.key = std::move(key);
  op.kind = std::move(kind);
  op.input = std::move(input);
  op.invoke = world_.now();
  world_.emit(node, [&](ev::Body& b) {
    auto& e = *b.mutable_op_invoke();
    e.set_op(op.id);
    e.set_client(op.client);
    e.set_object(op.object);
    e.set_key(op.key);
    e.set_kind(op.kind);
    e.set_input(op.input);
  });
  ops_.push_back(std::move(op));
  return ops_.back().id;
}

void History::complete(OpId id, OpStatus status, std::string output) {
  SIM_REQUIRE(id >= 1 && id <= ops_.size());
  SIM_REQUIRE(status != OpStatus::kPending);
  Operation& op = ops_[id - 1];
  SIM_REQUIRE(op.status == OpStatus::kPending);
  op.status = status;
  op.output = std::move(output);
  op.complete = status == OpStatus::kUnknown ? kTimeMax : world_.now();
  world_.emit(op.node, [&](ev::Body& b) {
    auto& e = *b.mutable_op_complete();
    e.set_op(id);
    e.set_status(static_cast<ev::OpStatus>(status));
    e.set_output(op.output);
  });
}

void History::effect(OpId id) {
  SIM_REQUIRE(id >= 1 && id <= ops_.size());
  Operation& op = ops_[id - 1];
  SIM_REQUIRE(op.effect_seq == 0);
  op.effect_seq = next_effect_++;
  world_.emit(op.node, [&](ev::Body& b) {
    auto& e = *b.mutable_op_effect();
    e.set_op(id);
    e.set_seq(op.effect_seq);
  });
}

std::size_t History::pending() const {
  std::size_t n = 0;
  for (const auto& op : ops_) n += op.status == OpStatus::kPending ? 1 : 0;
  return n;
}

}  // namespace sim

namespace sim {
// The trace's status values are the recorder's, in the same order.
static_assert(static_cast<int>(OpStatus::kPending) == ev::OP_PENDING);
static_assert(static_cast<int>(OpStatus::kOk) == ev::OP_OK);
static_assert(static_cast<int>(OpStatus::kFail) == ev::OP_FAIL);
static_assert(static_cast<int>(OpStatus::kUnknown) == ev::OP_UNKNOWN);
UnknownOnCrash::~UnknownOnCrash() {
  if (node_.down() && history_.op(op_).status == OpStatus::kPending) {
    history_.complete(op_, OpStatus::kUnknown, "");
  }
}

}  // namespace sim
