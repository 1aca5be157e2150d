#include "platform/objects/object_instance.h"

#include <utility>

#include "sim/assert.h"
#include "sim/events.h"
#include "sim/node.h"

namespace objects {

namespace {
sim::Error gone(std::string why) {
  return sim::Error{sim::ErrorKind::kUnreachable, "Durable Object reset: " + std::move(why)};
}
}  // namespace

ObjectInstance::ObjectInstance(sim::World& world, sim::Node& node, ObjectInstanceConfig config,
                               std::unique_ptr<ObjectStorage> storage, CommitFn commit,
                               std::function<bool()> lease_valid)
    : world_(world),
      node_(node),
      config_(std::move(config)),
      outer_services_(config_.worker.services),
      storage_(std::move(storage)),
      commit_(std::move(commit)),
      lease_valid_(std::move(lease_valid)),
      input_gate_(world),
      output_gate_(config_.output_gate) {
  runtime::WorkerConfig wc = config_.worker;
  wc.services = this;
  wc.name = config_.class_name + ":" + config_.id_hex.substr(0, 8);
  worker_ = std::make_unique<runtime::Worker>(world_, node_, std::move(wc));
  worker_->set_run_hook([this](std::string_view) { after_run(); });
  worker_->set_output_gate([this](runtime::Worker::GatedMessage m) { send_gated(std::move(m)); });
}

ObjectInstance::~ObjectInstance() {
  // Callers waiting on held messages get their errors now.
  output_gate_.fail();
  durable_waiters_.notify_all(world_);
  worker_.reset();
}

void ObjectInstance::emit_reset(const std::string& reason) {
  world_.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_reset();
    e.set_object(config_.class_name + "/" + config_.id_hex);
    e.set_reason(reason);
  });
}

std::uint64_t ObjectInstance::gate_seq() const {
  return storage_->dirty() ? assigned_seq_ + 1 : assigned_seq_;
}

void ObjectInstance::send_gated(std::function<void(bool send)> message) {
  const std::uint64_t seq = gate_seq();
  output_gate_.send_after(seq, [this, seq, message = std::move(message)](bool send) {
    // The output gate's promise, checked against the commits themselves: nothing leaves before
    // the batch holding the writes made before it was acknowledged.
    if (send && config_.output_gate) SIM_ASSERT(seq <= durable_seq_);
    message(send);
  });
}

std::string ObjectInstance::hibernation_image() {
  // A busy instance would lose its unacknowledged writes, held messages or JS work.
  SIM_REQUIRE(idle());
  return storage_->take_image();
}

void ObjectInstance::breaks(std::string reason) {
  if (broken()) return;
  broken_reason_ = std::move(reason);
  emit_reset(broken_reason_);
  queue_.clear();
  output_gate_.fail();
  // What waited for a batch that will never be acknowledged is dropped, not sent later.
  SIM_ASSERT(output_gate_.held() == 0);
  input_gate_.reset();
  durable_waiters_.notify_all(world_);
}

void ObjectInstance::after_run() {
  if (broken()) {
    storage_->discard_batch();
    return;
  }
  if (reset_requested_) {
    // blockConcurrencyWhile() threw or ctx.abort(): memory state goes, storage stays as durable.
    reset_requested_ = false;
    storage_->discard_batch();
    input_gate_.reset();
    worker_->evict();
    emit_reset(reset_reason_ + " (the constructor runs again)");
    return;
  }
  if (!worker_->warm()) {
    // The run hit a limit and its isolate is gone: so are its uncommitted writes.
    storage_->discard_batch();
    input_gate_.reset();
    return;
  }
  if (!storage_->dirty() || storage_->in_transaction()) return;
  Batch batch;
  batch.seq = ++assigned_seq_;
  batch.alarm = storage_->alarm();
  batch.image = storage_->take_image();
  queue_.push_back(std::move(batch));
  if (!committing_) start_commit_task();
}

void ObjectInstance::start_commit_task() {
  // One commit task at a time: two could be acknowledged out of order.
  SIM_REQUIRE(!committing_);
  SIM_REQUIRE(!broken());
  committing_ = true;
  std::weak_ptr<int> alive = alive_;
  world_.spawn(node_, "do.commit", [this, alive](sim::Task& task) {
    if (alive.expired()) return;
    while (!queue_.empty() && !broken()) {
      // Each image holds everything before it: send only the newest.
      Batch batch = std::move(queue_.back());
      queue_.clear();
      sim::Status status = commit_(task, std::move(batch.image), batch.alarm);
      if (alive.expired()) return;
      if (!status.ok()) {
        breaks("storage write failed: " + status.error().message);
        break;
      }
      // Batches become durable in the order they were numbered, and only numbered ones.
      SIM_ASSERT(batch.seq > durable_seq_);
      SIM_ASSERT(batch.seq <= assigned_seq_);
      durable_seq_ = batch.seq;
      output_gate_.durable(batch.seq);
      SIM_ASSERT(output_gate_.durable_seq() == durable_seq_);
      durable_waiters_.notify_all(world_);
    }
    committing_ = false;
  });
}

sim::Result<std::string> ObjectInstance::handle(sim::Task& task, std::string_view bytes) {
  sim::Result<DoRequest> decoded = decode_do_request(bytes);
  if (!decoded.ok()) return decoded.error();
  DoRequest request = std::move(decoded.value());
  if (sim::Status s = start_event(task, "event"); !s.ok()) return s.error();
  runtime::ActorEvent event;
  event.class_name = config_.class_name;
  event.id_hex = config_.id_hex;
  event.name = config_.name;
  DoReply reply;
  if (request.kind == DoRequest::Kind::kFetch) {
    event.kind = runtime::ActorEvent::Kind::kFetch;
    event.request = std::move(request.request);
    sim::Result<runtime::HttpResponse> r = worker_->actor_fetch(task, std::move(event));
    if (!r.ok()) return r.error();
    reply.response = std::move(r.value());
  } else {
    event.kind = runtime::ActorEvent::Kind::kRpc;
    event.method = std::move(request.method);
    event.args = std::move(request.args);
    sim::Result<js::CallReply> r = worker_->actor_rpc(task, std::move(event));
    if (!r.ok()) return r.error();
    reply.rpc = std::move(r.value());
  }
  return encode_do_reply(request.kind, reply);
}

sim::Status ObjectInstance::start_event(sim::Task& task, std::string_view what) {
  if (broken()) return gone(broken_reason_);
  if (!input_gate_.wait_open(task, task.now() + config_.input_gate_timeout)) {
    return sim::Error{sim::ErrorKind::kOverloaded,
                      "Durable Object's input gate stayed closed (blockConcurrencyWhile)"};
  }
  if (broken()) return gone(broken_reason_);
  // Uniqueness is enforced when an event starts.
  if (!lease_valid_()) {
    breaks("its lease lapsed before the " + std::string(what) + " started");
    return gone(broken_reason_);
  }
  // No suspension since wait_open(): the event starts with the gate open.
  SIM_ASSERT(input_gate_.open());
  return sim::Status::Ok();
}

sim::Status ObjectInstance::alarm(sim::Task& task, int retry_count) {
  if (sim::Status s = start_event(task, "alarm"); !s.ok()) return s;
  const std::optional<double> fired = storage_->alarm();
  runtime::ActorEvent event;
  event.kind = runtime::ActorEvent::Kind::kAlarm;
  event.class_name = config_.class_name;
  event.id_hex = config_.id_hex;
  event.name = config_.name;
  event.retry_count = retry_count;
  sim::Result<runtime::ScheduledResult> r = worker_->actor_alarm(task, std::move(event));
  if (!r.ok()) return r.error();
  if (!r.value().ok)
    return sim::Error{sim::ErrorKind::kRemote, "alarm() threw: " + r.value().error};
  if (broken()) return gone(broken_reason_);
  // Done: the alarm that fired is deleted, durably, unless the handler set another one.
  if (fired.has_value() && storage_->alarm() == fired && !storage_->in_transaction()) {
    js::CallRequest del;
    del.target = static_cast<std::uint32_t>(InstanceTarget::kStorage);
    del.method = "deleteAlarm";
    (void)storage_->call(del);
    after_run();
  }
  const std::uint64_t want = assigned_seq_;
  while (durable_seq_ < want && !broken()) durable_waiters_.wait(task);
  if (broken()) return gone(broken_reason_);
  return sim::Status::Ok();
}

sim::Status ObjectInstance::socket_event(sim::Task& task, const SocketEvent& socket) {
  if (sim::Status s = start_event(task, "event"); !s.ok()) return s;
  runtime::ActorEvent event;
  event.kind = socket.kind == SocketEvent::Kind::kMessage
                   ? runtime::ActorEvent::Kind::kSocketMessage
                   : runtime::ActorEvent::Kind::kSocketClose;
  event.class_name = config_.class_name;
  event.id_hex = config_.id_hex;
  event.name = config_.name;
  event.socket = socket.socket;
  event.socket_text = socket.text;
  event.args = socket.data;
  event.close_code = socket.code;
  event.close_reason = socket.reason;
  event.close_clean = socket.clean;
  sim::Result<runtime::ScheduledResult> r = worker_->actor_socket(task, std::move(event));
  if (!r.ok()) return r.error();
  if (!r.value().ok) {
    return sim::Error{sim::ErrorKind::kRemote,
                      std::string(socket.kind == SocketEvent::Kind::kMessage ? "webSocketMessage"
                                                                             : "webSocketClose") +
                          "() threw: " + r.value().error};
  }
  if (broken()) return gone(broken_reason_);
  return sim::Status::Ok();
}

js::CallReply ObjectInstance::call(sim::Task& task, const js::CallRequest& request) {
  if (request.target == static_cast<std::uint32_t>(InstanceTarget::kStorage) &&
      request.method == "sync") {
    const std::uint64_t want = assigned_seq_;
    while (durable_seq_ < want && !broken()) durable_waiters_.wait(task);
    if (broken()) return js::CallReply::failure("Error", "Durable Object reset: " + broken_reason_);
    return js::CallReply{};
  }
  if (outer_services_ == nullptr) {
    return js::CallReply::failure("Error", "no services for binding calls");
  }
  return outer_services_->call(task, request);
}

bool ObjectInstance::leaves(const js::CallRequest& request) const {
  // storage.sync() waits for durability; it sends nothing.
  return request.target != static_cast<std::uint32_t>(InstanceTarget::kStorage);
}

js::CallReply ObjectInstance::call_sync(const js::CallRequest& request) {
  switch (static_cast<InstanceTarget>(request.target)) {
    case InstanceTarget::kStorage:
      return storage_call(request);
    case InstanceTarget::kSockets:
      return sockets_call(request);
    case InstanceTarget::kGates:
      return gates_call(request);
  }
  if (outer_services_ == nullptr) {
    return js::CallReply::failure("Error", "no services for binding calls");
  }
  return outer_services_->call_sync(request);
}

js::CallReply ObjectInstance::storage_call(const js::CallRequest& request) {
  if (broken()) return js::CallReply::failure("Error", "Durable Object reset: " + broken_reason_);
  // Uniqueness is enforced when storage is touched: a lapsed lease means another instance may be
  // live elsewhere.
  if (!lease_valid_()) {
    breaks("its lease lapsed; storage access refused");
    return js::CallReply::failure(
        "Error",
        "Durable Object storage operation refused: this instance lost its lease (another "
        "instance may be running); the object was reset");
  }
  return storage_->call(request);
}

js::CallReply ObjectInstance::sockets_call(const js::CallRequest& request) {
  if (broken()) return js::CallReply::failure("Error", "Durable Object reset: " + broken_reason_);
  if (!lease_valid_()) {
    breaks("its lease lapsed; WebSocket call refused");
    return js::CallReply::failure("Error",
                                  "Durable Object WebSocket call refused: this instance lost its "
                                  "lease; the object was reset");
  }
  if (!sockets_) return js::CallReply::failure("Error", "WebSockets are not available here");
  return sockets_(request,
                  [this](std::function<void(bool)> frame) { send_gated(std::move(frame)); });
}

js::CallReply ObjectInstance::gates_call(const js::CallRequest& request) {
  if (request.method == "block") {
    input_gate_.close();
  } else if (request.method == "unblock") {
    if (!input_gate_.open()) input_gate_.reopen();
  } else if (request.method == "reset") {
    reset_requested_ = true;
    reset_reason_ = "blockConcurrencyWhile() callback threw";
  }
  return js::CallReply{};
}

}  // namespace objects
