#include "props/verdict.h"

#include <algorithm>

#include "sim/assert.h"

namespace props {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolated:
      return "violated";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

Verdict worst(Verdict a, Verdict b) {
  if (a == Verdict::kViolated || b == Verdict::kViolated) return Verdict::kViolated;
  if (a == Verdict::kUnknown || b == Verdict::kUnknown) return Verdict::kUnknown;
  return Verdict::kOk;
}

std::string DurationStats::to_string() const {
  if (count == 0) return "n=0";
  return "n=" + std::to_string(count) + " p50=" + sim::format_duration(p50) +
         " p99=" + sim::format_duration(p99) + " max=" + sim::format_duration(max);
}

namespace {

// Nearest rank: the smallest sample with at least `pct` percent of samples at or below it.
sim::Duration rank(const std::vector<sim::Duration>& sorted, unsigned pct) {
  std::size_t n = sorted.size();
  std::size_t r = (n * pct + 99) / 100;  // ceil(n * pct / 100), at least 1 for n >= 1
  if (r == 0) r = 1;
  return sorted[r - 1];
}

}  // namespace

DurationStats duration_stats(std::vector<sim::Duration>& samples) {
  DurationStats s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.p50 = rank(samples, 50);
  s.p99 = rank(samples, 99);
  s.max = samples.back();
  SIM_ASSERT(s.p50 <= s.p99);
  SIM_ASSERT(s.p99 <= s.max);
  return s;
}

}  // namespace props
