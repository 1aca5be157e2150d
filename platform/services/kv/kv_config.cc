// KvConfig's knobs (kv.h).
#include <algorithm>
#include <string>
#include <vector>

#include "platform/services/kv/kv.h"

namespace services {

namespace {

// "fixed 5s", "uniform 0s 60s", "exponential 0s 20s 60s".
sim::Status set_lag(KvConfig& c, std::string_view v) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at < v.size()) {
    const std::size_t end = std::min(v.find(' ', at), v.size());
    if (end > at) words.emplace_back(v.substr(at, end - at));
    at = end + 1;
  }
  std::vector<sim::Duration> d(words.size() > 1 ? words.size() - 1 : 0);
  bool ok = !words.empty();
  for (std::size_t i = 1; i < words.size() && ok; ++i)
    ok = sim::parse_duration(words[i], &d[i - 1]);
  if (ok && words[0] == "fixed" && d.size() == 1) {
    c.propagation_lag = KvLagDistribution::fixed(d[0]);
  } else if (ok && words[0] == "uniform" && d.size() == 2 && d[0] <= d[1]) {
    c.propagation_lag = KvLagDistribution::uniform(d[0], d[1]);
  } else if (ok && words[0] == "exponential" && d.size() == 3 && d[0] <= d[2]) {
    c.propagation_lag = {KvLagDistribution::Kind::kExponential, d[0], d[2], d[1]};
  } else {
    return sim::knobs_internal::bad_value(
        "propagation_lag", v, "fixed LAG, uniform MIN MAX, or exponential MIN MEAN MAX");
  }
  return sim::Status::Ok();
}

std::string lag_text(const KvLagDistribution& l) {
  switch (l.kind) {
    case KvLagDistribution::Kind::kFixed:
      return "fixed " + sim::format_duration(l.min);
    case KvLagDistribution::Kind::kUniform:
      return "uniform " + sim::format_duration(l.min) + " " + sim::format_duration(l.max);
    case KvLagDistribution::Kind::kExponential:
      return "exponential " + sim::format_duration(l.min) + " " + sim::format_duration(l.mean) +
             " " + sim::format_duration(l.max);
  }
  return "";
}

}  // namespace

const sim::Knobs<KvConfig>& KvConfig::knobs() {
  using C = KvConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .custom("propagation_lag", "distribution",
                   "how long a write takes to reach another PoP's stores (drawn per write and PoP)",
                   set_lag, [](const C& c) { return lag_text(c.propagation_lag); })
           .custom(
               "propagation_max", "duration", "propagation_lag as uniform from 0 to this",
               [](C& c, std::string_view v) -> sim::Status {
                 sim::Duration d = 0;
                 if (!sim::parse_duration(v, &d)) {
                   return sim::knobs_internal::bad_value("propagation_max", v, "a duration");
                 }
                 c.propagation_lag = KvLagDistribution::uniform(0, d);
                 return sim::Status::Ok();
               },
               [](const C& c) { return sim::format_duration(c.propagation_lag.max); })
           .decimal("lag_spike_probability", &C::lag_spike_probability, 0, 1,
                    "chance that the kv.lag_spike code site multiplies a lag (when sites are on)")
           .decimal("lag_spike_multiplier", &C::lag_spike_multiplier, 1, 1e6,
                    "what a lag spike multiplies the lag by")
           .duration("cache_ttl_default", &C::cache_ttl_default,
                     "how long a PoP serves a value it read (cacheTtl when get() gives none)")
           .custom(
               "cache_ttl_min", "duration",
               "the smallest cacheTtl get() accepts (60s; Miniflare: 30s); raises the default to "
               "it",
               [](C& c, std::string_view v) -> sim::Status {
                 sim::Duration d = 0;
                 if (!sim::parse_duration(v, &d)) {
                   return sim::knobs_internal::bad_value("cache_ttl_min", v, "a duration");
                 }
                 c.cache_ttl_min = d;
                 c.cache_ttl_default = std::max(c.cache_ttl_default, d);
                 return sim::Status::Ok();
               },
               [](const C& c) { return sim::format_duration(c.cache_ttl_min); })
           .duration("write_interval_per_key_min", &C::write_interval_per_key_min,
                     "writes to one key closer than this are refused (429)")
           .integer("key_bytes_max", &C::key_bytes_max, 1, 1 << 20, "longest key (414 beyond)")
           .integer("value_bytes_max", &C::value_bytes_max, 1, std::int64_t{1} << 34,
                    "largest value (413 beyond)")
           .integer("metadata_bytes_max", &C::metadata_bytes_max, 0, 1 << 20,
                    "largest metadata, serialized (413 beyond)")
           .duration("expiration_ttl_min", &C::expiration_ttl_min, "the smallest expirationTtl")
           .integer("list_limit_max", &C::list_limit_max, 1, 1 << 20, "largest list() limit")
           .duration("read_timeout", &C::read_timeout, "per central store a get tries",
                     sim::kMillisecond)
           .duration("write_timeout", &C::write_timeout,
                     "how long a put or delete waits for the primary (then: outcome unknown)",
                     sim::kMillisecond)
           .integer("cache_entries_max", &C::cache_entries_max, 1, 1 << 30, "cache entries per PoP")
           .integer("replication_batch_ops_max", &C::replication_batch_ops_max, 1, 1 << 20,
                    "writes per replication batch")
           .integer("replication_batch_bytes_max", &C::replication_batch_bytes_max, 1,
                    std::int64_t{1} << 34, "bytes per replication batch")
           .duration("replication_timeout", &C::replication_timeout,
                     "timeout of a replication batch", sim::kMillisecond)
           .duration("replication_retry", &C::replication_retry,
                     "pause before a failed replication batch is sent again", sim::kMillisecond)
           .flag("local_read_your_writes", &C::local_read_your_writes,
                 "a write is visible at once at the PoP that made it (off: a mutant)");
  return *table;
}

}  // namespace services
