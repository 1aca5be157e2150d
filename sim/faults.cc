#include "sim/faults.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/events.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"

namespace sim {

namespace {

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

// Splits a statement into words; "{a, b}" is one word "{a,b}".
std::vector<std::string> words(std::string_view s, bool* unbalanced) {
  std::vector<std::string> out;
  std::string cur;
  bool in_group = false;
  for (char c : s) {
    if (in_group) {
      if (c == '}') {
        cur.push_back(c);
        in_group = false;
        out.push_back(cur);
        cur.clear();
      } else if (c != ' ' && c != '\t') {
        cur.push_back(c);
      }
    } else if (c == '{') {
      if (!cur.empty()) out.push_back(cur);
      cur = "{";
      in_group = true;
    } else if (c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  *unbalanced = in_group;
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool parse_group(const std::string& w, std::vector<std::string>* out) {
  if (w.size() < 2 || w.front() != '{' || w.back() != '}') return false;
  std::string inner = w.substr(1, w.size() - 2);
  std::stringstream ss(inner);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) return false;
    out->push_back(name);
  }
  return !out->empty();
}

bool parse_probability(const std::string& w, double* p) {
  char* end = nullptr;
  *p = std::strtod(w.c_str(), &end);
  return end != nullptr && *end == '\0' && !w.empty() && *p >= 0 && *p <= 1;
}

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", p * 100);
  return buf;
}

}  // namespace

Result<FaultPlan> FaultPlan::from_arg(std::string_view arg) {
  if (arg == "none" || arg.empty()) return none();
  if (arg == "swarm") return swarm();
  std::error_code ec;
  const std::filesystem::path path{std::string(arg)};
  if (std::filesystem::exists(path, ec)) {
    // A device or a fifo could be read forever: only a regular file of a plan's size.
    if (!std::filesystem::is_regular_file(path, ec)) {
      return Error{ErrorKind::kInvalid, "--faults: " + std::string(arg) + " is not a regular file"};
    }
    if (std::filesystem::file_size(path, ec) > kFileBytesMax || ec) {
      return Error{ErrorKind::kInvalid,
                   "--faults: " + std::string(arg) + " is larger than a fault plan may be (1 MiB)"};
    }
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return Error{ErrorKind::kIo, "--faults: cannot read " + std::string(arg)};
    return parse(ss.str(), arg);
  }
  if (arg.find("at ") == std::string_view::npos) {
    return Error{ErrorKind::kInvalid, "--faults: '" + std::string(arg) +
                                          "' is not none, swarm, a plan file or a plan "
                                          "(e.g. \"at 2s crash kv-1; at 5s restart kv-1\")"};
  }
  return parse(arg, "--faults");
}

namespace {

// One statement's words after "at <time>" into `a`; an empty string, or why they are not an action.
std::string parse_action(const std::vector<std::string>& w, FaultAction& a) {
  const std::string& verb = w[2];
  auto need = [&](std::size_t n) { return w.size() == n; };
  if (verb == "partition") {
    if (!need(6) || !parse_group(w[3], &a.a) || !parse_group(w[5], &a.b) ||
        (w[4] != "|" && w[4] != "->")) {
      return "expected 'partition {a,b} | {c}' or 'partition {a} -> {b}'";
    }
    a.op = w[4] == "|" ? FaultAction::Op::kPartition : FaultAction::Op::kPartitionOneWay;
  } else if (verb == "heal") {
    if (!need(3)) return "'heal' takes no arguments";
    a.op = FaultAction::Op::kHeal;
  } else if (verb == "isolate" || verb == "crash" || verb == "restart" || verb == "pause" ||
             verb == "resume") {
    if (!need(4)) return "'" + verb + "' takes one node name";
    a.a.push_back(w[3]);
    a.op = verb == "isolate"   ? FaultAction::Op::kIsolate
           : verb == "crash"   ? FaultAction::Op::kCrash
           : verb == "restart" ? FaultAction::Op::kRestart
           : verb == "pause"   ? FaultAction::Op::kPause
                               : FaultAction::Op::kResume;
  } else if (verb == "clog") {
    if (!need(7) || w[5] != "for" || !parse_duration(w[4], &a.extra) ||
        !parse_duration(w[6], &a.length)) {
      return "expected 'clog <node> <extra delay> for <duration>'";
    }
    a.a.push_back(w[3]);
    a.op = FaultAction::Op::kClog;
  } else if (verb == "loss" || verb == "duplicate" || verb == "reorder") {
    if (!need(4) || !parse_probability(w[3], &a.value)) {
      return "'" + verb + "' takes a probability between 0 and 1";
    }
    a.op = verb == "loss"        ? FaultAction::Op::kLoss
           : verb == "duplicate" ? FaultAction::Op::kDuplicate
                                 : FaultAction::Op::kReorder;
  } else if (verb == "torn-writes" || verb == "sites") {
    if (!need(4) || (w[3] != "on" && w[3] != "off")) return "'" + verb + "' takes on|off";
    a.value = w[3] == "on" ? 1 : 0;
    a.op = verb == "sites" ? FaultAction::Op::kSites : FaultAction::Op::kTornWrites;
  } else {
    return "unknown action '" + verb + "'";
  }
  return "";
}

// Each statement of `text` (split on newlines and ';', '#' starts a comment) with its line.
std::vector<std::pair<int, std::string>> statements(std::string_view text) {
  std::vector<std::pair<int, std::string>> out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::size_t spos = 0;
    while (spos <= line.size()) {
      std::size_t semi = line.find(';', spos);
      if (semi == std::string_view::npos) semi = line.size();
      std::string stmt = trim(line.substr(spos, semi - spos));
      spos = semi + 1;
      if (!stmt.empty()) out.emplace_back(line_no, std::move(stmt));
    }
  }
  return out;
}

}  // namespace

Result<FaultPlan> FaultPlan::parse(std::string_view text, std::string_view source) {
  FaultPlan plan(Mode::kSchedule);
  plan.text_.clear();
  plan.source_ = std::string(source);
  for (auto& statement : statements(text)) {
    // Named copies, not structured bindings: the lambda below captures them (clang 14 cannot
    // capture a structured binding, and the fuzz build uses clang).
    const auto line_no = statement.first;
    const std::string& stmt = statement.second;
    auto fail = [&](const std::string& why) -> Error {
      return Error{ErrorKind::kInvalid, plan.source_ + ":" + std::to_string(line_no) + ": " + why +
                                            " in '" + stmt + "'"};
    };
    bool unbalanced = false;
    std::vector<std::string> w = words(stmt, &unbalanced);
    if (unbalanced) return fail("unclosed '{'");
    if (w.size() < 3 || w[0] != "at") return fail("expected 'at <time> <action> ...'");
    FaultAction a;
    a.line = line_no;
    a.text = stmt;
    if (!parse_duration(w[1], &a.at) || a.at < 0) return fail("bad time '" + w[1] + "'");
    if (std::string why = parse_action(w, a); !why.empty()) return fail(why);
    if (!plan.summary_.empty()) plan.summary_ += "; ";
    plan.summary_ += stmt;
    plan.actions_.push_back(std::move(a));
  }
  std::stable_sort(plan.actions_.begin(), plan.actions_.end(),
                   [](const FaultAction& x, const FaultAction& y) { return x.at < y.at; });
  plan.text_ = std::string(text);
  return plan;
}

SwarmProfile SwarmProfile::draw(Rng& rng) {
  SwarmProfile p;
  auto every = [&rng] { return seconds(rng.uniform(2, 20)); };
  p.partitions = rng.bernoulli(0.5);
  p.partition_every = every();
  p.crashes = rng.bernoulli(0.5);
  p.crash_every = every();
  p.pauses = rng.bernoulli(0.3);
  p.pause_every = every();
  p.clogs = rng.bernoulli(0.4);
  p.clog_every = every();
  p.loss = rng.bernoulli(0.3);
  p.loss_rate = rng.uniform(0.001, 0.05);
  p.duplicate = rng.bernoulli(0.3);
  p.duplicate_rate = rng.uniform(0.001, 0.05);
  p.reorder = rng.bernoulli(0.3);
  p.reorder_rate = rng.uniform(0.01, 0.2);
  p.torn_writes = rng.bernoulli(0.2);
  p.sites = rng.bernoulli(0.5);
  return p;
}

std::string SwarmProfile::describe() const {
  std::string s;
  auto add = [&s](const std::string& part) {
    if (!s.empty()) s += ", ";
    s += part;
  };
  if (partitions) add("partitions every ~" + format_duration(partition_every));
  if (crashes) add("crashes every ~" + format_duration(crash_every));
  if (pauses) add("pauses every ~" + format_duration(pause_every));
  if (clogs) add("clogs every ~" + format_duration(clog_every));
  if (loss) add("loss " + percent(loss_rate));
  if (duplicate) add("duplication " + percent(duplicate_rate));
  if (reorder) add("reordering " + percent(reorder_rate));
  if (torn_writes) add("torn writes");
  if (sites) add("code-site faults");
  return "swarm: " + (s.empty() ? std::string("no faults drawn") : s);
}

Faults::Faults(World& world) : world_(world), rng_(world.rng("faults")) {}

std::string Faults::describe() const {
  if (swarm_) return swarm_->describe();
  return plan_text_;
}

Status Faults::install(const FaultPlan& plan, Time quiet_at) {
  quiet_at_ = quiet_at;
  plan_text_ = plan.summary();
  switch (plan.mode()) {
    case FaultPlan::Mode::kNone:
      return Status::Ok();
    case FaultPlan::Mode::kSchedule: {
      for (const FaultAction& a : plan.actions()) {
        for (const auto* group : {&a.a, &a.b}) {
          for (const std::string& name : *group) {
            if (world_.find_node(name) == nullptr) {
              std::string nodes;
              for (const auto& n : world_.nodes()) nodes += (nodes.empty() ? "" : ", ") + n->name();
              return Error{ErrorKind::kInvalid,
                           (plan.source().empty() ? std::string("fault plan") : plan.source()) +
                               ", plan line " + std::to_string(a.line) + ": unknown node '" + name +
                               "' in '" + a.text + "' (the nodes are " + nodes + ")"};
            }
          }
        }
      }
      for (const FaultAction& a : plan.actions()) schedule(a, "plan:" + std::to_string(a.line));
      if (quiet_at_ != kTimeMax) {
        world_.scheduler().at(std::max(quiet_at_, world_.now()), [this] { quiet(); });
      }
      return Status::Ok();
    }
    case FaultPlan::Mode::kSwarm: {
      Rng draw = world_.rng("faults.swarm");
      swarm_ = SwarmProfile::draw(draw);
      const SwarmProfile& p = *swarm_;
      world_.emit(kNoNode, [&](ev::Body& b) {
        auto& e = *b.mutable_fault_swarm();
        if (p.partitions) e.set_partition_every(p.partition_every);
        if (p.crashes) e.set_crash_every(p.crash_every);
        if (p.pauses) e.set_pause_every(p.pause_every);
        if (p.clogs) e.set_clog_every(p.clog_every);
        if (p.loss) e.set_loss(p.loss_rate);
        if (p.duplicate) e.set_duplicate(p.duplicate_rate);
        if (p.reorder) e.set_reorder(p.reorder_rate);
        e.set_torn_writes(p.torn_writes);
        e.set_sites(p.sites);
        e.set_description(p.describe());
      });
      sites_on_ = p.sites;
      torn_writes_ = p.torn_writes;
      NetConfig& net = world_.net().config();
      if (p.loss) net.loss = p.loss_rate;
      if (p.duplicate) net.duplicate = p.duplicate_rate;
      if (p.reorder) net.reorder = p.reorder_rate;
      if (p.partitions) arm_swarm("partition", p.partition_every);
      if (p.crashes) arm_swarm("crash", p.crash_every);
      if (p.pauses) arm_swarm("pause", p.pause_every);
      if (p.clogs) arm_swarm("clog", p.clog_every);
      if (quiet_at_ != kTimeMax) {
        world_.scheduler().at(std::max(quiet_at_, world_.now()), [this] { quiet(); });
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void Faults::schedule(const FaultAction& action, const std::string& source) {
  if (action.at >= quiet_at_) return;  // the fault window is [0, quiet): nothing fires after
  world_.scheduler().at(std::max(action.at, world_.now()),
                        [this, action, source] { apply(action, source); });
}

void Faults::emit_fault(NodeId node, FaultKind kind, std::string_view by, std::string_view text,
                        Duration length) {
  ++fired_;
  world_.emit(node, [&](ev::Body& b) {
    ev::Fault& e = *(b.*kind)();
    e.set_by(std::string(by));
    e.set_text(std::string(text));
    e.set_length(length);
  });
}

void Faults::apply(const FaultAction& a, const std::string& source) {
  auto ids = [this](const std::vector<std::string>& names) {
    std::vector<NodeId> out;
    for (const auto& n : names) out.push_back(world_.find_node(n)->id());
    return out;
  };
  Network& net = world_.net();
  switch (a.op) {
    case FaultAction::Op::kPartition:
      emit_fault(kNoNode, &ev::Body::mutable_fault_partition, source, a.text);
      net.partition(ids(a.a), ids(a.b));
      break;
    case FaultAction::Op::kPartitionOneWay:
      emit_fault(kNoNode, &ev::Body::mutable_fault_partition, source, a.text);
      net.partition_one_way(ids(a.a), ids(a.b));
      break;
    case FaultAction::Op::kIsolate:
      emit_fault(kNoNode, &ev::Body::mutable_fault_isolate, source, a.text);
      net.isolate(ids(a.a)[0]);
      break;
    case FaultAction::Op::kHeal:
      emit_fault(kNoNode, &ev::Body::mutable_fault_heal, source, a.text);
      net.heal();
      break;
    case FaultAction::Op::kCrash: {
      Node& n = *world_.find_node(a.a[0]);
      emit_fault(n.id(), &ev::Body::mutable_fault_crash, source, a.text);
      if (!n.down()) crashed_by_us_.push_back(n.id());
      world_.crash(n);
      break;
    }
    case FaultAction::Op::kRestart: {
      Node& n = *world_.find_node(a.a[0]);
      emit_fault(n.id(), &ev::Body::mutable_fault_restart, source, a.text);
      std::erase(crashed_by_us_, n.id());
      world_.restart(n);
      break;
    }
    case FaultAction::Op::kPause: {
      Node& n = *world_.find_node(a.a[0]);
      emit_fault(n.id(), &ev::Body::mutable_fault_pause, source, a.text);
      if (n.up()) paused_by_us_.push_back(n.id());
      world_.pause(n);
      break;
    }
    case FaultAction::Op::kResume: {
      Node& n = *world_.find_node(a.a[0]);
      emit_fault(n.id(), &ev::Body::mutable_fault_resume, source, a.text);
      std::erase(paused_by_us_, n.id());
      world_.resume(n);
      break;
    }
    case FaultAction::Op::kClog: {
      Node& n = *world_.find_node(a.a[0]);
      emit_fault(n.id(), &ev::Body::mutable_fault_clog, source, a.text);
      net.clog(n.id(), a.extra, a.length);
      break;
    }
    case FaultAction::Op::kLoss:
      emit_fault(kNoNode, &ev::Body::mutable_fault_loss, source, a.text);
      net.config().loss = a.value;
      break;
    case FaultAction::Op::kDuplicate:
      emit_fault(kNoNode, &ev::Body::mutable_fault_duplicate, source, a.text);
      net.config().duplicate = a.value;
      break;
    case FaultAction::Op::kReorder:
      emit_fault(kNoNode, &ev::Body::mutable_fault_reorder, source, a.text);
      net.config().reorder = a.value;
      break;
    case FaultAction::Op::kTornWrites:
      emit_fault(kNoNode, &ev::Body::mutable_fault_torn_writes, source, a.text);
      torn_writes_ = a.value != 0;
      break;
    case FaultAction::Op::kSites:
      emit_fault(kNoNode, &ev::Body::mutable_fault_sites, source, a.text);
      sites_on_ = a.value != 0;
      break;
  }
}

std::vector<NodeId> Faults::faultable_up() const {
  std::vector<NodeId> out;
  for (const auto& n : world_.nodes()) {
    if (n->faultable() && n->up()) out.push_back(n->id());
  }
  return out;
}

void Faults::arm_swarm(const char* kind, Duration every) {
  const Duration gap = static_cast<Duration>(rng_.exponential(static_cast<double>(every)));
  const Time at = world_.now() + gap;
  if (at >= quiet_at_) return;
  world_.scheduler().at(at, [this, k = std::string(kind), every] {
    swarm_fault(k);
    arm_swarm(k.c_str(), every);
  });
}

void Faults::swarm_fault(const std::string& kind) {
  Network& net = world_.net();
  const auto remaining = [this] { return quiet_at_ - world_.now(); };
  if (kind == "partition") {
    if (net.partitioned() || world_.node_count() < 2) return;
    // A random non-trivial split of all nodes.
    std::vector<NodeId> a, b;
    const std::size_t n = world_.node_count();
    const std::uint64_t mask =
        1 + rng_.below((std::uint64_t{1} << std::min<std::size_t>(n, 62)) - 2);
    for (std::size_t i = 0; i < n; ++i) {
      ((i < 62 && ((mask >> i) & 1)) ? a : b).push_back(static_cast<NodeId>(i));
    }
    const Duration length = std::min(remaining(), seconds(rng_.uniform(0.5, 10)));
    emit_fault(kNoNode, &ev::Body::mutable_fault_partition, "swarm", "", length);
    net.partition(a, b);
    world_.scheduler().after(length, [this] {
      emit_fault(kNoNode, &ev::Body::mutable_fault_heal, "swarm", "");
      world_.net().heal();
    });
  } else if (kind == "crash" || kind == "pause") {
    std::vector<NodeId> candidates = faultable_up();
    if (candidates.empty()) return;
    const NodeId id = candidates[rng_.below(candidates.size())];
    Node& node = world_.node(id);
    const Duration length =
        std::min(remaining(), seconds(rng_.uniform(0.2, kind == "crash" ? 8 : 3)));
    if (kind == "crash") {
      emit_fault(id, &ev::Body::mutable_fault_crash, "swarm", "", length);
      crashed_by_us_.push_back(id);
      world_.crash(node);
      world_.scheduler().after(length, [this, id] {
        if (!world_.node(id).down()) return;
        emit_fault(id, &ev::Body::mutable_fault_restart, "swarm", "");
        std::erase(crashed_by_us_, id);
        world_.restart(world_.node(id));
      });
    } else {
      emit_fault(id, &ev::Body::mutable_fault_pause, "swarm", "", length);
      paused_by_us_.push_back(id);
      world_.pause(node);
      world_.scheduler().after(length, [this, id] {
        emit_fault(id, &ev::Body::mutable_fault_resume, "swarm", "");
        std::erase(paused_by_us_, id);
        world_.resume(world_.node(id));
      });
    }
  } else if (kind == "clog") {
    std::vector<NodeId> candidates = faultable_up();
    if (candidates.empty()) return;
    const NodeId id = candidates[rng_.below(candidates.size())];
    const Duration extra = millis(rng_.uniform(10, 500));
    const Duration length = std::min(remaining(), seconds(rng_.uniform(1, 10)));
    emit_fault(id, &ev::Body::mutable_fault_clog, "swarm", "extra " + format_duration(extra),
               length);
    net.clog(id, extra, length);
  }
}

void Faults::quiet() {
  emit_fault(kNoNode, &ev::Body::mutable_fault_quiet, "plan", "healing and restarting");
  Network& net = world_.net();
  net.heal();
  net.config().loss = 0;
  net.config().duplicate = 0;
  net.config().reorder = 0;
  for (NodeId id : std::exchange(crashed_by_us_, {})) world_.restart(world_.node(id));
  for (NodeId id : std::exchange(paused_by_us_, {})) world_.resume(world_.node(id));
  sites_on_ = false;
  torn_writes_ = false;
}

bool Faults::fire(std::string_view site, double p) {
  if (!sites_on_) return false;
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    Site s;
    s.rng = world_.rng("site/" + std::string(site));
    s.enabled = s.rng.bernoulli(0.25);
    it = sites_.emplace(std::string(site), s).first;
  }
  if (!it->second.enabled || !it->second.rng.bernoulli(p)) return false;
  const NodeId node = world_.current_task() ? world_.current_task()->node().id() : kNoNode;
  emit_fault(node, &ev::Body::mutable_fault_site, "site", site);
  return true;
}

}  // namespace sim
