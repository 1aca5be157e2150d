// Eventual consistency of a KV namespace: bounded staleness and convergence.
//
// Input: every write (namespace, key, value or deletion, completion time, location) and every
// read (location, namespace, key, value seen, time). Writes of one key are ordered by time
// (ties keep input order): that is the order a last-writer-wins store applies them, and "newer"
// below means later in it.
//
// Definitions. For a read at time t of key k that returned value v:
//   source   the latest write of v to k completed at or before t; if none, the first write of v
//            completed after t (the read saw a write in flight: fresh); if v is absent and no
//            deletion explains it, the key's initial absence. A present value no write explains
//            is a "phantom read" (violation).
//   staleness  0 if no write newer than the source completed at or before t; otherwise
//            t - (completion time of the first newer write): how long a newer value had existed
//            when the read still returned an older one.
//   deadline  when a write must be visible everywhere: w + bound, or, if a network outage
//            overlaps [w, w + bound], the outage's end + bound (propagation resumes at the heal).
//            Outages are `outages`; with none listed but `healed` set, one outage [0, healed).
// Checks:
//   bounded staleness  a read at time t is a violation if the first write newer than its
//            source completed at or before t and t > its deadline (without outages: a read at t
//            returning a value older than a write completed at w < t - bound; staleness may reach
//            the bound exactly);
//   convergence  every read at or after settle = max(last_write, healed, outage ends) + bound
//            returns the
//            key's final value (the newest write; absent if never written). Reported per location;
//   monotonic reads (optional)  at one location, a later read of a key never returns a value
//            that must be older than one an earlier read there returned (compared soundly: the
//            earlier read's oldest possible source against the later read's newest possible one).
// Verdict: kViolated on any violation; else kUnknown if no read happened at or after the settle
// time (convergence was never observed); else kOk.
//
// Pure function of the input; input order matters only to break time ties between writes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/time.h"

namespace props {

struct KvWrite {
  std::string ns;
  std::string key;
  std::optional<std::string> value;  // nullopt: a deletion
  sim::Time time = 0;                // when the write completed
  std::string location;              // where it was written (for reports)
};

struct KvRead {
  std::string ns;
  std::string key;
  std::optional<std::string> value;  // nullopt: the key was absent
  sim::Time time = 0;
  std::string location;
};

struct KvConvergenceInput {
  std::vector<KvWrite> writes;
  std::vector<KvRead> reads;
  // Staleness allowed: propagation bound plus cacheTtl (60 s + 60 s by default).
  sim::Duration bound = 2 * sim::kMinute;
  // The last write; default: the latest write time in `writes`.
  std::optional<sim::Time> last_write;
  // When the network healed for the last time (0 if it never partitioned).
  sim::Time healed = 0;
  // Network outages as [start, end) windows, if known (see "deadline" above).
  struct Outage {
    sim::Time start = 0;
    sim::Time end = 0;
  };
  std::vector<Outage> outages;
  bool check_monotonic_reads = false;
  // Findings listed in the result (counts are always complete).
  std::size_t examples_max = 10;
};

struct KvLocationReport {
  std::string location;
  std::size_t reads = 0;
  std::size_t reads_after_settle = 0;
  std::size_t stale_reads = 0;  // staleness > 0
  std::size_t non_final_after_settle = 0;
  bool converged() const { return reads_after_settle > 0 && non_final_after_settle == 0; }
};

struct KvConvergenceResult {
  Verdict verdict = Verdict::kOk;
  sim::Time settle_time = 0;
  std::size_t reads = 0;
  std::size_t stale_reads = 0;             // staleness > 0
  std::size_t staleness_violations = 0;    // read after the newer write's deadline
  std::size_t convergence_violations = 0;  // non-final reads at or after settle_time
  std::size_t monotonic_violations = 0;
  std::size_t phantom_reads = 0;
  DurationStats staleness;                  // over stale reads
  std::vector<KvLocationReport> locations;  // sorted by name; every location seen
  std::vector<std::string> findings;        // plain language, capped by examples_max

  std::string report() const;
};

KvConvergenceResult check_kv_convergence(const KvConvergenceInput& input);

}  // namespace props
