// DoClusterConfig's knobs (do_cluster.h).
#include "platform/services/do/do_cluster.h"

namespace services {

const sim::Knobs<DoClusterConfig>& DoClusterConfig::knobs() {
  using C = DoClusterConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .integer("storage_quorum", &C::storage_quorum, 0, 99,
                    "storage replicas that must accept a write (0: a majority)")
           .duration("lease_duration", &C::lease_duration,
                     "how long a host's lease on an object lasts", sim::kMillisecond)
           .duration("renew_every", &C::renew_every, "how often a host renews its leases",
                     sim::kMillisecond)
           .duration("placement_ttl", &C::placement_ttl,
                     "how long a placement handed out by the directory waits to be acquired")
           .duration("host_failed_ttl", &C::host_failed_ttl,
                     "how long the directory skips a host it could not reach")
           .duration("rpc_timeout", &C::rpc_timeout, "timeout of directory and storage calls",
                     sim::kMillisecond)
           .duration("request_timeout", &C::request_timeout,
                     "how long a caller waits for an object's answer", sim::kMillisecond)
           .integer("call_attempts_max", &C::call_attempts_max, 1, 100,
                    "attempts of a call (not-here, unreachable and retryable errors are retried)")
           .duration("call_backoff_base", &C::call_backoff_base,
                     "backoff between attempts: base * 2^(attempt - 1)")
           .duration("activation_wait_max", &C::activation_wait_max,
                     "how long a request waits for an activation in progress")
           .decimal("requests_per_second_max", &C::requests_per_second_max, 0, 1e9,
                    "requests per second one object takes before it is overloaded")
           .decimal("requests_burst_max", &C::requests_burst_max, 0, 1e9,
                    "burst of the per-object token bucket (0: one second of requests)")
           .duration("idle_timeout", &C::idle_timeout,
                     "an object with no event for this long is evicted (0: never)")
           .decimal("evict_fault_p", &C::evict_fault_p, 0, 1,
                    "chance per lease renewal that the do.evict_object code site evicts a "
                    "quiescent object (sites on)")
           .duration("alarm_backoff_base", &C::alarm_backoff_base,
                     "first retry delay of a failed alarm (doubles each retry)")
           .integer("alarm_retries_max", &C::alarm_retries_max, 0, 100, "retries of a failed alarm")
           .duration("alarm_report_every", &C::alarm_report_every,
                     "how often storage replicas report changed alarms to the directory",
                     sim::kMillisecond)
           .duration("alarm_scan_every", &C::alarm_scan_every,
                     "how often the directory looks for due alarms of inactive objects",
                     sim::kMillisecond)
           .duration("alarm_wake_retry", &C::alarm_wake_retry, "pause between wakes of one object")
           .flag("fencing", &C::fencing,
                 "storage and hosts refuse stale epochs (off: a mutant: split brain)")
           .flag("storage_sync", &C::storage_sync,
                 "replicas sync before acknowledging (off: a mutant: lost writes)")
           .duration("unsynced_flush_every", &C::unsynced_flush_every,
                     "storage_sync=off only: how often replicas flush", sim::kMillisecond);
  return *table;
}

sim::Status DoClusterConfig::set_knob(std::string_view name, std::string_view value) {
  if (name.substr(0, 3) == "do.") name.remove_prefix(3);
  return knobs().set(*this, name, value);
}

sim::Status DoClusterConfig::set_knob(std::string_view assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      "knob '" + std::string(assignment) + "' is not name=value"};
  }
  return set_knob(assignment.substr(0, eq), assignment.substr(eq + 1));
}

}  // namespace services
