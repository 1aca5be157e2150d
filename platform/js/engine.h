// Engine: V8 itself, initialized once per process (V8 cannot be initialized twice), shared by all
// Worlds and isolates of the process. Holds the SimPlatform, the startup snapshot with the JS
// prelude, and the CPU watchdog.
//
// Call Engine::init() once before creating any js::Isolate (tests do it in main or a fixture;
// repeated calls are no-ops). Never torn down: V8 cannot be re-initialized after disposal.
//
// The embedder's own JS (the runtime's handler dispatcher, the JS halves of objects and
// bindings) comes as extensions: scripts run after the prelude, in the snapshot, each a
// function of the prelude's `internal` object (platform/js/prelude/00_begin.js). A process has one
// set: platform::init_engine() (platform/engine_setup.h) gives the platform's.
//
// Fixed for the process, so every run sees the same: V8 flags (--predictable, --single-threaded,
// constant --random-seed and --hash-seed), the time zone (UTC) and the locale (en-US) of JS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace v8 {
class Isolate;
}

namespace js {

class SimPlatform;
class Watchdog;

// A script the engine runs after the prelude: `source` is an expression whose value is a function
// of one argument, internal: "(function (internal) { ... })". `name` names it in errors.
struct Extension {
  std::string name;
  std::string source;
  bool operator==(const Extension&) const = default;
};

struct EngineOptions {
  // The embedder's scripts, run in this order after the prelude (see the header comment).
  std::vector<Extension> extensions;
  // Build a startup snapshot holding the prelude at init, and start isolates from it.
  bool snapshot = true;
  // Extra V8 flags (tests and benchmarks only), appended after the fixed ones.
  std::string extra_flags;
  // Keep freed V8 heap pages mapped and reuse them (see CachingPageAllocator in sim_platform.h).
  bool page_cache = true;
  // Keep the process-wide read-only heap alive between isolates (see keep_read_only_heap()).
  bool keep_read_only_heap = true;
};

// The page cache's counters (see CachingPageAllocator).
struct PageCacheStats {
  std::uint64_t allocations = 0;
  std::uint64_t reused = 0;
  std::uint64_t frees = 0;
  std::uint64_t cached = 0;
  std::size_t cached_bytes = 0;
  std::size_t zeroed_bytes = 0;
};

class Engine {
 public:
  // Idempotent; the first call's options win, but a later call that asks for other (non-empty)
  // extensions is a bug (SIM_REQUIRE): a process has one set.
  static void init(const EngineOptions& options = {});
  static bool initialized();
  // REQUIRES: initialized().
  static Engine& get();

  SimPlatform& platform() { return *platform_; }
  Watchdog& watchdog() { return *watchdog_; }
  // The startup snapshot (nullptr when disabled or when creating it failed).
  const void* snapshot_blob() const;
  const std::string& snapshot_error() const { return snapshot_error_; }
  const std::vector<Extension>& extensions() const { return extensions_; }

  // Cold-start knobs, switchable at run time so that benchmarks can compare. Neither changes
  // what JS can observe.
  //
  // The read-only heap (V8's immutable roots) is shared by all isolates of the process, but V8
  // drops it when the last isolate dies and deserializes it again for the next one. An anchor
  // isolate, created from the same snapshot and never run, keeps it alive.
  void keep_read_only_heap(bool on);
  bool keeps_read_only_heap() const { return anchor_ != nullptr; }
  void set_page_cache(bool on);
  bool page_cache() const;
  PageCacheStats page_cache_stats() const;

  static constexpr int kRandomSeed = 20260101;
  static constexpr std::uint64_t kHashSeed = 0x5eed5eedULL;

 private:
  Engine() = default;
  void start(const EngineOptions& options);
  void build_snapshot();

  SimPlatform* platform_ = nullptr;  // leaked on purpose: V8 may use it until exit
  Watchdog* watchdog_ = nullptr;
  struct Blob;
  Blob* blob_ = nullptr;
  v8::Isolate* anchor_ = nullptr;  // see keep_read_only_heap()
  void* anchor_allocator_ = nullptr;
  std::string snapshot_error_;
  std::vector<Extension> extensions_;
};

}  // namespace js
