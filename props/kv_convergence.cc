#include "props/kv_convergence.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sim/assert.h"

namespace props {
namespace {

using KeyId = std::pair<std::string, std::string>;  // (namespace, key)

std::string show(const std::optional<std::string>& v) {
  return v.has_value() ? "\"" + *v + "\"" : std::string("absent");
}

std::string name(const KeyId& k) { return k.first + "/" + k.second; }

struct KeyWrites {
  std::vector<const KvWrite*> order;  // by time, ties in input order
  // value -> indices into `order` of its writes, ascending (so their times ascend too)
  std::map<std::optional<std::string>, std::vector<long>> by_value;
};

// Where a read's value came from, as a range of write indices (-1: the initial absence).
struct Source {
  bool explained = true;
  long newest = -1;  // the most generous (newest) source
  long oldest = -1;  // the oldest write that could have produced the value
};

Source source_of(const KeyWrites* kw, const KvRead& read) {
  Source s;
  if (kw == nullptr) {
    s.explained = !read.value.has_value();  // absent since the start
    return s;
  }
  auto it = kw->by_value.find(read.value);
  if (it == kw->by_value.end()) {
    s.explained = !read.value.has_value();
    return s;
  }
  const std::vector<long>& idx = it->second;
  // The first write of this value completed after the read.
  auto after = std::upper_bound(idx.begin(), idx.end(), read.time,
                                [&](sim::Time t, long i) { return t < kw->order[i]->time; });
  if (after != idx.begin()) {
    s.newest = *(after - 1);
  } else if (read.value.has_value()) {
    s.newest = *after;  // in flight: no write of it had completed yet
  } else {
    s.newest = -1;  // absent, and no deletion had completed: the initial absence
  }
  s.oldest = read.value.has_value() ? idx.front() : -1;
  // The range is ordered, and its newest end is a write of the value read.
  SIM_ASSERT(s.oldest <= s.newest);
  SIM_ASSERT(s.newest < 0 || kw->order[s.newest]->value == read.value);
  return s;
}

// One pass over the reads in time order; each read is checked against the writes of its key.
class ConvergenceCheck {
 public:
  explicit ConvergenceCheck(const KvConvergenceInput& input) : input_(input) {}

  KvConvergenceResult run();

 private:
  void index_writes();
  void find_settle_time();
  // When a write completed at `w` must be visible everywhere (monotone in `w`).
  sim::Time deadline(sim::Time w) const;
  void check_read(const KvRead& rd);
  void check_staleness(const KvRead& rd, const KeyId& key, const KeyWrites* kw, const Source& src,
                       KvLocationReport* loc);
  void check_convergence(const KvRead& rd, const KeyId& key, const KeyWrites* kw,
                         KvLocationReport* loc);
  void check_monotonic(const KvRead& rd, const KeyId& key, const Source& src);
  void finding(std::string text) {
    if (violations_.size() < input_.examples_max) violations_.push_back(std::move(text));
  }
  void conclude();

  const KvConvergenceInput& input_;
  KvConvergenceResult r_;
  std::map<KeyId, KeyWrites> writes_;
  std::map<std::string, KvLocationReport> locations_;
  sim::Time last_write_ = INT64_MIN;
  std::vector<KvConvergenceInput::Outage> outages_;
  std::vector<std::string> violations_;
  std::vector<sim::Duration> staleness_;
  // (location, key) -> the oldest possible source of the newest read so far (monotonic reads).
  std::map<std::pair<std::string, KeyId>, std::pair<long, const KvRead*>> seen_;
  std::size_t after_settle_ = 0;
};

KvConvergenceResult ConvergenceCheck::run() {
  index_writes();
  find_settle_time();
  std::vector<const KvRead*> reads;
  for (const KvRead& rd : input_.reads) reads.push_back(&rd);
  std::stable_sort(reads.begin(), reads.end(),
                   [](const KvRead* a, const KvRead* b) { return a->time < b->time; });
  for (const KvRead* rd : reads) check_read(*rd);
  conclude();
  return std::move(r_);
}

void ConvergenceCheck::index_writes() {
  std::vector<const KvWrite*> sorted_writes;
  for (const KvWrite& w : input_.writes) sorted_writes.push_back(&w);
  std::stable_sort(sorted_writes.begin(), sorted_writes.end(),
                   [](const KvWrite* a, const KvWrite* b) { return a->time < b->time; });
  for (const KvWrite* w : sorted_writes) {
    KeyWrites& kw = writes_[{w->ns, w->key}];
    kw.by_value[w->value].push_back(static_cast<long>(kw.order.size()));
    kw.order.push_back(w);
    last_write_ = std::max(last_write_, w->time);
    locations_[w->location].location = w->location;
  }
}

void ConvergenceCheck::find_settle_time() {
  if (input_.last_write.has_value()) last_write_ = *input_.last_write;
  if (last_write_ == INT64_MIN) last_write_ = 0;
  outages_ = input_.outages;
  if (outages_.empty() && input_.healed > 0) outages_.push_back({0, input_.healed});
  sim::Time healed = input_.healed;
  for (const auto& o : outages_) healed = std::max(healed, o.end);
  r_.settle_time = std::max(last_write_, healed) + input_.bound;
}

sim::Time ConvergenceCheck::deadline(sim::Time w) const {
  sim::Time d = w + input_.bound;
  for (const auto& o : outages_) {
    if (o.start <= w + input_.bound && o.end > w) d = std::max(d, o.end + input_.bound);
  }
  return d;
}

void ConvergenceCheck::check_read(const KvRead& rd) {
  ++r_.reads;
  KvLocationReport& loc = locations_[rd.location];
  loc.location = rd.location;
  ++loc.reads;
  KeyId key{rd.ns, rd.key};
  auto it = writes_.find(key);
  const KeyWrites* kw = it == writes_.end() ? nullptr : &it->second;
  Source src = source_of(kw, rd);
  if (!src.explained) {
    ++r_.phantom_reads;
    finding("at " + rd.location + ", a read of " + name(key) + " at " + sim::format_time(rd.time) +
            " returned " + show(rd.value) + ", which no write ever wrote");
    return;
  }
  check_staleness(rd, key, kw, src, &loc);
  check_convergence(rd, key, kw, &loc);
  if (input_.check_monotonic_reads) check_monotonic(rd, key, src);
}

void ConvergenceCheck::check_staleness(const KvRead& rd, const KeyId& key, const KeyWrites* kw,
                                       const Source& src, KvLocationReport* loc) {
  sim::Duration stale = 0;
  const KvWrite* newer = nullptr;
  if (kw != nullptr && src.newest + 1 < static_cast<long>(kw->order.size())) {
    newer = kw->order[src.newest + 1];
    if (newer->time <= rd.time) stale = rd.time - newer->time;
  }
  if (stale <= 0) return;
  SIM_ASSERT(newer != nullptr);  // staleness is measured from a newer write
  ++r_.stale_reads;
  ++loc->stale_reads;
  staleness_.push_back(stale);
  if (rd.time <= deadline(newer->time)) return;
  ++r_.staleness_violations;
  finding("at " + rd.location + ", a read of " + name(key) + " at " + sim::format_time(rd.time) +
          " returned " + show(rd.value) + ", " + sim::format_duration(stale) +
          " after the newer value " + show(newer->value) + " was written at " + newer->location +
          " (" + sim::format_time(newer->time) + "); it had to be visible by " +
          sim::format_time(deadline(newer->time)) + " (bound " +
          sim::format_duration(input_.bound) + ")");
}

void ConvergenceCheck::check_convergence(const KvRead& rd, const KeyId& key, const KeyWrites* kw,
                                         KvLocationReport* loc) {
  if (rd.time < r_.settle_time) return;
  ++after_settle_;
  ++loc->reads_after_settle;
  std::optional<std::string> final_value;
  if (kw != nullptr) final_value = kw->order.back()->value;
  if (rd.value == final_value) return;
  ++r_.convergence_violations;
  ++loc->non_final_after_settle;
  finding("at " + rd.location + ", a read of " + name(key) + " at " + sim::format_time(rd.time) +
          " (after the settle time " + sim::format_time(r_.settle_time) + ") returned " +
          show(rd.value) + "; the final value is " + show(final_value));
}

void ConvergenceCheck::check_monotonic(const KvRead& rd, const KeyId& key, const Source& src) {
  auto& [oldest_seen, by] = seen_.try_emplace({rd.location, key}, -1, nullptr).first->second;
  if (by != nullptr && src.newest < oldest_seen) {
    ++r_.monotonic_violations;
    finding("at " + rd.location + ", a read of " + name(key) + " at " + sim::format_time(rd.time) +
            " returned " + show(rd.value) + ", older than " + show(by->value) + " read there at " +
            sim::format_time(by->time));
  }
  if (by == nullptr || src.oldest >= oldest_seen) {
    oldest_seen = std::max(oldest_seen, src.oldest);
    by = &rd;
  }
}

void ConvergenceCheck::conclude() {
  r_.staleness = duration_stats(staleness_);
  std::size_t attributed = 0;
  for (auto& [name, loc] : locations_) {
    // Each read counts at exactly one location, and only once per kind.
    SIM_ASSERT(loc.reads_after_settle <= loc.reads);
    SIM_ASSERT(loc.non_final_after_settle <= loc.reads_after_settle);
    SIM_ASSERT(loc.stale_reads <= loc.reads);
    attributed += loc.reads;
    r_.locations.push_back(loc);
  }
  SIM_ASSERT(attributed == r_.reads);
  r_.findings = std::move(violations_);
  bool violated = r_.phantom_reads > 0 || r_.staleness_violations > 0 ||
                  r_.convergence_violations > 0 || r_.monotonic_violations > 0;
  r_.verdict = violated             ? Verdict::kViolated
               : after_settle_ == 0 ? Verdict::kUnknown
                                    : Verdict::kOk;
  if (r_.verdict == Verdict::kUnknown) {
    r_.findings.push_back("no read happened at or after the settle time " +
                          sim::format_time(r_.settle_time) + ": convergence was not observed");
  }
}

}  // namespace

KvConvergenceResult check_kv_convergence(const KvConvergenceInput& input) {
  return ConvergenceCheck(input).run();
}

std::string KvConvergenceResult::report() const {
  std::string out = std::string("kv convergence: ") + verdict_name(verdict) + " (settle time " +
                    sim::format_time(settle_time) + ")\n";
  out += "  reads " + std::to_string(reads) + ", stale " + std::to_string(stale_reads) +
         " (staleness " + staleness.to_string() + "), over the bound " +
         std::to_string(staleness_violations) + ", not converged " +
         std::to_string(convergence_violations) + ", phantom " + std::to_string(phantom_reads) +
         ", monotonic-read violations " + std::to_string(monotonic_violations) + "\n";
  for (const KvLocationReport& l : locations) {
    out += "  location " + l.location + ": " +
           (l.reads_after_settle == 0 ? std::string("not observed after settling")
            : l.converged()           ? std::string("converged")
                                      : std::string("NOT converged")) +
           " (" + std::to_string(l.reads) + " reads, " + std::to_string(l.stale_reads) +
           " stale)\n";
  }
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
