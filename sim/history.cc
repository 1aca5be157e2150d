#include "sim/history.h"

#include "sim/assert.h"
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
  if (world_.tracing()) {
    world_.emit(node, "op.invoke",
                "op=" + std::to_string(op.id) + " client=" + op.client + " object=" + op.object +
                    " key=" + op.key + " kind=" + op.kind + " input=" + op.input);
  }
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
  if (world_.tracing()) {
    world_.emit(
        op.node, "op.complete",
        "op=" + std::to_string(id) + " status=" + op_status_name(status) + " output=" + op.output);
  }
}

void History::effect(OpId id) {
  SIM_REQUIRE(id >= 1 && id <= ops_.size());
  Operation& op = ops_[id - 1];
  SIM_REQUIRE(op.effect_seq == 0);
  op.effect_seq = next_effect_++;
  if (world_.tracing()) {
    world_.emit(op.node, "op.effect",
                "op=" + std::to_string(id) + " seq=" + std::to_string(op.effect_seq));
  }
}

std::size_t History::pending() const {
  std::size_t n = 0;
  for (const auto& op : ops_) n += op.status == OpStatus::kPending ? 1 : 0;
  return n;
}

}  // namespace sim
