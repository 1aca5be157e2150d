// The edgesim command line. See DESIGN.md, "The command line". Exit codes: 0 all properties hold;
// 1 a property failed (for sweeps: a scenario did not behave as it declares); 2 bad input;
// 3 nondeterminism or an internal error.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
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

bool parse_seed_range(const std::string& s, std::uint64_t* a, std::uint64_t* b) {
  const auto dots = s.find("..");
  try {
    if (dots == std::string::npos) {
      *a = *b = std::stoull(s);
    } else {
      *a = std::stoull(s.substr(0, dots));
      *b = std::stoull(s.substr(dots + 2));
    }
  } catch (...) {
    return false;
  }
  return *a <= *b;
}

struct Job {
  std::string scenario;
  std::uint64_t seed;
};

struct SweepRow {
  std::string expected;
  int runs = 0, passed = 0, failed = 0, errors = 0, undecided = 0;
  std::uint64_t first_fail = 0;
  std::string first_trace, first_expl;
  std::map<std::string, int> violated;  // property -> seeds
};

// A file name for a scenario: a folder's last component, with its "@variant".
std::string file_stem(const std::string& scenario) {
  const std::size_t at = scenario.find('@');
  std::string folder = scenario.substr(0, at);
  while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  std::string stem = std::filesystem::path(folder).filename().string();
  if (at != std::string::npos) stem += scenario.substr(at);
  for (char& c : stem) {
    if (c == '/' || c == ' ') c = '_';
  }
  return stem;
}

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// "I/N" (1 <= I <= N): this process runs the I-th of N shards of the seed range.
bool parse_shard(const std::string& text, std::uint64_t* index, std::uint64_t* count) {
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  char* end = nullptr;
  *index = std::strtoull(text.c_str(), &end, 10);
  if (end != text.c_str() + slash) return false;
  *count = std::strtoull(text.c_str() + slash + 1, &end, 10);
  if (*end != '\0' || slash + 1 == text.size()) return false;
  return *count >= 1 && *index >= 1 && *index <= *count;
}

int cmd_sweep(const std::vector<std::string>& names, const std::string& seeds, int jobs,
              const std::string& out_dir, const std::string& faults, bool json,
              const std::string& shard) {
  std::uint64_t a, b;
  if (!parse_seed_range(seeds, &a, &b)) {
    std::fprintf(stderr, "edgesim sweep: --seeds wants A..B (for example 1..100), got '%s'\n",
                 seeds.c_str());
    return scenarios::kExitBadInput;
  }
  std::vector<std::string> list;
  for (const auto& n : names) {
    sim::Result<std::vector<std::string>> expanded = scenarios::expand_scenarios(n);
    if (!expanded.ok()) {
      std::fprintf(stderr, "edgesim sweep: %s\n", expanded.error().message.c_str());
      return scenarios::kExitBadInput;
    }
    list.insert(list.end(), expanded->begin(), expanded->end());
  }
  if (auto plan = sim::FaultPlan::from_arg(faults.empty() ? "none" : faults); !plan.ok()) {
    std::fprintf(stderr, "edgesim sweep: %s\n", plan.error().message.c_str());
    return scenarios::kExitBadInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "edgesim sweep: cannot create --out %s: %s\n", out_dir.c_str(),
                 ec.message().c_str());
    return scenarios::kExitBadInput;
  }
  // Shards split the seed range round-robin, so each gets a fair share of every scenario; the
  // shards' JSON lines (--json) concatenate into the whole sweep's.
  std::uint64_t shard_index = 1, shard_count = 1;
  if (!shard.empty() && !parse_shard(shard, &shard_index, &shard_count)) {
    std::fprintf(stderr, "edgesim sweep: --shard wants I/N with 1 <= I <= N (e.g. 2/8), got '%s'\n",
                 shard.c_str());
    return scenarios::kExitBadInput;
  }
  std::vector<Job> todo;
  for (const auto& n : list) {
    for (std::uint64_t s = a; s <= b; ++s) {
      if ((s - a) % shard_count == shard_index - 1) todo.push_back({n, s});
    }
  }
  std::map<std::string, SweepRow> rows;
  for (const auto& n : list) {
    sim::Result<scenarios::ScenarioInfo> info = scenarios::describe_scenario(n);
    if (!info.ok()) {
      std::fprintf(stderr, "edgesim sweep: %s\n", info.error().message.c_str());
      return scenarios::kExitBadInput;
    }
    rows[n].expected = info->expected;
  }

  struct Child {
    pid_t pid;
    int fd;
    Job job;
    std::string buf;
  };
  std::vector<Child> running;
  std::size_t next = 0, done = 0;
  const double start = wall_seconds();
  const bool tty = ::isatty(2);
  std::size_t last_shown = 0;
  auto progress = [&] {
    if (!tty && done != todo.size() && done < last_shown + todo.size() / 10 + 1) return;
    last_shown = done;
    const double el = wall_seconds() - start;
    const double eta =
        done ? el / static_cast<double>(done) * static_cast<double>(todo.size() - done) : 0;
    int failing = 0;
    for (auto& [n, r] : rows) failing += r.failed + r.errors + r.undecided;
    const int width = 30;
    const int filled = static_cast<int>(width * done / std::max<std::size_t>(1, todo.size()));
    std::fprintf(stderr, "%s[%s%s] %zu/%zu runs  %d failing  %.1fs elapsed  ETA %.1fs%s",
                 tty ? "\r" : "", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done,
                 todo.size(), failing, el, eta, tty ? "" : "\n");
    std::fflush(stderr);
  };

  auto launch = [&](const Job& job) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::close(fds[0]);
      RunConfig c;
      c.scenario = job.scenario;
      c.seed = job.seed;
      c.faults = faults;
      RunOutcome o = scenarios::run_scenario(c);
      if (o.exit_code == scenarios::kExitViolated || o.exit_code == scenarios::kExitInternal) {
        // Rerun the failing seed with a trace: runs are deterministic, so it fails the same way.
        c.trace_path =
            out_dir + "/" + file_stem(job.scenario) + "-seed" + std::to_string(job.seed) + ".trace";
        o = scenarios::run_scenario(c);
      }
      std::string line = scenarios::outcome_json(c, o) + "\n";
      std::size_t off = 0;
      while (off < line.size()) {
        ssize_t w = ::write(fds[1], line.data() + off, line.size() - off);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    running.push_back({pid, fds[0], job, ""});
    return true;
  };

  while (done < todo.size()) {
    while (running.size() < static_cast<std::size_t>(jobs) && next < todo.size()) {
      if (!launch(todo[next])) {
        std::fprintf(stderr, "edgesim sweep: cannot start a worker process\n");
        return scenarios::kExitInternal;
      }
      ++next;
    }
    std::vector<pollfd> pfds;
    for (auto& c : running) pfds.push_back({c.fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), -1);
    for (std::size_t i = 0; i < running.size();) {
      Child& c = running[i];
      char tmp[4096];
      ssize_t n = ::read(c.fd, tmp, sizeof tmp);
      if (n > 0) {
        c.buf.append(tmp, static_cast<std::size_t>(n));
        ++i;
        continue;
      }
      if (n < 0 && errno == EINTR) {
        ++i;
        continue;
      }
      ::close(c.fd);
      int status = 0;
      ::waitpid(c.pid, &status, 0);
      SweepRow& row = rows[c.job.scenario];
      ++row.runs;
      nlohmann::json j = nlohmann::json::parse(c.buf, nullptr, false);
      if (j.is_discarded() || !WIFEXITED(status)) {
        ++row.errors;
        if (!row.first_fail) {
          row.first_fail = c.job.seed;
          row.first_expl = "worker process died (signal " +
                           std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0) + ")";
        }
      } else {
        if (json) std::printf("%s\n", j.dump().c_str());
        const std::string verdict = j.value("verdict", "error");
        if (verdict == "pass") {
          ++row.passed;
        } else {
          if (verdict == "fail") {
            ++row.failed;
          } else if (verdict == "unknown") {
            ++row.undecided;
          } else {
            ++row.errors;
          }
          for (const auto& p : j["properties"]) {
            if (p.value("verdict", "") == "violated") ++row.violated[p.value("name", "")];
          }
          if (!row.first_fail || c.job.seed < row.first_fail) {
            row.first_fail = c.job.seed;
            row.first_trace = j.value("trace", "");
            row.first_expl = j.value("error", "");
            for (const auto& p : j["properties"]) {
              if (p.value("verdict", "") == "violated") {
                row.first_expl = p.value("name", "") + ": " + p.value("explanation", "");
                break;
              }
            }
          }
        }
      }
      ++done;
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      progress();
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  const double elapsed = wall_seconds() - start;

  // The verdict table.
  int exit_code = scenarios::kExitOk;
  int name_w = 20;
  int expected_w = 22;
  for (const auto& [name, r] : rows) {
    name_w = std::max(name_w, static_cast<int>(name.size()));
    expected_w = std::max(expected_w, static_cast<int>(r.expected.size()));
  }
  std::printf("\n%-*s %-*s %6s %6s %6s  %s\n", name_w, "scenario", expected_w, "expected", "seeds",
              "pass", "fail", "verdict");
  for (const auto& [name, r] : rows) {
    std::string verdict;
    if (r.errors > 0) {
      verdict = "ERROR (internal error or nondeterminism)";
      exit_code = std::max(exit_code, scenarios::kExitInternal);
    } else if (r.expected == "pass" && r.failed > 0) {
      verdict = "UNEXPECTED: a property failed";
      exit_code = std::max(exit_code, scenarios::kExitViolated);
    } else if (r.expected == "pass" && r.undecided > 0) {
      // Unknown is never a pass.
      verdict =
          "UNDECIDED on " + std::to_string(r.undecided) + " seeds (a checker could not decide)";
      exit_code = std::max(exit_code, scenarios::kExitUndecided);
    } else if (r.expected == "pass") {
      verdict = "ok: held on every seed";
    } else if (r.violated.count(r.expected)) {
      verdict = "ok: bug caught on " + std::to_string(r.violated.at(r.expected)) + "/" +
                std::to_string(r.runs) + " seeds, first seed " + std::to_string(r.first_fail);
    } else {
      verdict = "UNEXPECTED: bug not caught";
      exit_code = std::max(exit_code, scenarios::kExitViolated);
    }
    std::printf("%-*s %-*s %6d %6d %6d  %s\n", name_w, name.c_str(), expected_w, r.expected.c_str(),
                r.runs, r.passed, r.failed + r.errors + r.undecided, verdict.c_str());
  }
  for (const auto& [name, r] : rows) {
    if (!r.first_fail) continue;
    // The summary keeps the first lines of the explanation; the trace and `show` have the rest.
    std::string expl;
    int lines = 0;
    for (std::size_t at = 0; at < r.first_expl.size() && lines < 6; ++lines) {
      const std::size_t nl = r.first_expl.find('\n', at);
      expl += r.first_expl.substr(at, nl == std::string::npos ? std::string::npos : nl - at + 1);
      at = nl == std::string::npos ? r.first_expl.size() : nl + 1;
    }
    if (expl.size() < r.first_expl.size()) expl += "  ...\n";
    std::printf("\n%s, first failing seed %llu: %s\n", name.c_str(),
                static_cast<unsigned long long>(r.first_fail), expl.c_str());
    RunConfig c;
    c.scenario = name;
    c.seed = r.first_fail;
    c.faults = faults;
    std::printf("  reproduce: %s --trace run.trace\n", scenarios::repro_command(c).c_str());
    if (!r.first_trace.empty())
      std::printf("  replay:    edgesim replay %s\n", r.first_trace.c_str());
  }
  std::printf("\n%zu runs in %.1fs on %d processes (%.1f runs/s)\n", todo.size(), elapsed, jobs,
              static_cast<double>(todo.size()) / std::max(elapsed, 1e-9));
  return exit_code;
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
    return cmd_sweep(sweep_names, sweep_seeds, sweep_jobs, sweep_out, sweep_faults, sweep_json,
                     sweep_shard);
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
