// Sequential specifications for the linearizability checker (props/linearizability.h).
//
// A Model is a deterministic state machine over strings: a state is an opaque string, and step()
// applies one recorded sim::Operation to a state, giving the next state and the output the
// operation should have returned. Strings keep the interface open: a model written in JS (or
// anywhere else) plugs in by implementing init() and step() over its own JSON or text encoding.
//
// Contract for implementers:
//   - init() and step() are pure: same arguments, same result, no hidden state. The checker calls
//     step() many times on the same state, in any order, and hashes states to memoize them, so two
//     states that behave alike should be the same string (canonical encodings).
//   - step() returns legal = false when the operation cannot happen at all in this state (for
//     example its input is malformed). Otherwise it returns the expected output. The checker
//     compares that output with Operation::output for operations that completed ok, byte for
//     byte. A model that does not constrain an output returns op.output itself; a model that
//     accepts several spellings of one output returns op.output when it is one of them.
//   - partition_key(): operations of one object whose keys differ must be independent (no
//     operation reads or writes two keys); the checker then checks each key on its own
//     (P-compositionality). Return "" for all operations to check an object as a whole.
//   - read_only(op) may return true only if step() never changes the state for this operation,
//     whatever the state. The checker then linearizes such an operation as soon as its output
//     matches, which prunes the search; a wrong `true` makes the checker unsound.
//   - blind(op) may return true only if step() gives the same result (legality, state and
//     output) for this operation whatever the state, like a register write. When every
//     operation left that is not read-only is blind, a state that no pending read matches can
//     never be observed, and the checker treats all such states as one (it memoizes them
//     together). A wrong `true` makes the checker unsound; the default (false) is safe.
//   - viable(state, op) may return false only if no sequence of operations applied to `state`
//     can lead to a state where `op` (completed ok) returns its recorded output. The checker
//     abandons a configuration as soon as a pending read-only op is not viable there, which
//     keeps models like the append list from trying every order of unobserved appends. A wrong
//     `false` makes the checker unsound; the default (always true) is safe.
//
// Built-in models and their string encodings. Integers are decimal ("-12"); lists are
// comma-separated without spaces ("a,b,c"; "" is the empty list); "null" is an absent value.
// Every built-in model partitions by Operation::key.
//
//   "register"  a single value; initially absent ("null").
//       write  input: the value                      output: not checked
//       read   input: ignored                        output: the value; absent reads as "null"
//                                                    or ""
//       cas    input: "expected,new" (values without  output: "true" if it swapped, else "false"
//              commas; "null" expects absent)
//
//   "counter"   a signed 64-bit integer; initially 0.
//       increment, add  input: the delta ("" means 1)   output: the new value, or "" (unchecked)
//       decrement       input: the delta ("" means 1)   output: the new value, or "" (unchecked)
//       read, get       input: ignored                  output: the value
//
//   "kv"        one key of a key-value map (the checker splits the map by key); initially
//               absent. put/write/set input: the value; delete: the key becomes absent ("null");
//               get/read output: the value, absent as "null" or "". Outputs of put and delete
//               are not checked.
//
//   "set"       a set of elements (non-empty, without commas); initially empty.
//       add, remove  input: the element              output: not checked
//       contains     input: the element              output: "true" or "false"
//       read         input: ignored                  output: the elements in any order
//
//   "list"      an append-only list of elements (without commas); initially empty.
//       append       input: the element              output: not checked
//       read         input: ignored                  output: the elements in append order
//
// An operation kind a model does not know is illegal in every state, so a history that contains
// one (completed ok) is reported as violated, naming the operation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/history.h"

namespace props {

struct StepResult {
  bool legal = true;   // false: the operation cannot be applied in this state at all
  std::string state;   // the state after the operation (when legal)
  std::string output;  // what the operation returns (when legal)
};

class Model {
 public:
  virtual ~Model() = default;

  // A short name for reports ("register").
  virtual std::string name() const = 0;
  // The state before any operation.
  virtual std::string init() const = 0;
  // Applies `op` (its kind and input; its output only as described above) to `state`.
  virtual StepResult step(const std::string& state, const sim::Operation& op) const = 0;
  // Operations with different keys (of one object) are independent. Default: Operation::key.
  virtual std::string partition_key(const sim::Operation& op) const { return op.key; }
  // True only if step() never changes the state for `op`. Default: false (always safe).
  virtual bool read_only(const sim::Operation& op) const { return false; }
  // True only if step() for `op` does not depend on the state. Default: false (always safe).
  virtual bool blind(const sim::Operation& op) const { return false; }
  // False only if `op` can no longer return its recorded output from `state`, whatever
  // operations come first. Default: true (always safe).
  virtual bool viable(const std::string& state, const sim::Operation& op) const { return true; }
  // For reports: how a read's output `got` differs from the `expected` one, in the user's terms
  // ("missing: b, c"), or "" when there is nothing more to say than the two values.
  virtual std::string difference(const std::string& expected, const std::string& got) const {
    return "";
  }
};

class RegisterModel : public Model {
 public:
  std::string name() const override { return "register"; }
  std::string init() const override { return "null"; }
  StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override { return op.kind == "read"; }
  bool blind(const sim::Operation& op) const override { return op.kind == "write"; }
};

class CounterModel : public Model {
 public:
  std::string name() const override { return "counter"; }
  std::string init() const override { return "0"; }
  StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override;
  std::string difference(const std::string& expected, const std::string& got) const override;
};

class KvModel : public Model {
 public:
  std::string name() const override { return "kv"; }
  std::string init() const override { return "null"; }
  StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override;
  bool blind(const sim::Operation& op) const override;
};

class SetModel : public Model {
 public:
  std::string name() const override { return "set"; }
  std::string init() const override { return ""; }
  StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override;
  std::string difference(const std::string& expected, const std::string& got) const override;
};

class ListModel : public Model {
 public:
  std::string name() const override { return "list"; }
  std::string init() const override { return ""; }
  StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override { return op.kind == "read"; }
  // A read must return a list that starts with the current one: lists only grow.
  bool viable(const std::string& state, const sim::Operation& op) const override;
};

// The built-in model called `name` ("register", "counter", "kv", "set", "list"), or nullptr.
std::unique_ptr<Model> make_model(std::string_view name);
std::vector<std::string> builtin_model_names();

}  // namespace props
