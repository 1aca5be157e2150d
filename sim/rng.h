// Deterministic randomness. Rng is xoshiro256** seeded through splitmix64. Components never share
// a stream: each forks its own by a stable name (`rng.fork("net")`), and a fork depends only on
// the parent's seed and the name, not on how many numbers the parent has drawn. Adding a component
// therefore never shifts the draws of the others.
#pragma once

#include <cstdint>
#include <string_view>

namespace sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t seed() const { return seed_; }
  // A new independent stream named `name`, a pure function of (seed(), name).
  Rng fork(std::string_view name) const;

  std::uint64_t next_u64();
  // Uniform in [0, n). REQUIRES: n > 0. Unbiased (Lemire's method).
  std::uint64_t below(std::uint64_t n);
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1) with 53 bits.
  double uniform01();
  double uniform(double lo, double hi);
  bool bernoulli(double p);
  // Exponential with the given mean. REQUIRES: mean >= 0.
  double exponential(double mean);
  // Pareto with minimum `scale` and tail index `shape`. REQUIRES: scale > 0, shape > 0.
  double pareto(double scale, double shape);
  // Normal(mean, stddev) by Box-Muller; deterministic for a given build.
  double normal(double mean, double stddev);

 private:
  std::uint64_t seed_;
  std::uint64_t s_[4];
};

// Stable 64-bit hash of a name, used to derive fork seeds (FNV-1a then a splitmix64 finish).
std::uint64_t stable_hash(std::string_view text);
std::uint64_t mix64(std::uint64_t x);

}  // namespace sim
