#include "props/models.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>

namespace props {
namespace {

constexpr std::string_view kAbsent = "null";

StepResult illegal() { return StepResult{false, {}, {}}; }

StepResult result(std::string state, std::string output) {
  return StepResult{true, std::move(state), std::move(output)};
}

bool parse_int(std::string_view text, std::int64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// A read of `value`: the recorded spelling when it means the same thing.
std::string read_output(const std::string& value, const sim::Operation& op) {
  if (value == kAbsent && op.output.empty()) return op.output;
  return value;
}

std::vector<std::string_view> split(std::string_view list) {
  std::vector<std::string_view> out;
  if (list.empty()) return out;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(list.substr(start));
      return out;
    }
    out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  return out;
}

bool valid_element(std::string_view e) { return !e.empty() && e.find(',') == e.npos; }

// Counter deltas: "" means 1. Returns false on malformed input or overflow.
bool apply_delta(std::int64_t value, const std::string& input, bool negate, std::int64_t* out) {
  std::int64_t delta = 1;
  if (!input.empty() && !parse_int(input, &delta)) return false;
  if (negate) {
    if (delta == std::numeric_limits<std::int64_t>::min()) return false;
    delta = -delta;
  }
  return !__builtin_add_overflow(value, delta, out);
}

}  // namespace

StepResult RegisterModel::step(const std::string& state, const sim::Operation& op) const {
  if (op.kind == "read") return result(state, read_output(state, op));
  if (op.kind == "write") return result(op.input, op.output);
  if (op.kind == "cas") {
    std::size_t comma = op.input.find(',');
    if (comma == std::string::npos || op.input.find(',', comma + 1) != std::string::npos) {
      return illegal();
    }
    std::string_view expected = std::string_view(op.input).substr(0, comma);
    if (expected != state) return result(state, "false");
    return result(op.input.substr(comma + 1), "true");
  }
  return illegal();
}

StepResult CounterModel::step(const std::string& state, const sim::Operation& op) const {
  std::int64_t value = 0;
  if (!parse_int(state, &value)) return illegal();
  if (op.kind == "read" || op.kind == "get") return result(state, state);
  bool up = op.kind == "increment" || op.kind == "add";
  if (!up && op.kind != "decrement") return illegal();
  std::int64_t next = 0;
  if (!apply_delta(value, op.input, !up, &next)) return illegal();
  std::string next_state = std::to_string(next);
  std::string output = op.output.empty() ? std::string() : next_state;
  return result(std::move(next_state), std::move(output));
}

bool CounterModel::read_only(const sim::Operation& op) const {
  return op.kind == "read" || op.kind == "get";
}

std::string CounterModel::difference(const std::string& expected, const std::string& got) const {
  std::int64_t e = 0;
  std::int64_t g = 0;
  if (!parse_int(expected, &e) || !parse_int(got, &g) || e == g) return "";
  if (g < e) {
    return "it is " + std::to_string(e - g) +
           " lower: increments that took effect before it are missing";
  }
  return "it is " + std::to_string(g - e) +
         " higher: increments were counted that no operation before it explains";
}

StepResult KvModel::step(const std::string& state, const sim::Operation& op) const {
  if (op.kind == "get" || op.kind == "read") return result(state, read_output(state, op));
  if (op.kind == "put" || op.kind == "write" || op.kind == "set") {
    return result(op.input, op.output);
  }
  if (op.kind == "delete") return result(std::string(kAbsent), op.output);
  return illegal();
}

bool KvModel::read_only(const sim::Operation& op) const {
  return op.kind == "get" || op.kind == "read";
}

bool KvModel::blind(const sim::Operation& op) const {
  return op.kind == "put" || op.kind == "write" || op.kind == "set" || op.kind == "delete";
}

StepResult SetModel::step(const std::string& state, const sim::Operation& op) const {
  std::vector<std::string_view> items = split(state);  // sorted, unique
  if (op.kind == "read") {
    std::vector<std::string_view> seen = split(op.output);
    std::sort(seen.begin(), seen.end());
    return result(state, seen == items ? op.output : state);
  }
  if (!valid_element(op.input)) return illegal();
  auto it = std::lower_bound(items.begin(), items.end(), std::string_view(op.input));
  bool present = it != items.end() && *it == op.input;
  if (op.kind == "contains") return result(state, present ? "true" : "false");
  if (op.kind == "add") {
    if (present) return result(state, op.output);
    items.insert(it, op.input);
    return result(join(items), op.output);
  }
  if (op.kind == "remove") {
    if (!present) return result(state, op.output);
    items.erase(it);
    return result(join(items), op.output);
  }
  return illegal();
}

// Elements of `a` not in `b`, both sorted; at most 10 named, then "and N more".
std::string set_minus(std::vector<std::string_view> a, std::vector<std::string_view> b) {
  std::vector<std::string_view> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  std::string text;
  for (std::size_t i = 0; i < out.size() && i < 10; ++i)
    text += (i ? ", " : "") + std::string(out[i]);
  if (out.size() > 10) text += " and " + std::to_string(out.size() - 10) + " more";
  return text;
}

std::string SetModel::difference(const std::string& expected, const std::string& got) const {
  std::vector<std::string_view> e = split(expected);
  std::vector<std::string_view> g = split(got);
  std::sort(e.begin(), e.end());
  std::sort(g.begin(), g.end());
  const std::string missing = set_minus(e, g);
  const std::string unexpected = set_minus(g, e);
  std::string out;
  if (!missing.empty()) out = "missing: " + missing;
  if (!unexpected.empty())
    out += (out.empty() ? "" : "; ") + std::string("unexpected: ") + unexpected;
  return out;
}

bool SetModel::read_only(const sim::Operation& op) const {
  return op.kind == "read" || op.kind == "contains";
}

StepResult ListModel::step(const std::string& state, const sim::Operation& op) const {
  if (op.kind == "read") return result(state, state);
  if (op.kind == "append") {
    if (!valid_element(op.input)) return illegal();
    return result(state.empty() ? op.input : state + "," + op.input, op.output);
  }
  return illegal();
}

bool ListModel::viable(const std::string& state, const sim::Operation& op) const {
  if (op.kind != "read" || state.empty()) return true;
  if (op.output.size() < state.size() || op.output.compare(0, state.size(), state) != 0) {
    return false;
  }
  return op.output.size() == state.size() || op.output[state.size()] == ',';
}

std::unique_ptr<Model> make_model(std::string_view name) {
  if (name == "register") return std::make_unique<RegisterModel>();
  if (name == "counter") return std::make_unique<CounterModel>();
  if (name == "kv") return std::make_unique<KvModel>();
  if (name == "set") return std::make_unique<SetModel>();
  if (name == "list") return std::make_unique<ListModel>();
  return nullptr;
}

std::vector<std::string> builtin_model_names() {
  return {"counter", "kv", "list", "register", "set"};
}

}  // namespace props
