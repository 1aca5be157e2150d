// The history recorder: ground truth for the checkers in props/. Every client operation is an
// invoke and a completion with virtual times; the completion is ok, fail (surely had no effect),
// or unknown (a timeout or crash hid the outcome: it may take effect at any later time or never).
// Services may also record the effect point: the order in which an object really applied
// operations, a witness the linearizability checker tries first.
//
// Every record is also a trace event ("op.invoke", "op.complete", "op.effect"), so a trace file
// carries the whole history and the checkers work on live runs and on traces alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/time.h"

namespace sim {

class World;

enum class OpStatus { kPending, kOk, kFail, kUnknown };
const char* op_status_name(OpStatus s);

using OpId = std::uint64_t;

struct Operation {
  OpId id = 0;
  NodeId node = kNoNode;
  std::string client;  // who issued it (one client runs one operation at a time)
  std::string object;  // e.g. a Durable Object id or KV namespace
  std::string key;     // sub-object, for P-compositionality (may be empty)
  std::string kind;    // "read", "write", "increment", ...
  std::string input;
  std::string output;
  Time invoke = 0;
  Time complete = kTimeMax;  // kTimeMax while pending or unknown
  OpStatus status = OpStatus::kPending;
  std::uint64_t effect_seq = 0;  // 0: no recorded effect point; else its global order
};

class History {
 public:
  explicit History(World& world) : world_(world) {}

  OpId invoke(NodeId node, std::string client, std::string object, std::string key,
              std::string kind, std::string input);
  // REQUIRES: `id` was invoked and is pending.
  void complete(OpId id, OpStatus status, std::string output);
  // The operation took effect now, in this order relative to other effects on its object.
  void effect(OpId id);

  const std::vector<Operation>& ops() const { return ops_; }
  const Operation& op(OpId id) const { return ops_.at(id - 1); }
  std::size_t pending() const;

 private:
  World& world_;
  std::vector<Operation> ops_;
  std::uint64_t next_effect_ = 1;
};

class Node;

// Completes a still-pending operation as unknown when the scope is left with its node down (a
// crash cancelled the calling task mid-call: the request may have reached its service). Other
// cancellations, a World's teardown included, leave it pending, which a checker reads the same
// way (never completed); completing it then could emit to sinks already gone.
class UnknownOnCrash {
 public:
  UnknownOnCrash(History& history, OpId op, const Node& node)
      : history_(history), op_(op), node_(node) {}
  UnknownOnCrash(const UnknownOnCrash&) = delete;
  UnknownOnCrash& operator=(const UnknownOnCrash&) = delete;
  ~UnknownOnCrash();

 private:
  History& history_;
  OpId op_;
  const Node& node_;
};

}  // namespace sim
