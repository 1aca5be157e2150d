#include "props/kv_convergence.h"

#include <algorithm>
#include <map>
#include <utility>

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
  return s;
}

}  // namespace

KvConvergenceResult check_kv_convergence(const KvConvergenceInput& input) {
  KvConvergenceResult r;
  std::map<KeyId, KeyWrites> writes;
  sim::Time last_write = INT64_MIN;
  std::vector<const KvWrite*> sorted_writes;
  for (const KvWrite& w : input.writes) sorted_writes.push_back(&w);
  std::stable_sort(sorted_writes.begin(), sorted_writes.end(),
                   [](const KvWrite* a, const KvWrite* b) { return a->time < b->time; });
  std::map<std::string, KvLocationReport> locations;
  for (const KvWrite* w : sorted_writes) {
    KeyWrites& kw = writes[{w->ns, w->key}];
    kw.by_value[w->value].push_back(static_cast<long>(kw.order.size()));
    kw.order.push_back(w);
    last_write = std::max(last_write, w->time);
    locations[w->location].location = w->location;
  }
  if (input.last_write.has_value()) last_write = *input.last_write;
  if (last_write == INT64_MIN) last_write = 0;
  std::vector<KvConvergenceInput::Outage> outages = input.outages;
  if (outages.empty() && input.healed > 0) outages.push_back({0, input.healed});
  sim::Time healed = input.healed;
  for (const auto& o : outages) healed = std::max(healed, o.end);
  r.settle_time = std::max(last_write, healed) + input.bound;
  // When a write must be visible everywhere (monotone in the write's time).
  auto deadline = [&](sim::Time w) {
    sim::Time d = w + input.bound;
    for (const auto& o : outages) {
      if (o.start <= w + input.bound && o.end > w) d = std::max(d, o.end + input.bound);
    }
    return d;
  };

  std::vector<const KvRead*> reads;
  for (const KvRead& rd : input.reads) reads.push_back(&rd);
  std::stable_sort(reads.begin(), reads.end(),
                   [](const KvRead* a, const KvRead* b) { return a->time < b->time; });

  std::vector<std::string> violations;
  auto finding = [&](std::string text) {
    if (violations.size() < input.examples_max) violations.push_back(std::move(text));
  };
  std::vector<sim::Duration> staleness;
  // (location, key) -> the oldest possible source of the newest read so far (monotonic reads).
  std::map<std::pair<std::string, KeyId>, std::pair<long, const KvRead*>> seen;
  std::size_t after_settle = 0;

  for (const KvRead* rd : reads) {
    ++r.reads;
    KvLocationReport& loc = locations[rd->location];
    loc.location = rd->location;
    ++loc.reads;
    KeyId key{rd->ns, rd->key};
    auto it = writes.find(key);
    const KeyWrites* kw = it == writes.end() ? nullptr : &it->second;
    Source src = source_of(kw, *rd);
    if (!src.explained) {
      ++r.phantom_reads;
      finding("at " + rd->location + ", a read of " + name(key) + " at " +
              sim::format_time(rd->time) + " returned " + show(rd->value) +
              ", which no write ever wrote");
      continue;
    }
    // Staleness.
    sim::Duration stale = 0;
    const KvWrite* newer = nullptr;
    if (kw != nullptr && src.newest + 1 < static_cast<long>(kw->order.size())) {
      newer = kw->order[src.newest + 1];
      if (newer->time <= rd->time) stale = rd->time - newer->time;
    }
    if (stale > 0) {
      ++r.stale_reads;
      ++loc.stale_reads;
      staleness.push_back(stale);
    }
    if (stale > 0 && rd->time > deadline(newer->time)) {
      ++r.staleness_violations;
      finding("at " + rd->location + ", a read of " + name(key) + " at " +
              sim::format_time(rd->time) + " returned " + show(rd->value) + ", " +
              sim::format_duration(stale) + " after the newer value " + show(newer->value) +
              " was written at " + newer->location + " (" + sim::format_time(newer->time) +
              "); it had to be visible by " + sim::format_time(deadline(newer->time)) + " (bound " +
              sim::format_duration(input.bound) + ")");
    }
    // Convergence.
    if (rd->time >= r.settle_time) {
      ++after_settle;
      ++loc.reads_after_settle;
      std::optional<std::string> final_value;
      if (kw != nullptr) final_value = kw->order.back()->value;
      if (rd->value != final_value) {
        ++r.convergence_violations;
        ++loc.non_final_after_settle;
        finding("at " + rd->location + ", a read of " + name(key) + " at " +
                sim::format_time(rd->time) + " (after the settle time " +
                sim::format_time(r.settle_time) + ") returned " + show(rd->value) +
                "; the final value is " + show(final_value));
      }
    }
    // Monotonic reads.
    if (input.check_monotonic_reads) {
      auto& [oldest_seen, by] = seen.try_emplace({rd->location, key}, -1, nullptr).first->second;
      if (by != nullptr && src.newest < oldest_seen) {
        ++r.monotonic_violations;
        finding("at " + rd->location + ", a read of " + name(key) + " at " +
                sim::format_time(rd->time) + " returned " + show(rd->value) + ", older than " +
                show(by->value) + " read there at " + sim::format_time(by->time));
      }
      if (by == nullptr || src.oldest >= oldest_seen) {
        oldest_seen = std::max(oldest_seen, src.oldest);
        by = rd;
      }
    }
  }
  r.staleness = duration_stats(staleness);
  for (auto& [name, loc] : locations) r.locations.push_back(loc);
  r.findings = std::move(violations);
  bool violated = r.phantom_reads > 0 || r.staleness_violations > 0 ||
                  r.convergence_violations > 0 || r.monotonic_violations > 0;
  r.verdict = violated ? Verdict::kViolated : after_settle == 0 ? Verdict::kUnknown : Verdict::kOk;
  if (r.verdict == Verdict::kUnknown) {
    r.findings.push_back("no read happened at or after the settle time " +
                         sim::format_time(r.settle_time) + ": convergence was not observed");
  }
  return r;
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
