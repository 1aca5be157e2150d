#include "scenarios/runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "props/history.h"
#include "scenarios/spec/loader.h"
#include "sim/faults.h"
#include "sim/network.h"
#include "traces/hash_sink.h"
#include "traces/reader.h"
#include "traces/replay.h"
#include "traces/writer.h"

#ifdef EDGESIM_HAS_PLATFORM
#include "scenarios/check.h"
#include "scenarios/folder.h"
#endif

#ifndef EDGESIM_VERSION
#define EDGESIM_VERSION "0.0.0"
#endif
#ifndef EDGESIM_BUILD_ID
#define EDGESIM_BUILD_ID "unknown"
#endif

namespace scenarios {

namespace {

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/' ||
          c == ':' || c == '=')) {
      plain = false;
    }
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A scenario ready to run: a built-in, or a folder (whose files go into the trace header, so the
// trace alone reproduces the run).
struct Resolved {
  ScenarioInfo info;
  std::map<std::string, std::string> files;  // folder scenarios only
  std::string variant;
  std::string source;
  std::string default_faults = "none";  // the scenario's own plan, as --faults would spell it
  std::string default_faults_source;
};

sim::Result<Resolved> resolve(const RunConfig& config) {
  Resolved r;
  if (const ScenarioInfo* info = find_builtin(config.scenario); info != nullptr) {
    r.info = *info;
    r.default_faults = info->default_faults;
    return r;
  }
  if (config.from_trace && config.files.empty()) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      "the trace holds no scenario files, and '" + config.scenario +
                          "' is not a built-in scenario (a trace is run from what it holds, "
                          "never from the disk)"};
  }
#ifdef EDGESIM_HAS_PLATFORM
  sim::Result<spec::LoadedScenario> loaded =
      config.files.empty()
          ? spec::load_scenario(config.scenario)
          : spec::load_scenario_files(config.files, config.variant, config.scenario);
  if (!loaded.ok()) return loaded.error();
  auto shared = std::make_shared<const spec::LoadedScenario>(std::move(loaded.value()));
  sim::Result<ScenarioInfo> info = folder_scenario(shared);
  if (!info.ok()) return info.error();
  r.info = std::move(info.value());
  r.files = shared->files;
  r.variant = shared->variant;
  r.source = shared->source;
  const sim::FaultPlan plan = shared->faults.to_plan();
  r.default_faults = plan.text();
  r.default_faults_source = shared->faults.source;
  return r;
#else
  std::string names;
  for (const auto& s : builtin_scenarios()) names += (names.empty() ? "" : ", ") + s.name;
  return sim::Error{sim::ErrorKind::kInvalid,
                    "unknown scenario '" + config.scenario + "' (built in: " + names +
                        "; scenario folders need a build with the platform)"};
#endif
}

}  // namespace

const PropertyResult* find_property(const RunOutcome& outcome, const std::string& name) {
  for (const PropertyResult& p : outcome.properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void settle_verdict(RunOutcome& out) {
  out.verdict = "pass";
  out.exit_code = kExitOk;
  bool unknown = false;
  for (const auto& p : out.properties) {
    if (p.verdict == PropertyResult::Verdict::kViolated) {
      out.verdict = "fail";
      out.exit_code = kExitViolated;
    }
    unknown = unknown || p.verdict == PropertyResult::Verdict::kUnknown;
  }
  // A checker that could not decide is never a pass.
  if (unknown && out.exit_code == kExitOk) {
    out.verdict = "unknown";
    out.exit_code = kExitUndecided;
  }
  // The scenario's own checker code failed: bad input, whatever the other verdicts.
  for (const auto& p : out.properties) {
    if (!p.bad_input) continue;
    out.verdict = "error";
    out.exit_code = kExitBadInput;
    if (out.error.empty()) out.error = p.name + ": " + p.explanation;
  }
}

std::string repro_command(const RunConfig& c) {
  std::string cmd = "edgesim run " + shell_quote(c.scenario) + " --seed " + std::to_string(c.seed);
  if (!c.faults.empty()) cmd += " --faults " + shell_quote(c.faults);
  return cmd;
}

sim::Result<ScenarioInfo> describe_scenario(const std::string& name) {
  RunConfig c;
  c.scenario = name;
  sim::Result<Resolved> r = resolve(c);
  if (!r.ok()) return r.error();
  return r->info;
}

sim::Result<std::vector<std::string>> expand_scenarios(const std::string& name) {
  std::vector<std::string> out;
  if (name == "all") {
    for (const auto& s : builtin_scenarios()) out.push_back(s.name);
#ifdef EDGESIM_HAS_PLATFORM
    std::string suite = "scenarios/suite";
    if (!std::filesystem::is_directory(suite)) suite = EDGESIM_SUITE_DIR;
    if (std::filesystem::is_directory(suite)) {
      sim::Result<std::vector<std::string>> more = expand_scenarios(suite);
      if (!more.ok()) return more.error();
      out.insert(out.end(), more->begin(), more->end());
    }
#endif
    return out;
  }
  if (find_builtin(name) != nullptr) return std::vector<std::string>{name};
#ifdef EDGESIM_HAS_PLATFORM
  std::error_code ec;
  const std::filesystem::path dir(spec::split_variant(name).first);
  if (std::filesystem::is_directory(dir, ec) && !std::filesystem::exists(dir / spec::kSpecFile)) {
    // A suite: every sub-folder that is a scenario, in name order.
    std::vector<std::string> subs;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_directory() && std::filesystem::exists(entry.path() / spec::kSpecFile)) {
        subs.push_back(entry.path().string());
      }
    }
    std::sort(subs.begin(), subs.end());
    if (subs.empty()) {
      return sim::Error{sim::ErrorKind::kInvalid, name + ": no scenario folders in it"};
    }
    for (const auto& sub : subs) {
      sim::Result<std::vector<std::string>> more = expand_scenarios(sub);
      if (!more.ok()) return more.error();
      out.insert(out.end(), more->begin(), more->end());
    }
    return out;
  }
  sim::Result<spec::LoadedScenario> loaded = spec::load_scenario(name);
  if (!loaded.ok()) return loaded.error();
  out.push_back(name);
  if (spec::split_variant(name).second.empty()) {
    for (const auto& v : loaded->variants) out.push_back(name + "@" + v.name);
  }
  return out;
#else
  return sim::Error{sim::ErrorKind::kInvalid, "unknown scenario '" + name + "'"};
#endif
}

namespace {

RunOutcome& fail(RunOutcome& out, int exit_code, std::string error) {
  out.exit_code = exit_code;
  out.verdict = "error";
  out.error = std::move(error);
  return out;
}

// The plan a run installs: --faults as given, or the scenario's own plan (parsed against the
// file it came from, so errors name that file).
sim::Result<sim::FaultPlan> fault_plan_for(const std::string& faults, const Resolved& resolved) {
  if (faults == "none" || faults == "swarm") return sim::FaultPlan::from_arg(faults);
  if (faults == resolved.default_faults && !resolved.default_faults_source.empty()) {
    return sim::FaultPlan::parse(faults, resolved.default_faults_source);
  }
  return sim::FaultPlan::from_arg(faults);
}

// A trace's plan is its text, never a path: "none", "swarm" or a schedule.
sim::Result<sim::FaultPlan> plan_from_trace(const std::string& text) {
  if (text == "none" || text == "swarm") return sim::FaultPlan::from_arg(text);
  return sim::FaultPlan::parse(text, "the trace's fault plan");
}

// Everything needed to re-run the trace: seed, options, the scenario's files, plan and nodes.
traces::Header trace_header(const RunConfig& config, const Resolved& resolved,
                            const std::string& faults, const sim::FaultPlan& plan,
                            const sim::World& world) {
  traces::Header header;
  header.set_edgesim_version(EDGESIM_VERSION);
  header.set_build_id(EDGESIM_BUILD_ID);
  header.set_seed(config.seed);
  (*header.mutable_options())["faults"] = faults;
  if (!resolved.files.empty()) {
    (*header.mutable_options())["variant"] = resolved.variant;
    for (const auto& [path, bytes] : resolved.files) {
      (*header.mutable_scenario_files())[path] = bytes;
    }
  }
  header.set_scenario_name(config.scenario);
  header.set_fault_plan(plan.text());
  for (const auto& n : world.nodes()) {
    auto* tn = header.add_nodes();
    tn->set_id(n->id());
    tn->set_name(n->name());
    tn->set_location(n->location().code);
  }
  return header;
}

// The footer repeats the outcome: verdict, exit code, each property, the run's error, stats.
void finish_trace(traces::TraceWriter& writer, const std::string& path, RunOutcome& out) {
  traces::Footer footer;
  footer.set_verdict(out.verdict);
  footer.set_exit_code(out.exit_code);
  for (const auto& p : out.properties) {
    auto* fp = footer.add_properties();
    fp->set_name(p.name);
    fp->set_verdict(verdict_name(p.verdict));
    fp->set_explanation(p.explanation);
  }
  if (!out.error.empty()) {
    auto* fp = footer.add_properties();
    fp->set_name("run");
    fp->set_verdict("error");
    fp->set_explanation(out.error);
  }
  for (const auto& [k, v] : out.stats) (*footer.mutable_stats())[k] = v;
  sim::Status s = writer.finish(std::move(footer));
  if (!s.ok()) {
    if (out.exit_code == kExitOk) out.exit_code = kExitBadInput;
    out.error = "cannot write trace: " + s.error().message;
  } else {
    out.trace_path = path;
  }
}

// Runs the world to the scenario's end and checks it; fills verdicts, properties and stats.
// The final output of every workflow instance that completed in a run of the scenario with the
// same seed and no faults: what workflow_replay compares the faulty run's outputs with.
std::map<std::string, std::string> workflow_references(const Resolved& resolved,
                                                       std::uint64_t seed) {
  std::map<std::string, std::string> out;
  sim::Result<sim::FaultPlan> none = fault_plan_for("none", resolved);
  if (!none.ok()) return out;
  props::HistoryRecorder recorder;
  sim::World world(seed);
  std::unique_ptr<ScenarioRun> run = resolved.info.make();
  run->build(world);
  world.add_sink(&recorder);
  world.start();
  if (!world.faults().install(none.value(), resolved.info.quiet_after).ok()) return out;
  const bool ran = world.run_until(resolved.info.duration);
  world.end_run();
  if (!ran || world.error() || !recorder.status().ok()) return out;
  for (const auto& [label, rec] : recorder.take().workflows.instances) {
    if (rec.status == "complete" && rec.replay.final_output) out[label] = *rec.replay.final_output;
  }
  return out;
}

void simulate(sim::World& world, ScenarioRun& run, const ScenarioInfo& info,
              props::HistoryRecorder& recorder, RunOutcome& out,
              const std::map<std::string, std::string>& references) {
  const bool ran = world.run_until(info.duration);
  for (const auto& [label, output] : references) {
    world.emit(sim::kNoNode, [&](sim::ev::Body& b) {
      auto& e = *b.mutable_workflow_reference();
      e.set_instance(label);
      e.set_output(output);
    });
  }
  out.sim_time = world.now();
  out.scheduler_events = world.scheduler().events_run();
  if (!ran || world.error()) {
    fail(out, kExitInternal, world.error().value_or("the run stopped early"));
  } else if (!recorder.status().ok()) {
    fail(out, kExitInternal,
         "the run's events do not make a history: " + recorder.status().error().message);
  } else {
    out.properties = run.check(world, recorder.take());
    settle_verdict(out);
    out.stats = run.stats(world);
  }
  out.stats["faults_fired"] = world.faults().fired();
  out.stats["scheduler_events"] = world.scheduler().events_run();
}

}  // namespace

RunOutcome run_scenario(const RunConfig& config, const std::vector<sim::EventSink*>& sinks) {
  RunOutcome out;
  sim::Result<Resolved> resolved = resolve(config);
  if (!resolved.ok()) return fail(out, kExitBadInput, resolved.error().message);
  const ScenarioInfo& info = resolved->info;
  const std::string faults = config.faults.empty() ? resolved->default_faults : config.faults;
  sim::Result<sim::FaultPlan> plan = config.from_trace ? plan_from_trace(config.fault_plan_text)
                                                       : fault_plan_for(faults, resolved.value());
  if (!plan.ok()) return fail(out, kExitBadInput, plan.error().message);
  const std::map<std::string, std::string> references =
      info.workflow_reference ? workflow_references(resolved.value(), config.seed)
                              : std::map<std::string, std::string>{};

  // The sinks are declared before the world and outlive it; world.end_run() detaches them when
  // the run is over.
  traces::HashSink hash;
  props::HistoryRecorder recorder;  // what the checkers read (props/history.h)
  std::unique_ptr<traces::TraceWriter> writer;
  sim::World world(config.seed);
  std::unique_ptr<ScenarioRun> run = info.make();
  run->build(world);
  world.add_sink(&hash);
  world.add_sink(&recorder);
  for (sim::EventSink* s : sinks) world.add_sink(s);
  if (!config.trace_path.empty()) {
    auto w = traces::TraceWriter::open(
        config.trace_path, trace_header(config, resolved.value(), faults, plan.value(), world));
    if (!w.ok()) return fail(out, kExitBadInput, w.error().message);
    writer = std::move(w.value());
    world.add_sink(writer.get());
  }

  world.start();
  sim::Status installed = world.faults().install(plan.value(), info.quiet_after);
  if (!installed.ok()) {
    if (writer) writer->abort();
    return fail(out, kExitBadInput, installed.error().message);
  }
  out.faults = world.faults().describe();
  simulate(world, *run, info, recorder, out, references);
  world.end_run();  // the scenario's and the world's teardown below is not part of the run
  out.events = hash.count();
  out.final_hash = hash.value();
  if (writer) finish_trace(*writer, config.trace_path, out);
  return out;
}

ReplayOutcome replay_trace(const std::string& trace_path) {
  ReplayOutcome out;
  auto trace = traces::read_trace(trace_path);
  if (!trace.ok()) {
    out.exit_code = kExitBadInput;
    out.report = trace.error().message;
    return out;
  }
  const traces::Trace& t = trace.value();
  RunConfig config;
  config.scenario = t.header.scenario_name();
  config.seed = t.header.seed();
  auto it = t.header.options().find("faults");
  config.faults = it == t.header.options().end() ? "none" : it->second;
  // The run uses only what the trace holds: its fault plan as text, its scenario files.
  config.from_trace = true;
  config.fault_plan_text = t.header.fault_plan();
  // A folder scenario runs from the files the trace holds, not from the disk.
  for (const auto& [path, bytes] : t.header.scenario_files()) config.files[path] = bytes;
  if (auto v = t.header.options().find("variant"); v != t.header.options().end()) {
    config.variant = v->second;
  }
  const traces::NodeNames names = traces::node_names(t.header);

  traces::ReplayComparer comparer(t.events);
  out.run = run_scenario(config, {&comparer});
  if (out.run.exit_code == kExitBadInput) {
    out.exit_code = kExitBadInput;
    out.report = trace_path + ": cannot replay: " + out.run.error;
    return out;
  }
  const auto& divergence = comparer.finish();
  std::ostringstream r;
  if (divergence) {
    out.exit_code = kExitInternal;
    r << trace_path << ": the replay diverged from the trace.\n" << divergence->describe(names);
    r << "The run is not a pure function of (build, scenario, seed, options): this build differs "
         "from "
      << t.header.build_id() << ", or the code is nondeterministic.\n";
    out.report = r.str();
    return out;
  }
  const std::string recorded = t.footer.verdict();
  if (recorded != out.run.verdict || t.footer.final_hash() != out.run.final_hash) {
    out.exit_code = kExitInternal;
    r << trace_path << ": same events, but the verdict or final hash differ (trace: " << recorded
      << " " << hex(t.footer.final_hash()) << ", replay: " << out.run.verdict << " "
      << hex(out.run.final_hash) << ")\n";
    out.report = r.str();
    return out;
  }
  r << "replayed " << out.run.events << " events of " << config.scenario << " seed " << config.seed
    << ": identical; final hash " << hex(out.run.final_hash) << ", verdict " << out.run.verdict
    << "\n";
  out.report = r.str();
  out.exit_code = out.run.exit_code;
  return out;
}

CheckOutcome check_trace(const std::string& trace_path) {
  CheckOutcome out;
  auto bad = [&](const std::string& why) {
    out.exit_code = kExitBadInput;
    out.result.verdict = "error";
    out.result.error = why;
    out.report = why + "\n";
    return out;
  };
  auto reader = traces::TraceReader::open(trace_path);
  if (!reader.ok()) return bad(reader.error().message);
  const traces::Header& h = (*reader)->header();
  if (h.scenario_files().empty()) {
    return bad(trace_path + ": " + h.scenario_name() +
               " is a built-in kernel scenario: its checks read the simulated disks, which a "
               "trace does not hold; re-run it with: edgesim replay " +
               trace_path);
  }
#ifdef EDGESIM_HAS_PLATFORM
  std::map<std::string, std::string> files;
  for (const auto& [path, bytes] : h.scenario_files()) files[path] = bytes;
  std::string variant;
  if (auto v = h.options().find("variant"); v != h.options().end()) variant = v->second;
  sim::Result<spec::LoadedScenario> loaded =
      spec::load_scenario_files(files, variant, h.scenario_name());
  if (!loaded.ok()) return bad(trace_path + ": its scenario: " + loaded.error().message);
  props::HistoryRecorder recorder;
  while (true) {
    auto event = (*reader)->next();
    if (!event.ok()) return bad(event.error().message);
    if (*event == nullptr) break;
    sim::Status s = recorder.add((*event)->index, (*event)->view());
    if (!s.ok()) return bad(trace_path + ": " + s.error().message);
  }
  out.result.properties = check_properties(loaded.value(), recorder.take());
  settle_verdict(out.result);
  out.exit_code = out.result.exit_code;
  out.result.events = (*reader)->events_read();
  out.result.final_hash = (*reader)->hash();
  // The verdicts the run recorded, to compare with.
  std::map<std::string, std::string> recorded;
  for (const auto& p : (*reader)->footer().properties()) recorded[p.name()] = p.verdict();
  std::ostringstream r;
  r << "checked " << out.result.properties.size() << " properties of " << h.scenario_name()
    << " seed " << h.seed() << " on the history of " << out.result.events << " events\n";
  int differ = 0;
  for (const PropertyResult& p : out.result.properties) {
    auto it = recorded.find(p.name);
    const std::string now = verdict_name(p.verdict);
    if (it == recorded.end() || it->second != now) {
      ++differ;
      r << "  " << p.name << ": " << now << ", but the run recorded "
        << (it == recorded.end() ? std::string("no verdict") : it->second) << "\n";
    }
  }
  r << (differ == 0 ? "same verdicts as the run that wrote the trace\n"
                    : "the verdicts differ from the run's: this build's checkers differ from " +
                          h.build_id() + "'s\n");
  out.report = r.str();
  return out;
#else
  return bad("scenario folders need a build with the platform");
#endif
}

DeterminismOutcome check_determinism(const RunConfig& config) {
  DeterminismOutcome out;
  RunConfig c = config;
  c.trace_path.clear();
  traces::HashSink a({.keep_hashes = true}), b({.keep_hashes = true});
  RunOutcome ra = run_scenario(c, {&a});
  if (ra.exit_code == kExitBadInput) {
    out.exit_code = kExitBadInput;
    out.report = ra.error;
    return out;
  }
  RunOutcome rb = run_scenario(c, {&b});
  auto diff = traces::compare_hash_streams(a, b);
  out.events = ra.events;
  out.hash = ra.final_hash;
  if (!diff) {
    out.report = "deterministic: two runs of " + c.scenario + " seed " + std::to_string(c.seed) +
                 " gave the same " + std::to_string(ra.events) + " events, final hash " +
                 hex(ra.final_hash) + "\n";
    return out;
  }
  // Rerun both with rings that end just past the divergence, to show the events.
  const std::uint64_t k = diff->index;
  traces::HashSinkOptions ring{.ring_size = 8, .ring_stop_after = k + 1, .keep_hashes = true};
  traces::HashSink ra2(ring), rb2(ring);
  (void)run_scenario(c, {&ra2});
  (void)run_scenario(c, {&rb2});
  auto detailed = traces::compare_hash_streams(ra2, rb2);
  out.exit_code = kExitInternal;
  out.report = "NONDETERMINISM: two runs of the same seed differ.\n" +
               (detailed ? detailed->describe() : diff->describe()) +
               "Reproduce: edgesim check-determinism " + c.scenario + " --seed " +
               std::to_string(c.seed) + (!c.faults.empty() ? " --faults " + c.faults : "") + "\n";
  return out;
}

std::string outcome_json(const RunConfig& config, const RunOutcome& o) {
  nlohmann::json j;
  j["scenario"] = config.scenario;
  j["seed"] = config.seed;
  j["faults"] = config.faults;
  j["verdict"] = o.verdict;
  j["exit_code"] = o.exit_code;
  if (!o.error.empty()) j["error"] = o.error;
  j["fault_profile"] = o.faults;
  j["events"] = o.events;
  j["final_hash"] = hex(o.final_hash);
  j["sim_time_s"] = static_cast<double>(o.sim_time) / sim::kSecond;
  nlohmann::json props = nlohmann::json::array();
  for (const auto& p : o.properties) {
    props.push_back(
        {{"name", p.name}, {"verdict", verdict_name(p.verdict)}, {"explanation", p.explanation}});
  }
  j["properties"] = props;
  j["stats"] = o.stats;
  if (!o.trace_path.empty()) j["trace"] = o.trace_path;
  if (o.exit_code != kExitOk) j["repro"] = repro_command(config);
  return j.dump();
}

}  // namespace scenarios
