// What every checker in props/ answers, and small helpers they share.
//
// A verdict is three-valued on purpose: a checker that ran out of its work bound, or that lacked
// the data to decide, says kUnknown. It never turns "could not tell" into a pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/time.h"

namespace props {

enum class Verdict {
  kOk,        // the property holds on this history
  kViolated,  // the property fails; the result carries evidence
  kUnknown,   // the checker could not decide (work bound hit, or data missing)
};

// "ok", "violated", "unknown".
const char* verdict_name(Verdict v);

// Combines verdicts: violated wins over unknown, unknown over ok.
Verdict worst(Verdict a, Verdict b);

// Percentiles of a set of durations, nearest-rank. All zero when `count` is 0.
struct DurationStats {
  std::size_t count = 0;
  sim::Duration p50 = 0;
  sim::Duration p99 = 0;
  sim::Duration max = 0;

  // "n=12 p50=3.000ms p99=9.000ms max=9.500ms", or "n=0".
  std::string to_string() const;
};

// Sorts `samples` in place and summarizes them.
DurationStats duration_stats(std::vector<sim::Duration>& samples);

}  // namespace props
