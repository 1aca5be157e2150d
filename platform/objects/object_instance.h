// objects::ObjectInstance: one live instance of a Durable Object on its host node: the JS object
// (in an isolate of its own, made by a runtime::Worker running the namespace's script), its
// storage working copy (ObjectStorage), its gates (gates.h), and the pipeline that makes its
// writes durable.
//
// Durability pipeline. After every JS run of the instance, writes made in that run (or since
// the last storage.transaction() closed) become one batch: the working copy commits locally,
// the batch gets the next sequence number, and the full image goes to `commit` (the DO cluster:
// replicated to a quorum of storage nodes, fenced by the lease's epoch). Commits run one at a
// time on a task of the instance; when several images queue up, only the newest is sent (each
// image holds everything before it). When a commit succeeds, the output gate releases what
// waited for it. When it fails, the instance is broken: held messages are dropped (callers get
// errors), and the owner must discard the instance; the next activation recovers the last
// acknowledged image.
//
// Uniqueness: `lease_valid` is asked when an event starts and at every storage access; when it
// says no, the event fails with a retryable error and the storage call throws in JS.
//
// Single-threaded. Lives on its host node; the owner destroys it on deactivation or crash.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "platform/objects/gates.h"
#include "platform/objects/object_messages.h"
#include "platform/objects/object_storage.h"
#include "platform/objects/websockets.h"
#include "platform/runtime/worker.h"
#include "sim/result.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace objects {

// The services of an instance that its JS reaches with host.callSync(target, ...): the same
// numbers as objects/*.js use.
enum class InstanceTarget : std::uint32_t { kStorage = 1, kSockets = 2, kGates = 3 };

struct ObjectInstanceConfig {
  // The namespace's script. Its `services` are what the object's own bindings reach (other
  // objects, KV); storage is the instance's.
  runtime::WorkerConfig worker;
  std::string class_name;
  std::string id_hex;
  std::string name;         // idFromName's name, or ""
  bool output_gate = true;  // mutant do.output_gate=off: false
  // How long an event waits for blockConcurrencyWhile() before failing.
  sim::Duration input_gate_timeout = 30 * sim::kSecond;
};

class ObjectInstance final : private runtime::Services {
 public:
  // Makes the image durable: suspends until a quorum acknowledged it, or fails.
  using CommitFn = std::function<sim::Status(sim::Task&, std::string image,
                                             std::optional<double> alarm_unix_ms)>;

  ObjectInstance(sim::World& world, sim::Node& node, ObjectInstanceConfig config,
                 std::unique_ptr<ObjectStorage> storage, CommitFn commit,
                 std::function<bool()> lease_valid);
  ~ObjectInstance() override;
  ObjectInstance(const ObjectInstance&) = delete;
  ObjectInstance& operator=(const ObjectInstance&) = delete;

  // Serves a stub's request (do_wire.h) and returns the encoded reply. Errors: the instance is
  // broken or its lease lapsed (kUnreachable: retry elsewhere), the input gate stayed closed
  // (kOverloaded), the Worker's errors (kTimeout, kUnreachable). Throws TaskCancelled.
  sim::Result<std::string> handle(sim::Task& task, std::string_view request);
  // Runs alarm({retryCount, isRetry}). On success, the alarm that fired is deleted (unless the
  // handler set a new one) and that deletion is made durable before returning ok. Throws
  // TaskCancelled.
  sim::Status alarm(sim::Task& task, int retry_count);
  // Runs webSocketMessage(ws, message) or webSocketClose(ws, code, reason, wasClean). Errors as
  // for handle(); the handler's own exception is kRemote. Throws TaskCancelled.
  sim::Status socket_event(sim::Task& task, const SocketEvent& event);
  // Where the object's WebSocket calls (JS target "ws") go, with the gate their frames wait on.
  using SocketCall = std::function<js::CallReply(const js::CallRequest&, const SocketHub::Gate&)>;
  void set_sockets(SocketCall call) { sockets_ = std::move(call); }
  // Nothing in flight: no batch waiting or committing, no message held by the output gate, no
  // JS timer or unfinished invocation (waitUntil work) in its isolate.
  bool idle() const {
    return !committing_ && queue_.empty() && !storage_->dirty() && !storage_->in_transaction() &&
           output_gate_.held() == 0 && worker_->pending_timers() == 0 &&
           worker_->open_contexts() == 0;
  }
  // The full storage image, everything in it acknowledged, for the instance that follows a
  // hibernation. REQUIRES: idle().
  std::string hibernation_image();

  // Stops the instance (deactivated): like a failed commit, held messages are dropped and
  // later events fail.
  void shutdown(std::string reason) { breaks(std::move(reason)); }
  // A commit failed, the lease lapsed at a storage access, or the object reset itself: the owner
  // must drop this instance.
  bool broken() const { return !broken_reason_.empty(); }
  const std::string& broken_reason() const { return broken_reason_; }
  // The stored alarm, Unix ms.
  std::optional<double> alarm_time() const { return storage_->alarm(); }
  std::uint64_t commits() const { return durable_seq_; }
  runtime::Worker& worker() { return *worker_; }

 private:
  // Services (the instance's JS calls)
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;
  js::CallReply call_sync(const js::CallRequest& request) override;
  bool leaves(const js::CallRequest& request) const override;
  // The instance's own services (InstanceTarget), one function each.
  js::CallReply storage_call(const js::CallRequest& request);
  js::CallReply sockets_call(const js::CallRequest& request);
  js::CallReply gates_call(const js::CallRequest& request);

  // What every event checks before it starts: the instance is not broken, the input gate opens in
  // time, and the lease is still valid (else the instance breaks). `what` names it in errors.
  sim::Status start_event(sim::Task& task, std::string_view what);
  void after_run();
  void start_commit_task();
  void breaks(std::string reason);
  // The batch a message leaving now must wait for.
  std::uint64_t gate_seq() const;
  // Hands a message leaving the object (the Worker's, or a WebSocket frame) to the output gate.
  void send_gated(std::function<void(bool send)> message);
  // do.reset: the instance broke or reset itself.
  void emit_reset(const std::string& reason);

  struct Batch {
    std::uint64_t seq = 0;
    std::string image;
    std::optional<double> alarm;
  };

  sim::World& world_;
  sim::Node& node_;
  ObjectInstanceConfig config_;
  runtime::Services* outer_services_;
  std::unique_ptr<ObjectStorage> storage_;
  CommitFn commit_;
  std::function<bool()> lease_valid_;
  SocketCall sockets_;
  std::unique_ptr<runtime::Worker> worker_;
  InputGate input_gate_;
  OutputGate output_gate_;
  std::uint64_t assigned_seq_ = 0;  // last batch numbered
  std::uint64_t durable_seq_ = 0;   // last batch acknowledged
  std::deque<Batch> queue_;
  bool committing_ = false;
  sim::WaitQueue durable_waiters_;  // storage.sync()
  std::string broken_reason_;
  bool reset_requested_ = false;  // see after_run()
  std::string reset_reason_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace objects
