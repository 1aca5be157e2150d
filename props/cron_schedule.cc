#include "props/cron_schedule.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace props {
namespace {

using Key = std::tuple<std::string, std::string, sim::Time>;  // (worker, cron, scheduled)

std::string describe(const std::string& worker, const std::string& cron, sim::Time t) {
  return cron + " (" + worker + ") at " + sim::format_time(t);
}

// "run 1 started 3600.2s ended ok; run 2 started ... never ended"
std::string story(const std::vector<const CronRun*>& runs,
                  const std::vector<const CronGiveUp*>& gs) {
  std::string out;
  for (const CronRun* r : runs) {
    out += (out.empty() ? "" : "; ") + std::string("run ") + std::to_string(r->attempt) +
           " started " + sim::format_time(r->started) +
           (r->ended ? " ended " + r->outcome + (r->error.empty() ? "" : " (" + r->error + ")")
                     : std::string(" never ended"));
  }
  for (const CronGiveUp* g : gs) {
    out += (out.empty() ? "" : "; ") + std::string("the scheduler gave up at ") +
           sim::format_time(g->time) + " (" + g->reason + ")";
  }
  return out.empty() ? "no run at all" : out;
}

}  // namespace

CronScheduleResult check_cron_schedule(const CronHistory& history,
                                       const std::vector<CronExpectation>& expected,
                                       const CronScheduleOptions& options) {
  CronScheduleResult r;
  std::map<Key, std::vector<const CronRun*>> runs;
  for (const CronRun& run : history.runs) {
    runs[{run.worker, run.cron, run.scheduled}].push_back(&run);
  }
  for (auto& [k, list] : runs) {
    std::stable_sort(list.begin(), list.end(),
                     [](const CronRun* a, const CronRun* b) { return a->started < b->started; });
  }
  std::map<Key, std::vector<const CronGiveUp*>> give_ups;
  for (const CronGiveUp& g : history.give_ups) {
    give_ups[{g.worker, g.cron, g.scheduled}].push_back(&g);
  }
  std::vector<std::string> violations;
  std::vector<std::string> notes;
  auto finding = [&](std::vector<std::string>& to, std::string text) {
    if (to.size() < options.examples_max) to.push_back(std::move(text));
  };
  std::vector<sim::Duration> delays;
  std::set<Key> judged;
  for (const CronExpectation& e : expected) {
    for (sim::Time t : e.times) {
      const Key key{e.worker, e.cron, t};
      judged.insert(key);
      ++r.expected;
      const std::vector<const CronRun*>& list = runs[key];
      const std::vector<const CronGiveUp*>& gs = give_ups[key];
      r.runs += list.size();
      std::size_t succeeded = 0;
      std::size_t failed_runs = 0;
      for (const CronRun* run : list) {
        if (!run->ended) continue;
        if (run->outcome == "failed") {
          ++failed_runs;
        } else {
          ++succeeded;
        }
      }
      const bool all_failed =
          succeeded == 0 && std::cmp_greater_equal(failed_runs, e.retries_max + 1);
      if (succeeded == 0 && !all_failed) {
        ++r.missed;
        finding(violations, describe(e.worker, e.cron, t) + ": missed: " + story(list, gs));
        continue;
      }
      ++r.fired;
      r.failed += all_failed ? 1 : 0;
      const sim::Duration delay = list.front()->started - t;
      delays.push_back(delay);
      if (delay > options.tolerance) {
        ++r.late;
        finding(violations, describe(e.worker, e.cron, t) + ": late: first run " +
                                sim::format_duration(delay) + " after its minute, more than " +
                                sim::format_duration(options.tolerance) + ": " + story(list, gs));
      }
      if (list.size() > 1 + failed_runs) {
        ++r.duplicated;
        finding(notes, describe(e.worker, e.cron, t) + ": ran " + std::to_string(list.size()) +
                           " times: " + story(list, gs));
      }
    }
  }
  // Runs for minutes no expectation lists (inside the window of their schedule).
  std::map<std::pair<std::string, std::string>, sim::Time> windows;
  for (const CronExpectation& e : expected) windows[{e.worker, e.cron}] = e.window_end;
  for (const auto& [key, list] : runs) {
    if (judged.contains(key)) continue;
    auto w = windows.find({std::get<0>(key), std::get<1>(key)});
    if (w != windows.end() && std::get<2>(key) > w->second) continue;
    r.phantom += list.size();
    finding(violations,
            describe(std::get<0>(key), std::get<1>(key), std::get<2>(key)) +
                ": phantom: a run for a minute its schedule does not have: " + story(list, {}));
  }
  r.delay = duration_stats(delays);
  r.verdict = r.missed + r.late + r.phantom > 0 ? Verdict::kViolated : Verdict::kOk;
  r.findings = std::move(violations);
  r.findings.insert(r.findings.end(), notes.begin(), notes.end());
  return r;
}

std::string CronScheduleResult::report() const {
  std::string out = std::string("cron schedule: ") + verdict_name(verdict) + "\n";
  out += "  scheduled " + std::to_string(expected) + ", fired " + std::to_string(fired) + " (" +
         std::to_string(failed) + " failed on every run), missed " + std::to_string(missed) +
         ", late " + std::to_string(late) + ", phantom " + std::to_string(phantom) + "\n";
  out += "  runs " + std::to_string(runs) + ", duplicated " + std::to_string(duplicated) +
         ", delay " + delay.to_string() + "\n";
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
