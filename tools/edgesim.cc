// The edgesim command line. See DESIGN.md, "The command line". Exit codes: 0 all properties hold;
// 1 a property failed (for sweeps: a scenario did not behave as it declares); 2 bad input;
// 3 nondeterminism or an internal error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "tools/sweep.h"
#include "traces/export.h"
#include "traces/reader.h"

namespace {

using scenarios::RunConfig;
using scenarios::RunOutcome;

void print_outcome(const RunConfig& c, const RunOutcome& o) {
  if (o.exit_code == scenarios::kExitBadInput) {
    // Bad input: what is wrong, one problem a line, and nothing about a run that did not happen.
    std::fprintf(stderr, "edgesim: %s: bad input\n", c.scenario.c_str());
    std::size_t at = 0;
    while (at < o.error.size()) {
      const std::size_t nl = o.error.find('\n', at);
      std::fprintf(
          stderr, "  %s\n",
          o.error.substr(at, nl == std::string::npos ? std::string::npos : nl - at).c_str());
      at = nl == std::string::npos ? o.error.size() : nl + 1;
    }
    return;
  }
  std::printf("%s seed %llu: %s\n", c.scenario.c_str(), static_cast<unsigned long long>(c.seed),
              o.verdict == "pass"      ? "PASS"
              : o.verdict == "fail"    ? "FAIL"
              : o.verdict == "unknown" ? "UNDECIDED (a checker could not decide: not a pass)"
                                       : "ERROR");
  std::printf("  faults: %s\n", o.faults.empty() ? c.faults.c_str() : o.faults.c_str());
  for (const auto& p : o.properties) {
    std::printf("  %-9s %-30s %s\n", scenarios::verdict_name(p.verdict), p.name.c_str(),
                p.explanation.c_str());
  }
  if (!o.error.empty()) std::printf("  error: %s\n", o.error.c_str());
  std::printf("  %llu events, %.1fs simulated, final hash %016llx\n",
              static_cast<unsigned long long>(o.events), static_cast<double>(o.sim_time) / 1e9,
              static_cast<unsigned long long>(o.final_hash));
  if (!o.trace_path.empty()) std::printf("  trace: %s\n", o.trace_path.c_str());
  if (o.exit_code != scenarios::kExitOk) {
    std::printf("  reproduce: %s%s\n", scenarios::repro_command(c).c_str(),
                o.trace_path.empty() ? " --trace run.trace" : "");
    if (!o.trace_path.empty())
      std::printf("  replay:    edgesim replay %s\n", o.trace_path.c_str());
  }
}

// Every knob of the platform, with its default and what it does (platform::knobs()).
int cmd_knobs(bool json) {
  const std::vector<sim::KnobInfo> all = platform::knobs().list(platform::PlatformConfig{});
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const sim::KnobInfo& k : all) {
      out.push_back({{"name", k.name}, {"default", k.value}, {"type", k.type}, {"doc", k.doc}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::size_t name_w = 4, value_w = 7;
  for (const sim::KnobInfo& k : all) {
    name_w = std::max(name_w, k.name.size());
    value_w = std::max(value_w, k.value.size());
  }
  std::printf("%-*s  %-*s  %s\n", static_cast<int>(name_w), "knob", static_cast<int>(value_w),
              "default", "what it does (type)");
  for (const sim::KnobInfo& k : all) {
    std::printf("%-*s  %-*s  %s (%s)\n", static_cast<int>(name_w), k.name.c_str(),
                static_cast<int>(value_w), k.value.c_str(), k.doc.c_str(), k.type.c_str());
  }
  std::printf("\nSet them in a scenario (knobs { key: \"do.lease_duration\" value: \"5s\" }).\n");
  return 0;
}

int cmd_show(const std::string& path, const std::string& chrome) {
  auto reader = traces::TraceReader::open(path);
  if (!reader.ok()) {
    std::fprintf(stderr, "edgesim show: %s\n", reader.error().message.c_str());
    return scenarios::kExitBadInput;
  }
  if (!chrome.empty()) {
    std::ofstream out(chrome);
    sim::Status s = traces::write_chrome_trace(*reader.value(), out);
    if (!s.ok()) {
      std::fprintf(stderr, "edgesim show: %s\n", s.error().message.c_str());
      return scenarios::kExitBadInput;
    }
    std::printf("wrote %s (open it at https://ui.perfetto.dev)\n", chrome.c_str());
    return 0;
  }
  sim::Status s = traces::write_timeline(*reader.value(), std::cout);
  if (!s.ok()) {
    std::cout.flush();
    std::fprintf(stderr, "edgesim show: %s\n", s.error().message.c_str());
    return scenarios::kExitBadInput;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgesim: deterministic simulation of an edge platform"};
  app.require_subcommand(1);

  RunConfig run_cfg;
  bool run_json = false;
  auto* run = app.add_subcommand("run", "run one seed of a scenario");
  run->add_option("scenario", run_cfg.scenario, "scenario name")->required();
  run->add_option("--seed", run_cfg.seed, "seed (default 1)");
  run->add_option("--trace", run_cfg.trace_path, "write the trace to FILE");
  run->add_option("--faults", run_cfg.faults,
                  "none | swarm | PLAN (a file or 'at 2s crash x; ...'); default: the scenario's");
  run->add_flag("--json", run_json, "print one JSON object");

  std::vector<std::string> sweep_names;
  std::string sweep_seeds = "1..20", sweep_out = "edgesim-out", sweep_faults;
  int sweep_jobs = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  bool sweep_json = false;
  std::string sweep_shard;
  auto* sweep = app.add_subcommand("sweep", "run many seeds in parallel processes");
  sweep->add_option("scenario", sweep_names, "scenario names, or 'all'")->required();
  sweep->add_option("--seeds", sweep_seeds, "seed range A..B (default 1..20)");
  sweep->add_option("-j,--jobs", sweep_jobs, "parallel processes (default: cores)");
  sweep->add_option("--out", sweep_out, "where traces of failing seeds go (default edgesim-out)");
  sweep->add_option("--faults", sweep_faults,
                    "none | swarm | PLAN (default: each scenario's own plan)");
  sweep->add_flag("--json", sweep_json, "print one JSON object per run");
  sweep->add_option("--shard", sweep_shard,
                    "I/N: run only the I-th of N round-robin shards of the seeds (batch systems)");

  std::string replay_path, replay_code;
  auto* replay = app.add_subcommand("replay", "re-run a trace and prove the same event stream");
  replay->add_option("trace", replay_path, "trace file")->required();
  replay->add_option("--code", replay_code, "replay against another scenario (not yet supported)");

  RunConfig det_cfg;
  auto* det = app.add_subcommand("check-determinism", "run a seed twice and compare");
  det->add_option("scenario", det_cfg.scenario, "scenario name")->required();
  det->add_option("--seed", det_cfg.seed, "seed (default 1)");
  det->add_option("--faults", det_cfg.faults, "none | swarm | PLAN");

  std::string check_path;
  bool check_json = false;
  auto* check = app.add_subcommand(
      "check", "re-run the checkers on a trace's recorded history, without simulating");
  check->add_option("trace", check_path, "trace file")->required();
  check->add_flag("--json", check_json, "print one JSON object");

  bool knobs_json = false;
  auto* knobs = app.add_subcommand("knobs", "every platform knob with its default and meaning");
  knobs->add_flag("--json", knobs_json, "print them as JSON");

  std::string show_path, show_chrome;
  auto* show = app.add_subcommand("show", "print a trace as a timeline");
  show->add_option("trace", show_path, "trace file")->required();
  show->add_option("--chrome", show_chrome, "write Chrome/Perfetto trace JSON to FILE instead");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : scenarios::kExitBadInput;
  }

  if (run->parsed()) {
    RunOutcome o = scenarios::run_scenario(run_cfg);
    if (run_json) {
      std::printf("%s\n", scenarios::outcome_json(run_cfg, o).c_str());
    } else {
      print_outcome(run_cfg, o);
    }
    return o.exit_code;
  }
  if (sweep->parsed()) {
    if (sweep_jobs < 1) sweep_jobs = 1;
    tools::SweepOptions options;
    options.scenarios = sweep_names;
    options.seeds = sweep_seeds;
    options.jobs = sweep_jobs;
    options.out_dir = sweep_out;
    options.faults = sweep_faults;
    options.json = sweep_json;
    options.shard = sweep_shard;
    return tools::run_sweep(options);
  }
  if (replay->parsed()) {
    if (!replay_code.empty()) {
      std::fprintf(stderr, "edgesim replay: --code needs scenario folders (not built yet)\n");
      return scenarios::kExitBadInput;
    }
    auto r = scenarios::replay_trace(replay_path);
    std::fputs(r.report.c_str(), r.exit_code >= scenarios::kExitBadInput ? stderr : stdout);
    return r.exit_code;
  }
  if (det->parsed()) {
    auto r = scenarios::check_determinism(det_cfg);
    std::fputs(r.report.c_str(), r.exit_code == 0 ? stdout : stderr);
    return r.exit_code;
  }
  if (check->parsed()) {
    scenarios::CheckOutcome r = scenarios::check_trace(check_path);
    RunConfig c;
    c.scenario = check_path;
    if (check_json) {
      std::printf("%s\n", scenarios::outcome_json(c, r.result).c_str());
    } else if (r.exit_code == scenarios::kExitBadInput) {
      std::fprintf(stderr, "edgesim check: %s", r.report.c_str());
    } else {
      for (const auto& p : r.result.properties) {
        std::printf("  %-9s %-30s %s\n", scenarios::verdict_name(p.verdict), p.name.c_str(),
                    p.explanation.c_str());
      }
      std::fputs(r.report.c_str(), stdout);
    }
    return r.exit_code;
  }
  if (knobs->parsed()) return cmd_knobs(knobs_json);
  if (show->parsed()) return cmd_show(show_path, show_chrome);
  return scenarios::kExitBadInput;
}
