#include "tools/sweep.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/faults.h"

namespace tools {
namespace {

using scenarios::RunConfig;
using scenarios::RunOutcome;

struct Job {
  std::string scenario;
  std::uint64_t seed;
};

// One scenario's tally over its seeds.
struct SweepRow {
  std::string expected;
  int runs = 0, passed = 0, failed = 0, errors = 0, undecided = 0;
  std::uint64_t first_fail = 0;
  std::string first_trace, first_expl;
  std::map<std::string, int> violated;  // property -> seeds
  struct Crash {
    std::uint64_t seed;
    std::string why, stderr_tail;
  };
  std::vector<Crash> crashes;  // seeds whose worker died or ran out of time
};

using SweepRows = std::map<std::string, SweepRow>;

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

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

// What a sweep runs: this shard's jobs, and a row for each scenario that its runs tally into.
struct SweepPlan {
  std::vector<Job> jobs;
  SweepRows rows;
};

// The scenarios that the command line's names stand for ("all" and suites stand for many).
bool expand_names(const std::vector<std::string>& names, std::vector<std::string>* list) {
  for (const auto& n : names) {
    sim::Result<std::vector<std::string>> expanded = scenarios::expand_scenarios(n);
    if (!expanded.ok()) {
      std::fprintf(stderr, "edgesim sweep: %s\n", expanded.error().message.c_str());
      return false;
    }
    list->insert(list->end(), expanded->begin(), expanded->end());
  }
  return true;
}

// Every problem with the options is reported here, before any run starts: a sweep that dies of
// bad input halfway would waste the runs before it.
int plan_sweep(const SweepOptions& o, SweepPlan* plan) {
  std::uint64_t a, b;
  if (!parse_seed_range(o.seeds, &a, &b)) {
    std::fprintf(stderr, "edgesim sweep: --seeds wants A..B (for example 1..100), got '%s'\n",
                 o.seeds.c_str());
    return scenarios::kExitBadInput;
  }
  std::vector<std::string> list;
  if (!expand_names(o.scenarios, &list)) return scenarios::kExitBadInput;
  if (auto faults = sim::FaultPlan::from_arg(o.faults.empty() ? "none" : o.faults); !faults.ok()) {
    std::fprintf(stderr, "edgesim sweep: %s\n", faults.error().message.c_str());
    return scenarios::kExitBadInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "edgesim sweep: cannot create --out %s: %s\n", o.out_dir.c_str(),
                 ec.message().c_str());
    return scenarios::kExitBadInput;
  }
  // Shards split the seed range round-robin, so each gets a fair share of every scenario; the
  // shards' JSON lines (--json) concatenate into the whole sweep's.
  std::uint64_t shard_index = 1, shard_count = 1;
  if (!o.shard.empty() && !parse_shard(o.shard, &shard_index, &shard_count)) {
    std::fprintf(stderr, "edgesim sweep: --shard wants I/N with 1 <= I <= N (e.g. 2/8), got '%s'\n",
                 o.shard.c_str());
    return scenarios::kExitBadInput;
  }
  for (const auto& n : list) {
    for (std::uint64_t s = a; s <= b; ++s) {
      if ((s - a) % shard_count == shard_index - 1) plan->jobs.push_back({n, s});
    }
  }
  for (const auto& n : list) {
    sim::Result<scenarios::ScenarioInfo> info = scenarios::describe_scenario(n);
    if (!info.ok()) {
      std::fprintf(stderr, "edgesim sweep: %s\n", info.error().message.c_str());
      return scenarios::kExitBadInput;
    }
    plan->rows[n].expected = info->expected;
  }
  return scenarios::kExitOk;
}

// The body of a worker process: runs `job` and writes its outcome, one JSON line, to `fd`.
[[noreturn]] void run_worker(const Job& job, const SweepOptions& o, int fd) {
  RunConfig c;
  c.scenario = job.scenario;
  c.seed = job.seed;
  c.faults = o.faults;
  RunOutcome out = scenarios::run_scenario(c);
  if (out.exit_code == scenarios::kExitViolated || out.exit_code == scenarios::kExitInternal) {
    // Rerun the failing seed with a trace: runs are deterministic, so it fails the same way.
    c.trace_path =
        o.out_dir + "/" + file_stem(job.scenario) + "-seed" + std::to_string(job.seed) + ".trace";
    out = scenarios::run_scenario(c);
  }
  std::string line = scenarios::outcome_json(c, out) + "\n";
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(fd, line.data() + off, line.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
  ::_exit(0);
}

// A worker that exited without a JSON line (a crash, an assertion, its time bound): an error for
// its scenario, named by seed in the summary, with the tail of what it wrote to stderr.
void record_crash(SweepRow* row, std::uint64_t seed, const std::string& why,
                  const std::string& stderr_tail) {
  ++row->errors;
  row->crashes.push_back({seed, why, stderr_tail});
  if (!row->first_fail || seed < row->first_fail) {
    row->first_fail = seed;
    row->first_trace.clear();
    row->first_expl = why;
  }
}

// A worker's JSON line. The lowest failing seed is kept, whatever order the workers end in, so
// the summary does not depend on scheduling.
void record_outcome(SweepRow* row, std::uint64_t seed, const nlohmann::json& j) {
  const std::string verdict = j.value("verdict", "error");
  if (verdict == "pass") {
    ++row->passed;
    return;
  }
  if (verdict == "fail") {
    ++row->failed;
  } else if (verdict == "unknown") {
    ++row->undecided;
  } else {
    ++row->errors;
  }
  for (const auto& p : j["properties"]) {
    if (p.value("verdict", "") == "violated") ++row->violated[p.value("name", "")];
  }
  if (row->first_fail && seed >= row->first_fail) return;
  row->first_fail = seed;
  row->first_trace = j.value("trace", "");
  row->first_expl = j.value("error", "");
  for (const auto& p : j["properties"]) {
    if (p.value("verdict", "") == "violated") {
      row->first_expl = p.value("name", "") + ": " + p.value("explanation", "");
      break;
    }
  }
}

// Runs the jobs in forked processes, at most `jobs` at a time. Processes rather than threads: a
// run that crashes or trips an assertion takes down its own seed alone, and a run needs no state
// shared with the others.
class WorkerPool {
 public:
  WorkerPool(const SweepOptions& options, const std::vector<Job>& jobs, SweepRows* rows,
             double start)
      : options_(options), jobs_(jobs), rows_(*rows), start_(start), tty_(::isatty(2)) {}

  // False when a worker process cannot be started (the sweep stops there).
  bool run() {
    while (done_ < jobs_.size()) {
      while (running_.size() < static_cast<std::size_t>(options_.jobs) && next_ < jobs_.size()) {
        if (!launch(jobs_[next_])) return false;
        ++next_;
      }
      collect();
    }
    if (tty_) std::fprintf(stderr, "\n");
    return true;
  }

 private:
  struct Child {
    pid_t pid;
    int fd;      // the JSON line
    int err_fd;  // its stderr (-1 once closed)
    Job job;
    std::string buf;
    std::string err;  // the last kStderrKept bytes
    double deadline;
    bool timed_out = false;
  };
  static constexpr std::size_t kStderrKept = 2048;

  bool launch(const Job& job) {
    int fds[2], errs[2];
    if (::pipe(fds) != 0) return false;
    if (::pipe(errs) != 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return false;
    }
    // The worker inherits our stdio buffers: flush them, or what they hold may be written twice.
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::close(fds[0]);
      ::close(errs[0]);
      ::dup2(errs[1], 2);
      ::close(errs[1]);
      run_worker(job, options_, fds[1]);
    }
    ::close(fds[1]);
    ::close(errs[1]);
    running_.push_back(
        {pid, fds[0], errs[0], job, "", "", wall_seconds() + options_.seed_timeout_s});
    return true;
  }

  // Seeds past their time bound are killed; their pipes then close and finish() reports them.
  void kill_overdue() {
    const double now = wall_seconds();
    for (Child& c : running_) {
      if (!c.timed_out && now >= c.deadline) {
        c.timed_out = true;
        ::kill(c.pid, SIGKILL);
      }
    }
  }

  int poll_timeout_ms() const {
    double next = 1e300;
    for (const Child& c : running_) {
      if (!c.timed_out) next = std::min(next, c.deadline);
    }
    if (next >= 1e299) return -1;
    return static_cast<int>(std::clamp((next - wall_seconds()) * 1000.0 + 1.0, 0.0, 3.6e6));
  }

  // Waits for output, then reads from the workers that have some (a read of any other would
  // block until that worker ends, holding up the pool); one whose pipe is closed has finished.
  void collect() {
    std::vector<pollfd> pfds;
    for (auto& c : running_) {
      pfds.push_back({c.fd, POLLIN, 0});
      pfds.push_back({c.err_fd, POLLIN, 0});  // -1 once closed: poll() skips it
    }
    const int ready = ::poll(pfds.data(), pfds.size(), poll_timeout_ms());
    kill_overdue();
    if (ready <= 0) return;  // a timeout or EINTR: the caller polls again
    std::vector<std::size_t> ended;
    for (std::size_t i = 0; i < running_.size(); ++i) {
      Child& c = running_[i];
      char tmp[4096];
      if (pfds[2 * i + 1].revents != 0) {
        ssize_t n = ::read(c.err_fd, tmp, sizeof tmp);
        if (n > 0) {
          c.err.append(tmp, static_cast<std::size_t>(n));
          if (c.err.size() > kStderrKept) c.err.erase(0, c.err.size() - kStderrKept);
        } else if (n == 0 || errno != EINTR) {
          ::close(c.err_fd);
          c.err_fd = -1;
        }
      }
      if (pfds[2 * i].revents == 0) continue;
      ssize_t n = ::read(c.fd, tmp, sizeof tmp);
      if (n > 0) {
        c.buf.append(tmp, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ended.push_back(i);
      }
    }
    for (std::size_t i : ended) {
      finish(running_[i]);
      progress();
    }
    for (auto it = ended.rbegin(); it != ended.rend(); ++it) {
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
  }

  void finish(Child& c) {
    ::close(c.fd);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    if (c.err_fd >= 0) {  // the rest of its stderr (the process has ended)
      char tmp[4096];
      ssize_t n;
      while ((n = ::read(c.err_fd, tmp, sizeof tmp)) > 0)
        c.err.append(tmp, static_cast<std::size_t>(n));
      if (c.err.size() > kStderrKept) c.err.erase(0, c.err.size() - kStderrKept);
      ::close(c.err_fd);
    }
    SweepRow& row = rows_[c.job.scenario];
    ++row.runs;
    nlohmann::json j = nlohmann::json::parse(c.buf, nullptr, false);
    if (j.is_discarded() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string why;
      if (c.timed_out) {
        why = "timed out: the seed ran longer than --seed-timeout (" +
              format_seconds(options_.seed_timeout_s) + ") and was killed";
      } else if (WIFSIGNALED(status)) {
        why = "worker process died (signal " + std::to_string(WTERMSIG(status)) + ", " +
              strsignal(WTERMSIG(status)) + ")";
      } else {
        why = "worker process exited " + std::to_string(WEXITSTATUS(status)) + " without a result";
      }
      record_crash(&row, c.job.seed, why, c.err);
      // One JSON line per seed, whatever happened: shards still add up.
      if (options_.json) {
        nlohmann::json e;
        e["scenario"] = c.job.scenario;
        e["seed"] = c.job.seed;
        e["faults"] = options_.faults;
        e["verdict"] = "error";
        e["exit_code"] = scenarios::kExitInternal;
        e["error"] = why;
        e["stderr"] = c.err;
        e["timed_out"] = c.timed_out;
        std::printf("%s\n",
                    e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      }
    } else {
      if (options_.json) std::printf("%s\n", j.dump().c_str());
      record_outcome(&row, c.job.seed, j);
    }
    ++done_;
  }

  // A progress bar on a terminal; elsewhere (a CI log) a line at every tenth of the runs.
  void progress() {
    const std::size_t total = jobs_.size();
    if (!tty_ && done_ != total && done_ < last_shown_ + total / 10 + 1) return;
    last_shown_ = done_;
    const double el = wall_seconds() - start_;
    const double eta =
        done_ ? el / static_cast<double>(done_) * static_cast<double>(total - done_) : 0;
    int failing = 0;
    for (auto& [n, r] : rows_) failing += r.failed + r.errors + r.undecided;
    const int width = 30;
    const int filled = static_cast<int>(width * done_ / std::max<std::size_t>(1, total));
    std::fprintf(stderr, "%s[%s%s] %zu/%zu runs  %d failing  %.1fs elapsed  ETA %.1fs%s",
                 tty_ ? "\r" : "", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done_, total,
                 failing, el, eta, tty_ ? "" : "\n");
    std::fflush(stderr);
  }

  const SweepOptions& options_;
  const std::vector<Job>& jobs_;
  SweepRows& rows_;
  const double start_;
  const bool tty_;
  std::vector<Child> running_;
  std::size_t next_ = 0, done_ = 0, last_shown_ = 0;
};

// What a scenario's row says, and the exit code that calls for (raised into *exit_code).
std::string row_verdict(const SweepRow& r, int* exit_code) {
  if (r.errors > 0) {
    *exit_code = std::max(*exit_code, scenarios::kExitInternal);
    return "ERROR (internal error or nondeterminism)";
  }
  if (r.expected == "pass" && r.failed > 0) {
    *exit_code = std::max(*exit_code, scenarios::kExitViolated);
    return "UNEXPECTED: a property failed";
  }
  if (r.expected == "pass" && r.undecided > 0) {
    // Unknown is never a pass.
    *exit_code = std::max(*exit_code, scenarios::kExitUndecided);
    return "UNDECIDED on " + std::to_string(r.undecided) + " seeds (a checker could not decide)";
  }
  if (r.expected == "pass") return "ok: held on every seed";
  if (r.violated.count(r.expected)) {
    return "ok: bug caught on " + std::to_string(r.violated.at(r.expected)) + "/" +
           std::to_string(r.runs) + " seeds, first seed " + std::to_string(r.first_fail);
  }
  *exit_code = std::max(*exit_code, scenarios::kExitViolated);
  return "UNEXPECTED: bug not caught";
}

// Prints the verdict table and returns the sweep's exit code.
int print_verdict_table(std::FILE* out, const SweepRows& rows) {
  int exit_code = scenarios::kExitOk;
  int name_w = 20;
  int expected_w = 22;
  for (const auto& [name, r] : rows) {
    name_w = std::max(name_w, static_cast<int>(name.size()));
    expected_w = std::max(expected_w, static_cast<int>(r.expected.size()));
  }
  std::fprintf(out, "\n%-*s %-*s %6s %6s %6s  %s\n", name_w, "scenario", expected_w, "expected",
               "seeds", "pass", "fail", "verdict");
  for (const auto& [name, r] : rows) {
    const std::string verdict = row_verdict(r, &exit_code);
    std::fprintf(out, "%-*s %-*s %6d %6d %6d  %s\n", name_w, name.c_str(), expected_w,
                 r.expected.c_str(), r.runs, r.passed, r.failed + r.errors + r.undecided,
                 verdict.c_str());
  }
  return exit_code;
}

// The summary keeps the first lines of an explanation; the trace and `show` have the rest.
std::string first_lines(const std::string& text) {
  std::string out;
  int lines = 0;
  for (std::size_t at = 0; at < text.size() && lines < 6; ++lines) {
    const std::size_t nl = text.find('\n', at);
    out += text.substr(at, nl == std::string::npos ? std::string::npos : nl - at + 1);
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  if (out.size() < text.size()) out += "  ...\n";
  return out;
}

// Each failing scenario's lowest failing seed, with the commands that reproduce and replay it.
void print_first_failures(std::FILE* out, const SweepRows& rows, const std::string& faults) {
  for (const auto& [name, r] : rows) {
    if (!r.first_fail) continue;
    std::fprintf(out, "\n%s, first failing seed %llu: %s\n", name.c_str(),
                 static_cast<unsigned long long>(r.first_fail), first_lines(r.first_expl).c_str());
    RunConfig c;
    c.scenario = name;
    c.seed = r.first_fail;
    c.faults = faults;
    std::fprintf(out, "  reproduce: %s --trace run.trace\n", scenarios::repro_command(c).c_str());
    if (!r.first_trace.empty())
      std::fprintf(out, "  replay:    edgesim replay %s\n", r.first_trace.c_str());
    // Every seed whose worker died or timed out, by number (the lowest first).
    std::vector<SweepRow::Crash> crashes = r.crashes;
    std::sort(crashes.begin(), crashes.end(),
              [](const auto& a, const auto& b) { return a.seed < b.seed; });
    constexpr std::size_t kShown = 10;
    for (std::size_t i = 0; i < crashes.size() && i < kShown; ++i) {
      std::fprintf(out, "  seed %llu: %s\n", static_cast<unsigned long long>(crashes[i].seed),
                   crashes[i].why.c_str());
      std::string tail = crashes[i].stderr_tail;
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();
      if (tail.empty()) continue;
      // Its last lines of stderr, indented.
      std::size_t from = tail.size();
      for (int lines = 0; lines < 5 && from > 0; ++lines) {
        from = tail.rfind('\n', from - 1);
        if (from == std::string::npos) {
          from = 0;
          break;
        }
      }
      std::string shown = tail.substr(from == 0 ? 0 : from + 1);
      std::string indented = "    | ";
      for (char ch : shown) indented += ch == '\n' ? std::string("\n    | ") : std::string(1, ch);
      std::fprintf(out, "%s\n", indented.c_str());
    }
    if (crashes.size() > kShown) {
      std::fprintf(out, "  ... and %zu more seeds that died or timed out\n",
                   crashes.size() - kShown);
    }
  }
}

}  // namespace

int run_sweep(const SweepOptions& options) {
  SweepPlan plan;
  if (const int rc = plan_sweep(options, &plan); rc != scenarios::kExitOk) return rc;
  const double start = wall_seconds();
  WorkerPool pool(options, plan.jobs, &plan.rows, start);
  if (!pool.run()) {
    std::fprintf(stderr, "edgesim sweep: cannot start a worker process\n");
    return scenarios::kExitInternal;
  }
  const double elapsed = wall_seconds() - start;
  // With --json, stdout holds the JSON lines only: the summary for people goes to stderr.
  std::FILE* human = options.json ? stderr : stdout;
  const int exit_code = print_verdict_table(human, plan.rows);
  print_first_failures(human, plan.rows, options.faults);
  std::fprintf(human, "\n%zu runs in %.1fs on %d processes (%.1f runs/s)\n", plan.jobs.size(),
               elapsed, options.jobs,
               static_cast<double>(plan.jobs.size()) / std::max(elapsed, 1e-9));
  return exit_code;
}

}  // namespace tools
