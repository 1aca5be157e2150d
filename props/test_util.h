// Test and benchmark helpers for props/: histories that are linearizable by construction, and
// planted violations that no linearization can explain. Header-only; used by props/*_test.cc
// and bench/props_bench.cc, never by the library.
//
// make_history() simulates clients that each run one operation at a time (random latency and
// think time, a few long operations) against an independent reference object (not the props
// models, so the models are tested too). Each operation takes effect at a point drawn inside its
// interval; the reference object applies effects in that order, which gives the outputs and,
// when asked, effect_seq. Failed operations have no effect; unknown ones take effect at a random
// later time or never, and their client moves on after a timeout.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/time.h"

namespace props::test {

// splitmix64: deterministic, tiny, good enough for test data.
class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t s_;
};

struct GenOptions {
  std::string model = "register";  // register, counter, kv, set, list
  std::uint64_t seed = 1;
  int clients = 10;
  int ops = 1000;
  int keys = 1;
  std::string object = "obj";
  sim::Duration latency_min = sim::millis(1);
  sim::Duration latency_max = sim::millis(10);
  sim::Duration think_max = sim::millis(2);
  double long_op_rate = 0.01;  // such ops take 10x latency_max
  double read_rate = 0.5;
  double cas_rate = 0.0;  // register only
  double fail_rate = 0.0;
  double unknown_rate = 0.0;
  bool witness = true;   // record effect_seq for every op that took effect
  int value_domain = 0;  // 0: every written value is unique; else values "v0".."v<d-1>"
};

namespace detail {

struct Planned {
  sim::Operation op;
  sim::Time effect = 0;  // meaningful when applies
  bool applies = true;
  std::uint64_t tiebreak = 0;
};

// The reference objects: plain C++ containers, one per key.
class Reference {
 public:
  explicit Reference(std::string model) : model_(std::move(model)) {}

  // Applies op (kind, input) and returns its output.
  std::string apply(const sim::Operation& op, TestRng& rng) {
    const std::string& m = model_;
    if (m == "register" || m == "kv") {
      std::optional<std::string>& v = values_[op.key];
      if (op.kind == "read" || op.kind == "get") return v.value_or("null");
      if (op.kind == "write" || op.kind == "put") {
        v = op.input;
        return "";
      }
      if (op.kind == "delete") {
        v.reset();
        return "";
      }
      if (op.kind == "cas") {
        std::string expected = op.input.substr(0, op.input.find(','));
        if (v.value_or("null") != expected) return "false";
        v = op.input.substr(op.input.find(',') + 1);
        return "true";
      }
    }
    if (m == "counter") {
      std::int64_t& c = counters_[op.key];
      if (op.kind == "read") return std::to_string(c);
      c += op.input.empty() ? 1 : std::stoll(op.input);
      return std::to_string(c);
    }
    if (m == "set") {
      std::set<std::string>& s = sets_[op.key];
      if (op.kind == "add") s.insert(op.input);
      if (op.kind == "remove") s.erase(op.input);
      if (op.kind == "contains") return s.count(op.input) != 0 ? "true" : "false";
      if (op.kind == "read") {  // any order: shuffled
        std::vector<std::string> items(s.begin(), s.end());
        for (std::size_t i = items.size(); i > 1; --i) {
          std::swap(items[i - 1], items[rng.next() % i]);
        }
        return join(items);
      }
      return "";
    }
    if (m == "list") {
      std::vector<std::string>& l = lists_[op.key];
      if (op.kind == "append") {
        l.push_back(op.input);
        return "";
      }
      return join(l);
    }
    return "";
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + items[i];
    return out;
  }

 private:
  std::string model_;
  std::map<std::string, std::optional<std::string>> values_;
  std::map<std::string, std::int64_t> counters_;
  std::map<std::string, std::set<std::string>> sets_;
  std::map<std::string, std::vector<std::string>> lists_;
};

inline void choose_kind(const GenOptions& o, TestRng& rng, std::uint64_t serial, int key,
                        sim::Operation* op) {
  auto value = [&]() {
    return o.value_domain > 0 ? "v" + std::to_string(rng.next() % o.value_domain)
                              : "v" + std::to_string(serial);
  };
  bool read = rng.chance(o.read_rate);
  if (o.model == "register") {
    if (read) {
      op->kind = "read";
    } else if (rng.chance(o.cas_rate)) {
      op->kind = "cas";
      std::string expected =
          rng.chance(0.5) ? "null" : "v" + std::to_string(rng.next() % (serial + 1));
      op->input = expected + "," + value();
    } else {
      op->kind = "write";
      op->input = value();
    }
  } else if (o.model == "kv") {
    if (read) {
      op->kind = "get";
    } else if (rng.chance(0.1)) {
      op->kind = "delete";
    } else {
      op->kind = "put";
      op->input = value();
    }
  } else if (o.model == "counter") {
    op->kind = read ? "read" : "increment";
    if (!read && rng.chance(0.3)) op->input = std::to_string(rng.range(1, 3));
  } else if (o.model == "set") {
    // Elements e0..e3 are never removed (violations get planted on them).
    int e = static_cast<int>(rng.next() % 8);
    op->input = "e" + std::to_string(e);
    if (read) {
      op->kind = rng.chance(0.5) ? "read" : "contains";
      if (op->kind == "read") op->input.clear();
    } else {
      op->kind = e >= 4 && rng.chance(0.4) ? "remove" : "add";
    }
  } else if (o.model == "list") {
    if (read) {
      op->kind = "read";
    } else {
      op->kind = "append";
      op->input = "a" + std::to_string(serial);
    }
  }
  (void)key;
}

}  // namespace detail

inline std::vector<sim::Operation> make_history(const GenOptions& o) {
  TestRng rng(o.seed);
  std::vector<detail::Planned> planned;
  std::vector<sim::Time> next_free(o.clients, 0);
  for (int c = 0; c < o.clients; ++c) next_free[c] = rng.range(0, o.think_max);
  for (int i = 0; i < o.ops; ++i) {
    // The client that is free first issues the next operation.
    int c =
        static_cast<int>(std::min_element(next_free.begin(), next_free.end()) - next_free.begin());
    detail::Planned p;
    sim::Operation& op = p.op;
    op.id = static_cast<sim::OpId>(i + 1);
    op.client = "c" + std::to_string(c);
    op.object = o.object;
    int key = static_cast<int>(rng.next() % static_cast<std::uint64_t>(o.keys));
    op.key = "k" + std::to_string(key);
    detail::choose_kind(o, rng, op.id, key, &op);
    op.invoke = next_free[c];
    sim::Duration latency = rng.range(o.latency_min, o.latency_max);
    if (rng.chance(o.long_op_rate)) latency *= 10;
    p.tiebreak = rng.next();
    if (rng.chance(o.fail_rate)) {
      op.status = sim::OpStatus::kFail;
      op.complete = op.invoke + latency;
      p.applies = false;
    } else if (rng.chance(o.unknown_rate)) {
      op.status = sim::OpStatus::kUnknown;
      op.complete = sim::kTimeMax;
      p.applies = rng.chance(0.5);
      p.effect = op.invoke + rng.range(0, 3 * latency);
    } else {
      op.status = sim::OpStatus::kOk;
      op.complete = op.invoke + latency;
      p.effect = rng.range(op.invoke, op.complete);
    }
    next_free[c] = op.invoke + latency + rng.range(0, o.think_max);
    planned.push_back(std::move(p));
  }
  std::vector<detail::Planned*> order;
  for (auto& p : planned) {
    if (p.applies) order.push_back(&p);
  }
  std::sort(order.begin(), order.end(), [](const detail::Planned* a, const detail::Planned* b) {
    return a->effect != b->effect ? a->effect < b->effect : a->tiebreak < b->tiebreak;
  });
  detail::Reference ref(o.model);
  std::uint64_t seq = 1;
  for (detail::Planned* p : order) {
    std::string out = ref.apply(p->op, rng);
    if (p->op.status == sim::OpStatus::kOk) p->op.output = out;
    if (o.witness) p->op.effect_seq = seq++;
  }
  std::vector<sim::Operation> ops;
  ops.reserve(planned.size());
  for (auto& p : planned) ops.push_back(std::move(p.op));
  return ops;
}

namespace detail {

inline bool is_ok(const sim::Operation& op) { return op.status == sim::OpStatus::kOk; }
inline bool before(const sim::Operation& a, const sim::Operation& b) {
  return is_ok(a) && a.complete < b.invoke;
}
inline sim::Time end_of(const std::vector<sim::Operation>& ops) {
  sim::Time t = 0;
  for (const auto& op : ops) {
    t = std::max(t, op.invoke);
    if (op.complete != sim::kTimeMax) t = std::max(t, op.complete);
  }
  return t;
}
inline sim::Operation tail_op(const std::vector<sim::Operation>& ops, const sim::Operation& like,
                              sim::Time at, std::string kind, std::string input,
                              std::string output) {
  sim::Operation op;
  op.id = ops.size() + 1;
  op.client = "tail";
  op.object = like.object;
  op.key = like.key;
  op.kind = std::move(kind);
  op.input = std::move(input);
  op.output = std::move(output);
  op.invoke = at;
  op.complete = at + sim::millis(1);
  op.status = sim::OpStatus::kOk;
  return op;
}

}  // namespace detail

// Changes one ok read so that no linearization can explain it (see each case), appending a short
// sequential tail of operations when the history offers no suitable read. Returns the id of the
// operation made impossible. The search for a suitable read starts at a random index in
// [from, ops.size()). REQUIRES: ops came from make_history with value_domain == 0 (unique values)
// and cas_rate == 0; from < ops.size().
inline sim::OpId plant_violation(std::vector<sim::Operation>& ops, const std::string& model,
                                 TestRng& rng, std::size_t from = 0) {
  using detail::before;
  using detail::is_ok;
  std::size_t n = ops.size();
  std::size_t start = from + static_cast<std::size_t>(rng.next() % (n - from));
  for (std::size_t step = 0; step < n; ++step) {
    sim::Operation& r = ops[(start + step) % n];
    if (!is_ok(r)) continue;
    if ((model == "register" && r.kind == "read") || (model == "kv" && r.kind == "get")) {
      // write a -> write b -> read r, in real-time order; r returns a's (unique) value.
      const sim::Operation* b = nullptr;
      for (const auto& w : ops) {
        bool write = w.kind == "write" || w.kind == "put";
        if (write && w.key == r.key && before(w, r) && (b == nullptr || w.invoke > b->invoke)) {
          b = &w;
        }
      }
      if (b == nullptr) continue;
      for (const auto& a : ops) {
        bool write = a.kind == "write" || a.kind == "put";
        if (write && a.key == r.key && before(a, *b) && a.input != b->input) {
          r.output = a.input;
          return r.id;
        }
      }
    } else if (model == "counter" && r.kind == "read") {
      // Increments are positive: r sees at least the sum of those that completed before it.
      std::int64_t floor = 0;
      for (const auto& inc : ops) {
        if (inc.kind == "increment" && inc.key == r.key && before(inc, r)) {
          floor += inc.input.empty() ? 1 : std::stoll(inc.input);
        }
      }
      if (floor == 0) continue;
      r.output = std::to_string(floor - 1);
      return r.id;
    } else if (model == "set" && (r.kind == "read" || r.kind == "contains")) {
      // An element never removed (e0..e3), added before r, is missing from r's answer.
      for (const auto& add : ops) {
        if (add.kind != "add" || add.key != r.key || add.input > "e3" || !before(add, r)) continue;
        if (r.kind == "contains" && r.input != add.input) continue;
        if (r.kind == "contains") {
          r.output = "false";
        } else {
          std::string out;
          std::size_t pos = 0;
          std::string items = r.output;
          while (pos <= items.size()) {
            std::size_t comma = items.find(',', pos);
            if (comma == std::string::npos) comma = items.size();
            std::string e = items.substr(pos, comma - pos);
            if (!e.empty() && e != add.input) out += (out.empty() ? "" : ",") + e;
            pos = comma + 1;
          }
          r.output = out;
        }
        return r.id;
      }
    } else if (model == "list" && r.kind == "read") {
      // An element appended before r is missing from r's answer (lists only grow).
      for (const auto& app : ops) {
        if (app.kind != "append" || app.key != r.key || !before(app, r)) continue;
        std::string items = "," + r.output + ",";
        std::size_t at = items.find("," + app.input + ",");
        if (at == std::string::npos) continue;
        items.erase(at, app.input.size() + 1);
        r.output = items.size() <= 2 ? "" : items.substr(1, items.size() - 2);
        return r.id;
      }
    }
  }
  // No suitable read: a sequential tail after everything else.
  const sim::Operation like = ops.front();  // a copy: ops grows below
  sim::Time t = detail::end_of(ops) + sim::millis(10);
  std::vector<sim::Operation> tail;
  if (model == "register" || model == "kv") {
    std::string w = model == "kv" ? "put" : "write";
    ops.push_back(detail::tail_op(ops, like, t, w, "tail-a", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(2), w, "tail-b", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(4), model == "kv" ? "get" : "read", "",
                                  "tail-a"));
  } else if (model == "counter") {
    // Whatever happened before, the counter is >= 0; two more increments make it >= 2.
    ops.push_back(detail::tail_op(ops, like, t, "increment", "", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(2), "increment", "", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(4), "read", "", "1"));
  } else if (model == "set") {
    ops.push_back(detail::tail_op(ops, like, t, "add", "e0", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(2), "contains", "e0", "false"));
  } else {
    ops.push_back(detail::tail_op(ops, like, t, "append", "tail-a", ""));
    ops.push_back(detail::tail_op(ops, like, t + sim::millis(2), "read", "", ""));
  }
  return ops.back().id;
}

}  // namespace props::test
