// The edgesim command line: one small function per subcommand registers its options, and the
// command's body is one call into scenarios/ (or tools/sweep.h). Exit codes (tools/README.md):
// 0 all properties hold; 1 a property failed (for sweeps: a scenario did not behave as it
// declares); 2 bad input; 3 nondeterminism or an internal error; 4 a checker could not decide.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#ifdef EDGESIM_HAS_PLATFORM
#include "platform/deployment.h"
#endif
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

int cmd_run(const RunConfig& c, bool json) {
  RunOutcome o = scenarios::run_scenario(c);
  if (json) {
    std::printf("%s\n", scenarios::outcome_json(c, o).c_str());
  } else {
    print_outcome(c, o);
  }
  return o.exit_code;
}

int cmd_replay(const std::string& path, const std::string& code) {
  if (!code.empty()) {
    std::fprintf(stderr, "edgesim replay: --code needs scenario folders (not built yet)\n");
    return scenarios::kExitBadInput;
  }
  auto r = scenarios::replay_trace(path);
  std::fputs(r.report.c_str(), r.exit_code >= scenarios::kExitBadInput ? stderr : stdout);
  return r.exit_code;
}

int cmd_check_determinism(const RunConfig& c) {
  auto r = scenarios::check_determinism(c);
  std::fputs(r.report.c_str(), r.exit_code == 0 ? stdout : stderr);
  return r.exit_code;
}

int cmd_check(const std::string& path, bool json) {
  scenarios::CheckOutcome r = scenarios::check_trace(path);
  RunConfig c;
  c.scenario = path;
  if (json) {
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

// Every knob of the platform, with its default and what it does (platform::knobs()).
int cmd_knobs(bool json) {
#ifndef EDGESIM_HAS_PLATFORM
  (void)json;
  std::fprintf(stderr, "edgesim knobs: this build has no platform (EDGESIM_PLATFORM=OFF)\n");
  return scenarios::kExitBadInput;
#else
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
#endif
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

// A registered subcommand: main() runs `action` when the command line named `app`. The options
// live in shared state that both the parser (which writes them) and the action hold.
struct Command {
  CLI::App* app;
  std::function<int()> action;
};

Command add_run(CLI::App& app) {
  struct Options {
    RunConfig config;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("run", "run one seed of a scenario");
  cmd->add_option("scenario", o->config.scenario, "scenario name")->required();
  cmd->add_option("--seed", o->config.seed, "seed (default 1)");
  cmd->add_option("--trace", o->config.trace_path, "write the trace to FILE");
  cmd->add_option("--faults", o->config.faults,
                  "none | swarm | PLAN (a file or 'at 2s crash x; ...'); default: the scenario's");
  cmd->add_flag("--json", o->json, "print one JSON object");
  return {cmd, [o] { return cmd_run(o->config, o->json); }};
}

Command add_sweep(CLI::App& app) {
  auto o = std::make_shared<tools::SweepOptions>();
  o->jobs = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  auto* cmd = app.add_subcommand("sweep", "run many seeds in parallel processes");
  cmd->add_option("scenario", o->scenarios, "scenario names, or 'all'")->required();
  cmd->add_option("--seeds", o->seeds, "seed range A..B (default 1..20)");
  cmd->add_option("-j,--jobs", o->jobs, "parallel processes (default: cores)");
  cmd->add_option("--out", o->out_dir, "where traces of failing seeds go (default edgesim-out)");
  cmd->add_option("--faults", o->faults, "none | swarm | PLAN (default: each scenario's own plan)");
  cmd->add_flag("--json", o->json, "print one JSON object per run");
  cmd->add_option("--seed-timeout", o->seed_timeout_s,
                  "SECONDS of wall time a seed may take; past it the seed is killed and reported "
                  "as timed out (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shard", o->shard,
                  "I/N: run only the I-th of N round-robin shards of the seeds (batch systems)");
  return {cmd, [o] {
            if (o->jobs < 1) o->jobs = 1;
            return tools::run_sweep(*o);
          }};
}

Command add_replay(CLI::App& app) {
  struct Options {
    std::string path, code;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("replay", "re-run a trace and prove the same event stream");
  cmd->add_option("trace", o->path, "trace file")->required();
  cmd->add_option("--code", o->code, "replay against another scenario (not yet supported)");
  return {cmd, [o] { return cmd_replay(o->path, o->code); }};
}

Command add_check_determinism(CLI::App& app) {
  auto config = std::make_shared<RunConfig>();
  auto* cmd = app.add_subcommand("check-determinism", "run a seed twice and compare");
  cmd->add_option("scenario", config->scenario, "scenario name")->required();
  cmd->add_option("--seed", config->seed, "seed (default 1)");
  cmd->add_option("--faults", config->faults, "none | swarm | PLAN");
  return {cmd, [config] { return cmd_check_determinism(*config); }};
}

Command add_check(CLI::App& app) {
  struct Options {
    std::string path;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "check", "re-run the checkers on a trace's recorded history, without simulating");
  cmd->add_option("trace", o->path, "trace file")->required();
  cmd->add_flag("--json", o->json, "print one JSON object");
  return {cmd, [o] { return cmd_check(o->path, o->json); }};
}

Command add_knobs(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("knobs", "every platform knob with its default and meaning");
  cmd->add_flag("--json", *json, "print them as JSON");
  return {cmd, [json] { return cmd_knobs(*json); }};
}

Command add_show(CLI::App& app) {
  struct Options {
    std::string path, chrome;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("show", "print a trace as a timeline");
  cmd->add_option("trace", o->path, "trace file")->required();
  cmd->add_option("--chrome", o->chrome, "write Chrome/Perfetto trace JSON to FILE instead");
  return {cmd, [o] { return cmd_show(o->path, o->chrome); }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgesim: deterministic simulation of an edge platform"};
  app.require_subcommand(1);
  // Registration order is the order `edgesim --help` lists them in (a braced list is evaluated
  // left to right).
  const std::vector<Command> commands = {
      add_run(app),   add_sweep(app), add_replay(app), add_check_determinism(app),
      add_check(app), add_knobs(app), add_show(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : scenarios::kExitBadInput;
  }
  for (const Command& c : commands) {
    if (c.app->parsed()) return c.action();
  }
  return scenarios::kExitBadInput;
}
