// The wrangler configuration of a Worker (wrangler.jsonc or wrangler.json), as Cloudflare's
// wrangler reads it: name, main module, compatibility date and flags, vars and the bindings that
// make up `env`. Only the keys edgesim simulates are accepted; a key it does not know is an error
// (a typo must not silently drop a binding). Deploy-only keys with no meaning in a simulation
// ("$schema", "account_id", "workers_dev", "observability", "upload_source_maps",
// "preview_urls") are accepted and listed in `ignored_keys`.
//
// Errors name the file, the line and column of the key, and its key path:
//   wrangler.jsonc:7:9: durable_objects.bindings[0]: unknown key "clas_name" (did you mean
//   "class_name"?)
// JSONC means JSON plus // and /* */ comments. Trailing commas are refused with a clear message
// (nlohmann::json 3.11, which parses the file, does not support them).
//
// Pure functions of their input; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/result.h"
#include "sim/time.h"

namespace scenarios::spec {

// One entry of `vars`: a string var (JS sees a string), or any other JSON value (JS sees it
// parsed; `value` holds it serialized).
struct WranglerVar {
  bool json = false;
  std::string value;
  bool operator==(const WranglerVar&) const = default;
};

struct KvNamespace {
  std::string binding;
  std::string id;
  bool operator==(const KvNamespace&) const = default;
};

struct DurableObjectBinding {
  std::string name;         // the env binding
  std::string class_name;   // the exported class
  std::string script_name;  // the Worker that exports it; empty: this one
  std::string where;        // "wrangler.jsonc:12:7" (the binding), for errors across Workers
  bool operator==(const DurableObjectBinding&) const = default;
};

struct Migration {
  std::string tag;
  std::vector<std::string> new_classes;
  std::vector<std::string> new_sqlite_classes;
  std::vector<std::pair<std::string, std::string>> renamed_classes;  // from, to
  std::vector<std::string> deleted_classes;
  bool operator==(const Migration&) const = default;
};

// Absent optionals take the platform's defaults (knobs: Cloudflare's or Miniflare's).
struct QueueProducer {
  std::string binding;
  std::string queue;
  std::optional<sim::Duration> delivery_delay;
  std::string where;  // the producer's position, for errors across Workers
  bool operator==(const QueueProducer&) const = default;
};

struct QueueConsumer {
  std::string queue;
  std::optional<int> max_batch_size;               // 1..100
  std::optional<sim::Duration> max_batch_timeout;  // 0..60 s
  std::optional<int> max_retries;                  // 0..100
  std::string dead_letter_queue;                   // empty: none
  std::optional<sim::Duration> retry_delay;        // 0..24 h
  std::optional<int> max_concurrency;              // 1..250
  std::string where;
  bool operator==(const QueueConsumer&) const = default;
};

struct D1Database {
  std::string binding;
  std::string database_name;
  std::string database_id;
  std::string migrations_dir;  // relative to the configuration's directory, as written
  bool operator==(const D1Database&) const = default;
};

struct R2Bucket {
  std::string binding;
  std::string bucket_name;
  bool operator==(const R2Bucket&) const = default;
};

struct WorkflowBinding {
  std::string binding;
  std::string name;  // the workflow's name
  std::string class_name;
  std::string script_name;  // empty: this Worker
  std::string where;        // the binding's position, for errors across Workers
  bool operator==(const WorkflowBinding&) const = default;
};

struct WranglerConfig {
  std::string file;  // as given to parse_wrangler()
  std::string name;
  std::string main;        // as written (relative to the configuration's directory); may be empty
  std::string main_where;  // position of "main", or the file when absent
  std::string compatibility_date;  // "YYYY-MM-DD" or empty
  std::vector<std::string> compatibility_flags;
  std::map<std::string, WranglerVar> vars;
  std::vector<KvNamespace> kv_namespaces;
  std::vector<DurableObjectBinding> durable_objects;
  std::vector<Migration> migrations;
  std::vector<QueueProducer> queue_producers;
  std::vector<QueueConsumer> queue_consumers;
  std::vector<D1Database> d1_databases;
  std::vector<R2Bucket> r2_buckets;
  std::vector<WorkflowBinding> workflows;
  std::vector<std::string> crons;  // five-field cron expressions, UTC
  std::optional<std::int64_t> cpu_ms;
  std::vector<std::string> ignored_keys;  // deploy-only keys that were present
  // Where the keys present are ("wrangler.jsonc:12:3"), by key path: every top-level key, and
  // "triggers.crons", "limits.cpu_ms", "compatibility_flags[i]". For errors a later stage finds
  // (a binding the platform does not simulate).
  std::map<std::string, std::string> where;

  // Derived: the Durable Object classes alive after all migrations, class -> SQLite-backed.
  std::map<std::string, bool> durable_object_classes;

  // Every name of `env`, sorted (vars and bindings).
  std::vector<std::string> env_names() const;

  bool operator==(const WranglerConfig&) const = default;
};

// Parses and validates one configuration. `file` is how messages name it. Errors (one per line,
// at most kErrorsMax) read "file:line:column: key.path: message".
inline constexpr int kWranglerErrorsMax = 20;
inline constexpr std::size_t kWranglerBytesMax = 1 << 20;
sim::Result<WranglerConfig> parse_wrangler(std::string_view text, std::string_view file);

// Checks one five-field cron expression ("*/5 * * * *", "0 0 L * *", "0 12 * * MON#2") with the
// platform's parser (platform/services/cron/cron_expr.h). Returns
// an empty string when valid, else what is wrong.
std::string check_cron(std::string_view expression);

}  // namespace scenarios::spec
