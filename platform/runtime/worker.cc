#include "platform/runtime/worker.h"

#include <utility>

#include "sim/node.h"

namespace runtime {

namespace {
HttpResponse platform_error(int status, std::string error) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "text/plain;charset=UTF-8");
  r.body = error;
  r.error = std::move(error);
  return r;
}
}  // namespace

Worker::Worker(sim::World& world, sim::Node& node, WorkerConfig config)
    : world_(world), node_(node), config_(std::move(config)) {
  config_.isolate.name = config_.name;
  crash_hook_ = node_.add_crash_hook(
      [this](sim::Node&) { drop_isolate(platform_error(503, "worker's node crashed")); });
}

Worker::~Worker() {
  node_.remove_crash_hook(crash_hook_);
  for (auto& [id, event] : timers_) world_.scheduler().cancel(event);
  timers_.clear();
  isolate_.reset();
}

void Worker::emit(std::string_view kind, std::string details) {
  if (!world_.tracing()) return;
  world_.emit(node_.id(), kind, "worker=" + config_.name + " " + details);
}

bool Worker::spawn_js(std::string name, std::function<void()> body) {
  std::weak_ptr<int> alive = alive_;
  const sim::TaskRef ref = world_.spawn(
      node_, std::move(name),
      [alive, body = std::move(body)](sim::Task&) {
        if (alive.expired()) return;
        body();
      },
      js::kJsStackBytes);
  return ref.valid();
}

js::Isolate* Worker::ensure_isolate(std::string* error) {
  if (isolate_ != nullptr && !isolate_->dead()) return isolate_.get();
  isolate_.reset();
  ++generation_;
  const std::string stream =
      "js/" + node_.name() + "/" + config_.name + "/" + std::to_string(generation_);
  isolate_ = js::Isolate::create(world_, config_.isolate, world_.rng(stream), this);
  emit("js.cold_start", "isolate=" + std::to_string(generation_) +
                            " snapshot=" + (isolate_->from_snapshot() ? "yes" : "no"));
  js::RunOutcome outcome = js::RunOutcome::kOk;
  sim::Status status = isolate_->load(config_.modules, config_.main, &outcome);
  if (outcome != js::RunOutcome::kOk) {
    *error = std::string("worker ") + js::run_outcome_name(outcome) + " while loading";
    emit("js.limit", *error);
    isolate_.reset();
    return nullptr;
  }
  if (!status.ok()) {
    *error = "worker failed to load: " + status.error().message;
    emit("js.load_error", status.error().message);
    isolate_.reset();
    return nullptr;
  }
  return isolate_.get();
}

sim::Result<HttpResponse> Worker::fetch(sim::Task& task, HttpRequest request) {
  if (!node_.up())
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  const std::uint64_t id = next_invocation_++;
  auto slot = std::make_shared<sim::Slot<HttpResponse>>();
  pending_.emplace(id, Pending{slot});
  const bool spawned = spawn_js("js.fetch", [this, id, request = std::move(request)] {
    std::string error;
    js::Isolate* isolate = ensure_isolate(&error);
    if (isolate == nullptr) {
      settle(id, platform_error(503, error));
      return;
    }
    after_run(isolate->fetch(id, request));
  });
  if (!spawned) {
    pending_.erase(id);
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  }
  struct Forget {  // the invocation is over for this caller, however it leaves
    Worker* w;
    std::uint64_t id;
    std::weak_ptr<int> alive;
    ~Forget() {
      if (!alive.expired()) w->pending_.erase(id);
    }
  } forget{this, id, alive_};
  HttpResponse* response = slot->wait(task, task.now() + config_.response_timeout);
  if (response == nullptr) {
    return sim::Error{sim::ErrorKind::kTimeout, "worker " + config_.name + " sent no response"};
  }
  return std::move(*response);
}

void Worker::after_run(js::RunOutcome outcome) {
  if (outcome == js::RunOutcome::kOk) return;
  const std::string what = std::string("worker ") + js::run_outcome_name(outcome);
  emit("js.limit", what);
  drop_isolate(platform_error(503, what));
}

void Worker::evict() {
  if (isolate_ == nullptr) return;
  emit("js.evict", "isolate=" + std::to_string(generation_));
  drop_isolate(platform_error(503, "worker's isolate was evicted"));
}

void Worker::drop_isolate(const HttpResponse& response) {
  isolate_.reset();
  for (auto& [id, event] : timers_) world_.scheduler().cancel(event);
  timers_.clear();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.slot->set(world_, response);
}

void Worker::settle(std::uint64_t invocation, HttpResponse response) {
  auto it = pending_.find(invocation);
  if (it == pending_.end()) return;  // the caller gave up
  auto slot = it->second.slot;
  pending_.erase(it);
  slot->set(world_, std::move(response));
}

void Worker::on_console(std::string_view level, std::string_view text) {
  emit("js.console", "level=" + std::string(level) + " " + std::string(text));
}

void Worker::on_set_timer(std::uint64_t timer_id, sim::Duration delay) {
  auto it = timers_.find(timer_id);
  if (it != timers_.end()) world_.scheduler().cancel(it->second);
  std::weak_ptr<int> alive = alive_;
  const std::uint64_t generation = generation_;
  timers_[timer_id] = world_.scheduler().after(delay, [this, alive, timer_id, generation] {
    if (alive.expired()) return;
    timers_.erase(timer_id);
    if (generation != generation_) return;
    spawn_js("js.timer", [this, timer_id, generation] {
      if (generation != generation_ || isolate_ == nullptr || isolate_->dead()) return;
      after_run(isolate_->fire_timer(timer_id));
    });
  });
}

void Worker::on_clear_timer(std::uint64_t timer_id) {
  auto it = timers_.find(timer_id);
  if (it == timers_.end()) return;
  world_.scheduler().cancel(it->second);
  timers_.erase(it);
}

void Worker::on_response(std::uint64_t invocation, HttpResponse response) {
  settle(invocation, std::move(response));
}

void Worker::on_exception(std::uint64_t invocation, std::string message, std::string stack) {
  emit("js.exception",
       "invocation=" + std::to_string(invocation) + " " + (stack.empty() ? message : stack));
  settle(invocation, platform_error(500, "worker threw exception: " + message));
}

void Worker::on_uncaught(std::string_view where, std::string message, std::string stack) {
  emit("js.uncaught", std::string(where) + " " + (stack.empty() ? message : stack));
}

}  // namespace runtime
