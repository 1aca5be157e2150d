#include "platform/runtime/worker.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "platform/runtime/origin.h"  // web APIs
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/node.h"

namespace runtime {

namespace {

using js::unix_ms;

// The object a Durable Object event is for, as dispatcher.js takes it: [class, id hex, name].
js::Arg object_arg(const ActorEvent& e) {
  return js::Arg::list(
      {js::Arg::string(e.class_name), js::Arg::string(e.id_hex), js::Arg::string(e.name)});
}

// An HTTP body: bytes, or null when empty.
js::Arg body_arg(const std::string& body) {
  return body.empty() ? js::Arg::null() : js::Arg::bytes(body);
}

HttpResponse platform_error(int status, std::string error) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "text/plain;charset=UTF-8");
  r.body = error;
  r.error = std::move(error);
  return r;
}
}  // namespace

const sim::Knobs<WorkerConfig>& WorkerConfig::knobs() {
  using C = WorkerConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .duration("response_timeout", &C::response_timeout,
                     "how long a request waits for its handler's Response", sim::kMillisecond)
           .duration("wait_until_max", &C::wait_until_max,
                     "ctx.waitUntil() work still running this long after the response is cancelled")
           .duration("event_wall_max", &C::event_wall_max,
                     "wall-time limit of scheduled(), queue(), alarm() and WebSocket handlers "
                     "(15 min)",
                     sim::kMillisecond)
           .integer("timers_per_instant_max", &C::timers_per_instant_max, 1, 1'000'000'000,
                    "timer callbacks one invocation may run at one virtual instant; past it "
                    "(a timer re-armed with no delay) the invocation fails")
           .include("", &C::isolate, js::IsolateConfig::knobs());
  return *table;
}

Worker::Worker(sim::World& world, sim::Node& node, WorkerConfig config)
    : world_(world), node_(node), config_(std::move(config)) {
  config_.isolate.name = config_.name;
  crash_hook_ = node_.add_crash_hook(
      [this](sim::Node&) { drop_isolate(platform_error(503, "worker's node crashed")); });
}

Worker::~Worker() {
  node_.remove_crash_hook(crash_hook_);
  for (auto& [id, timer] : timers_) world_.scheduler().cancel(timer.event);
  timers_.clear();
  for (auto& [id, context] : contexts_) {
    if (context.has_deadline) world_.scheduler().cancel(context.deadline);
  }
  contexts_.clear();
  isolate_.reset();
}

template <typename M, typename Fill>
void Worker::emit(M* (sim::ev::Body::*field)(), Fill&& fill) {
  world_.emit(node_.id(), [&](sim::ev::Body& b) {
    M& e = *(b.*field)();
    e.set_worker(config_.name);
    fill(e);
  });
}

bool Worker::spawn_js(std::string name, std::function<void()> body) {
  std::weak_ptr<int> alive = alive_;
  const sim::TaskRef ref = world_.spawn(
      node_, std::move(name),
      [this, alive, body = std::move(body)](sim::Task& task) {
        if (alive.expired()) return;
        body();
        if (run_hook_ && !alive.expired()) run_hook_(task.name());  // runtime::Pop's CPU model
      },
      js::kJsStackBytes);
  return ref.valid();
}

js::Isolate* Worker::ensure_isolate(std::string* error) {
  if (isolate_ != nullptr && !isolate_->dead()) return isolate_.get();
  isolate_.reset();
  ++generation_;
  // A stream of its own for every isolate of the run: a Durable Object's next activation builds
  // a new Worker (generation 1 again), and must not repeat its predecessor's randomness.
  isolate_ = js::Isolate::create(
      world_, config_.isolate, world_.unique_rng("js/" + node_.name() + "/" + config_.name), this);
  emit(&sim::ev::Body::mutable_js_cold_start, [&](sim::ev::JsColdStart& e) {
    e.set_isolate(generation_);
    e.set_snapshot(isolate_->from_snapshot());
  });
  js::RunOutcome outcome = js::RunOutcome::kOk;
  sim::Status status = isolate_->load(config_.modules, config_.main, &outcome, config_.env);
  if (outcome != js::RunOutcome::kOk) {
    *error = std::string("worker ") + js::run_outcome_name(outcome) + " while loading";
    emit(&sim::ev::Body::mutable_js_limit, [&](sim::ev::JsText& e) { e.set_text(*error); });
    isolate_.reset();
    return nullptr;
  }
  if (!status.ok()) {
    *error = "worker failed to load: " + status.error().message;
    emit(&sim::ev::Body::mutable_js_load_error,
         [&](sim::ev::JsText& e) { e.set_text(status.error().message); });
    isolate_.reset();
    return nullptr;
  }
  return isolate_.get();
}

bool Worker::start_invocation(std::string name, std::uint64_t id,
                              std::function<js::RunOutcome(js::Isolate&)> run,
                              std::function<void(std::string)> load_failed) {
  return spawn_js(std::move(name),
                  [this, id, run = std::move(run), load_failed = std::move(load_failed)] {
                    if (contexts_.count(id) == 0) return;  // given up before it started
                    std::string error;
                    js::Isolate* isolate = ensure_isolate(&error);
                    if (isolate == nullptr) {
                      load_failed(std::move(error));
                      return;
                    }
                    contexts_[id].started = true;
                    current_invocation_ = id;
                    const js::RunOutcome outcome = run(*isolate);
                    current_invocation_ = 0;
                    after_run(outcome);
                  });
}

sim::Result<HttpResponse> Worker::fetch(sim::Task& task, HttpRequest request,
                                        std::string entrypoint) {
  auto shared = std::make_shared<const HttpRequest>(std::move(request));
  return serve_http(
      task, shared, "js.fetch",
      [shared, entrypoint = std::move(entrypoint)](js::Isolate& isolate, std::uint64_t id) {
        const HttpRequest& r = *shared;
        return isolate.dispatch(
            "fetch", {js::Arg::number(static_cast<double>(id)), js::Arg::string(entrypoint),
                      js::Arg::string(r.method), js::Arg::string(r.url), js::Arg::pairs(r.headers),
                      body_arg(r.body)});
      },
      /*hang_check=*/true);
}

sim::Result<HttpResponse> Worker::actor_fetch(sim::Task& task, ActorEvent event) {
  auto shared = std::make_shared<const ActorEvent>(std::move(event));
  auto request = std::shared_ptr<const HttpRequest>(shared, &shared->request);
  return serve_http(
      task, request, "js.actor_fetch", [shared](js::Isolate& isolate, std::uint64_t id) {
        const HttpRequest& r = shared->request;
        return isolate.dispatch("actorFetch",
                                {js::Arg::number(static_cast<double>(id)), object_arg(*shared),
                                 js::Arg::string(r.method), js::Arg::string(r.url),
                                 js::Arg::pairs(r.headers), body_arg(r.body)});
      });
}

sim::Result<HttpResponse> Worker::serve_http(sim::Task& task,
                                             std::shared_ptr<const HttpRequest> request,
                                             std::string task_name, RunFn run, bool hang_check) {
  if (!node_.up())
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  const std::uint64_t id = next_invocation_++;
  auto slot = std::make_shared<sim::Slot<HttpResponse>>();
  pending_.emplace(id, Pending{slot});
  contexts_[id].request = request;
  contexts_[id].hang_check = hang_check;
  const bool spawned = start_invocation(
      std::move(task_name), id,
      [id, run = std::move(run)](js::Isolate& isolate) { return run(isolate, id); },
      [this, id](std::string error) {
        settle(id, platform_error(503, std::move(error)));
        end_context(id, "");
      });
  if (!spawned) {
    pending_.erase(id);
    contexts_.erase(id);
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  }
  const CallerGuard forget{this, id, alive_};  // the invocation is over for this caller
  HttpResponse* response = slot->wait(task, task.now() + config_.response_timeout);
  if (response == nullptr) {
    return sim::Error{sim::ErrorKind::kTimeout, "worker " + config_.name + " sent no response"};
  }
  return std::move(*response);
}

sim::Result<js::CallReply> Worker::actor_rpc(sim::Task& task, ActorEvent event) {
  if (!node_.up())
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  const std::uint64_t id = next_invocation_++;
  auto slot = std::make_shared<sim::Slot<js::CallReply>>();
  rpc_pending_.emplace(id, slot);
  contexts_[id];
  auto shared = std::make_shared<const ActorEvent>(std::move(event));
  const bool spawned = start_invocation(
      "js.actor_rpc", id,
      [id, shared](js::Isolate& isolate) {
        return isolate.dispatch("actorRpc",
                                {js::Arg::number(static_cast<double>(id)), object_arg(*shared),
                                 js::Arg::string(shared->method), js::Arg::bytes(shared->args)});
      },
      [this, id](std::string error) {
        auto it = rpc_pending_.find(id);
        if (it != rpc_pending_.end()) {
          auto s = it->second;
          rpc_pending_.erase(it);
          s->set(world_, js::CallReply::failure("Error", std::move(error)));
        }
        end_context(id, "");
      });
  if (!spawned) {
    rpc_pending_.erase(id);
    contexts_.erase(id);
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  }
  const CallerGuard forget{this, id, alive_};  // the invocation is over for this caller
  js::CallReply* reply = slot->wait(task, task.now() + config_.response_timeout);
  if (reply == nullptr) {
    return sim::Error{sim::ErrorKind::kTimeout, "worker " + config_.name + " sent no RPC reply"};
  }
  return std::move(*reply);
}

sim::Result<ScheduledResult> Worker::scheduled(sim::Task& task, std::string cron, sim::Time time,
                                               std::string entrypoint) {
  auto event = std::make_shared<const ScheduledEvent>(ScheduledEvent{std::move(cron), time});
  return serve_event(
      task, "js.scheduled",
      [event, entrypoint = std::move(entrypoint)](js::Isolate& isolate, std::uint64_t id) {
        return isolate.dispatch(
            "scheduled",
            {js::Arg::number(static_cast<double>(id)), js::Arg::string(entrypoint),
             js::Arg::string(event->cron), js::Arg::number(unix_ms(event->scheduled_time))});
      });
}

sim::Result<ScheduledResult> Worker::queue(sim::Task& task, QueueBatch batch,
                                           std::string entrypoint) {
  auto shared = std::make_shared<const QueueBatch>(std::move(batch));
  return serve_event(
      task, "js.queue",
      [shared, entrypoint = std::move(entrypoint)](js::Isolate& isolate, std::uint64_t id) {
        // Each message: [id, timestamp (Unix ms), attempts, content type, body bytes].
        std::vector<js::Arg> messages;
        for (const QueueMessage& m : shared->messages) {
          messages.push_back(
              js::Arg::list({js::Arg::string(m.id), js::Arg::number(unix_ms(m.timestamp)),
                             js::Arg::number(m.attempts), js::Arg::string(m.content_type),
                             js::Arg::bytes(m.body)}));
        }
        return isolate.dispatch(
            "queue", {js::Arg::number(static_cast<double>(id)), js::Arg::string(entrypoint),
                      js::Arg::string(shared->queue), js::Arg::list(std::move(messages))});
      });
}

sim::Result<ScheduledResult> Worker::workflow(sim::Task& task, WorkflowRunEvent event) {
  auto shared = std::make_shared<const WorkflowRunEvent>(std::move(event));
  return serve_event(task, "js.workflow", [shared](js::Isolate& isolate, std::uint64_t id) {
    const WorkflowRunEvent& e = *shared;
    return isolate.dispatch(
        "workflow", {js::Arg::number(static_cast<double>(id)), js::Arg::string(e.class_name),
                     js::Arg::list({js::Arg::string(e.workflow), js::Arg::number(e.step_target),
                                    js::Arg::string(e.instance_id), js::Arg::number(e.generation),
                                    js::Arg::number(e.run), js::Arg::number(unix_ms(e.created)),
                                    js::Arg::bytes(e.params)})});
  });
}

void Worker::on_queue_outcomes(std::uint64_t invocation, std::string json) {
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) return;
  // [{id, ack, delaySeconds}], as dispatcher.js makes it.
  const nlohmann::json list = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  std::vector<QueueOutcome> outcomes;
  if (list.is_array()) {
    for (const nlohmann::json& o : list) {
      if (!o.is_object()) continue;
      QueueOutcome out;
      out.id = o.value("id", "");
      out.ack = o.value("ack", true);
      out.delay_seconds = o.value("delaySeconds", -1.0);
      outcomes.push_back(std::move(out));
    }
  }
  it->second.result.outcomes = std::move(outcomes);
}

sim::Result<ScheduledResult> Worker::actor_alarm(sim::Task& task, ActorEvent event) {
  auto shared = std::make_shared<const ActorEvent>(std::move(event));
  return serve_event(task, "js.alarm", [shared](js::Isolate& isolate, std::uint64_t id) {
    return isolate.dispatch("actorAlarm",
                            {js::Arg::number(static_cast<double>(id)), object_arg(*shared),
                             js::Arg::number(shared->retry_count)});
  });
}

sim::Result<ScheduledResult> Worker::actor_socket(sim::Task& task, ActorEvent event) {
  auto shared = std::make_shared<const ActorEvent>(std::move(event));
  return serve_event(task, "js.websocket", [shared](js::Isolate& isolate, std::uint64_t id) {
    const ActorEvent& e = *shared;
    const bool message = e.kind == ActorEvent::Kind::kSocketMessage;
    return isolate.dispatch(
        "actorSocket",
        {js::Arg::number(static_cast<double>(id)), object_arg(e),
         js::Arg::list({js::Arg::string(message ? "message" : "close"), js::Arg::string(e.socket),
                        js::Arg::boolean(e.socket_text), js::Arg::bytes(e.args),
                        js::Arg::number(e.close_code), js::Arg::string(e.close_reason),
                        js::Arg::boolean(e.close_clean)})});
  });
}

Worker::CallerGuard::~CallerGuard() {
  if (alive.expired()) return;
  w->pending_.erase(id);
  w->rpc_pending_.erase(id);
  // A request whose caller left before the Response is cancelled, as when a client disconnects;
  // work after a Response runs on under its waitUntil rules.
  auto it = w->contexts_.find(id);
  if (it != w->contexts_.end() && !it->second.handler_done)
    w->end_context(id, "the caller gave up");
}

sim::Result<ScheduledResult> Worker::serve_event(sim::Task& task, std::string task_name,
                                                 RunFn run) {
  if (!node_.up())
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  const std::uint64_t id = next_invocation_++;
  auto slot = std::make_shared<sim::Slot<ScheduledResult>>();
  contexts_[id].scheduled = slot;
  const bool spawned = start_invocation(
      std::move(task_name), id,
      [id, run = std::move(run)](js::Isolate& isolate) { return run(isolate, id); },
      [this, id](std::string error) { end_context(id, error); });
  if (!spawned) {
    contexts_.erase(id);
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  }
  struct Forget {
    Worker* w;
    std::uint64_t id;
    std::weak_ptr<int> alive;
    ~Forget() {
      if (!alive.expired() && w->contexts_.count(id) != 0) w->end_context(id, "the caller gave up");
    }
  } forget{this, id, alive_};
  ScheduledResult* result = slot->wait(task, task.now() + config_.event_wall_max);
  if (result == nullptr) {
    return sim::Error{sim::ErrorKind::kTimeout,
                      "worker " + config_.name + "'s event handler did not finish"};
  }
  return std::move(*result);
}

void Worker::after_run(js::RunOutcome outcome) {
  if (outcome == js::RunOutcome::kOk) {
    end_hung_invocations();
    return;
  }
  const std::string what = std::string("worker ") + js::run_outcome_name(outcome);
  emit(&sim::ev::Body::mutable_js_limit, [&](sim::ev::JsText& e) { e.set_text(what); });
  drop_isolate(platform_error(503, what));
}

void Worker::count_io(std::uint64_t invocation, int delta) {
  if (auto it = contexts_.find(invocation); it != contexts_.end()) it->second.io_pending += delta;
}

void Worker::end_hung_invocations() {
  std::vector<std::uint64_t> hung;
  for (const auto& [id, c] : contexts_) {
    if (!c.hang_check || !c.started || c.handler_done || c.io_pending > 0 ||
        pending_.count(id) == 0) {
      continue;
    }
    const bool timer = std::any_of(timers_.begin(), timers_.end(),
                                   [id = id](const auto& t) { return t.second.invocation == id; });
    if (!timer) hung.push_back(id);
  }
  for (std::uint64_t id : hung) {
    const std::string why =
        "Error: The Workers runtime canceled this request because it detected that your "
        "Worker's code had hung and would never generate a response.";
    emit(&sim::ev::Body::mutable_js_exception, [&](sim::ev::JsInvocation& e) {
      e.set_invocation(id);
      e.set_text(why);
    });
    settle(id, platform_error(500, "worker threw exception: " + why));
    end_context(id, why);
  }
}

void Worker::evict() {
  if (isolate_ == nullptr) return;
  emit(&sim::ev::Body::mutable_js_evict,
       [&](sim::ev::JsIsolate& e) { e.set_isolate(generation_); });
  drop_isolate(platform_error(503, "worker's isolate was evicted"));
}

void Worker::drop_isolate(const HttpResponse& response) {
  isolate_.reset();
  for (auto& [id, timer] : timers_) world_.scheduler().cancel(timer.event);
  timers_.clear();
  auto contexts = std::move(contexts_);
  contexts_.clear();
  for (auto& [id, context] : contexts) {
    if (context.has_deadline) world_.scheduler().cancel(context.deadline);
    if (context.scheduled != nullptr) {
      context.result.ok = false;
      context.result.error = response.error;
      context.scheduled->set(world_, context.result);
    }
  }
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.slot->set(world_, response);
  auto rpcs = std::move(rpc_pending_);
  rpc_pending_.clear();
  for (auto& [id, slot] : rpcs) slot->set(world_, js::CallReply::failure("Error", response.error));
}

void Worker::leave(GatedMessage message) {
  if (output_gate_) {
    output_gate_(std::move(message));
  } else {
    message(true);
  }
}

void Worker::settle(std::uint64_t invocation, HttpResponse response) {
  auto it = pending_.find(invocation);
  if (it == pending_.end()) return;  // the caller gave up
  auto slot = it->second.slot;
  pending_.erase(it);
  if (!response.error.empty() || !output_gate_) {  // platform errors carry no writes
    slot->set(world_, std::move(response));
    return;
  }
  auto shared = std::make_shared<HttpResponse>(std::move(response));
  leave([this, slot, shared](bool send) {
    slot->set(world_, send ? std::move(*shared)
                           : platform_error(503, "Durable Object reset: its storage write failed"));
  });
}

void Worker::handler_done(std::uint64_t invocation) {
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) return;
  Context& context = it->second;
  if (context.handler_done) return;
  context.handler_done = true;
  if (context.wait_until_pending == 0) {
    end_context(invocation, "");
    return;
  }
  std::weak_ptr<int> alive = alive_;
  context.has_deadline = true;
  context.deadline = world_.scheduler().after(config_.wait_until_max, [this, alive, invocation] {
    if (alive.expired()) return;
    auto c = contexts_.find(invocation);
    if (c == contexts_.end()) return;
    c->second.has_deadline = false;
    emit(&sim::ev::Body::mutable_js_wait_until_cancelled, [&](sim::ev::JsWaitUntilCancelled& e) {
      e.set_invocation(invocation);
      e.set_pending(static_cast<std::uint64_t>(c->second.wait_until_pending));
      e.set_after(config_.wait_until_max);
    });
    end_context(invocation, "waitUntil work cancelled " +
                                std::to_string(config_.wait_until_max / sim::kMillisecond) +
                                " ms after the handler finished");
  });
}

void Worker::end_context(std::uint64_t invocation, std::string_view why) {
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) return;
  Context context = std::move(it->second);
  contexts_.erase(it);
  if (context.has_deadline) world_.scheduler().cancel(context.deadline);
  std::size_t cancelled = 0;
  for (auto t = timers_.begin(); t != timers_.end();) {
    if (t->second.invocation != invocation) {
      ++t;
      continue;
    }
    world_.scheduler().cancel(t->second.event);
    t = timers_.erase(t);
    ++cancelled;
  }
  if (cancelled > 0 || !why.empty()) {
    emit(&sim::ev::Body::mutable_js_cancel, [&](sim::ev::JsCancel& e) {
      e.set_invocation(invocation);
      e.set_timers(cancelled);
      e.set_reason(why.empty() ? std::string("done") : std::string(why));
    });
  }
  if (context.scheduled != nullptr) {
    if (!why.empty() && context.result.ok) {
      context.result.ok = false;
      context.result.error = std::string(why);
    }
    context.scheduled->set(world_, std::move(context.result));
  }
}

void Worker::on_console(std::string_view level, std::string_view text) {
  emit(&sim::ev::Body::mutable_js_console, [&](sim::ev::JsConsole& e) {
    e.set_level(std::string(level));
    e.set_text(std::string(text));
  });
}

void Worker::on_set_timer(std::uint64_t timer_id, sim::Duration delay) {
  auto it = timers_.find(timer_id);
  if (it != timers_.end()) world_.scheduler().cancel(it->second.event);
  std::weak_ptr<int> alive = alive_;
  const std::uint64_t generation = generation_;
  const std::uint64_t invocation = current_invocation_;
  const sim::EventId event =
      world_.scheduler().after(delay, [this, alive, timer_id, generation, invocation] {
        if (alive.expired()) return;
        timers_.erase(timer_id);
        if (generation != generation_) return;
        spawn_js("js.timer", [this, timer_id, generation, invocation] {
          if (generation != generation_ || isolate_ == nullptr || isolate_->dead()) return;
          // Its context ended between the event and this task.
          if (invocation != 0 && contexts_.count(invocation) == 0) return;
          if (!timer_may_fire(invocation)) return;
          current_invocation_ = invocation;
          const js::RunOutcome outcome = isolate_->fire_timer(timer_id);
          current_invocation_ = 0;
          after_run(outcome);
        });
      });
  timers_[timer_id] = Timer{event, invocation};
}

bool Worker::timer_may_fire(std::uint64_t invocation) {
  auto it = contexts_.find(invocation);
  // Timers set while the modules evaluated belong to no invocation: counted on the Worker.
  Context& c = it == contexts_.end() ? startup_timers_ : it->second;
  if (c.timer_instant != world_.now()) {
    c.timer_instant = world_.now();
    c.timers_at_instant = 0;
  }
  if (++c.timers_at_instant <= config_.timers_per_instant_max) return true;
  const std::string why = "Error: the " +
                          std::string(it == contexts_.end() ? "module's" : "invocation's") +
                          " timers fired " + std::to_string(config_.timers_per_instant_max) +
                          " times at one instant (a timer that re-arms itself with no delay never "
                          "lets time pass; worker.timers_per_instant_max)";
  if (it == contexts_.end()) {
    for (auto t = timers_.begin(); t != timers_.end();) {
      if (t->second.invocation == invocation) {
        world_.scheduler().cancel(t->second.event);
        t = timers_.erase(t);
      } else {
        ++t;
      }
    }
    on_uncaught("timer", why, "");
    return false;
  }
  emit(&sim::ev::Body::mutable_js_exception, [&](sim::ev::JsInvocation& e) {
    e.set_invocation(invocation);
    e.set_text(why);
  });
  settle(invocation, platform_error(500, "worker threw exception: " + why));
  end_context(invocation, why);
  return false;
}

void Worker::on_clear_timer(std::uint64_t timer_id) {
  auto it = timers_.find(timer_id);
  if (it == timers_.end()) return;
  world_.scheduler().cancel(it->second.event);
  timers_.erase(it);
}

void Worker::on_response(std::uint64_t invocation, HttpResponse response) {
  settle(invocation, std::move(response));
  handler_done(invocation);
}

void Worker::on_signal(std::uint64_t invocation, js::Signal signal) {
  switch (static_cast<SignalCode>(signal.code)) {
    case SignalCode::kException:
      on_exception(invocation, std::move(signal.text), std::move(signal.stack));
      return;
    case SignalCode::kWaitUntil:
      on_wait_until(invocation);
      return;
    case SignalCode::kWaitUntilSettled:
      on_wait_until_settled(invocation, signal.ok, std::move(signal.text), std::move(signal.stack));
      return;
    case SignalCode::kPassThrough:
      on_pass_through(invocation);
      return;
    case SignalCode::kEventDone:
      on_event_done(invocation, signal.ok, std::move(signal.text), std::move(signal.stack));
      return;
    case SignalCode::kNoRetry:
      if (auto it = contexts_.find(invocation); it != contexts_.end()) {
        it->second.result.no_retry = true;
      }
      return;
    case SignalCode::kActorReply: {
      js::CallReply reply;
      reply.ok = signal.ok;
      if (signal.ok) {
        reply.bytes = std::move(signal.bytes);
        reply.has_bytes = true;
      } else {
        reply.error_clone = std::move(signal.bytes);
        reply.error_message = std::move(signal.text);
      }
      on_actor_reply(invocation, std::move(reply));
      return;
    }
    case SignalCode::kQueueOutcomes:
      on_queue_outcomes(invocation, std::move(signal.text));
      return;
  }
  // dispatcher.js and SignalCode disagree: a bug of ours.
  SIM_ASSERT(false);
}

void Worker::on_exception(std::uint64_t invocation, std::string message, std::string stack) {
  emit(&sim::ev::Body::mutable_js_exception, [&](sim::ev::JsInvocation& e) {
    e.set_invocation(invocation);
    e.set_text(stack.empty() ? message : stack);
  });
  auto it = contexts_.find(invocation);
  std::string error = "worker threw exception: " + message;
  if (it != contexts_.end() && it->second.pass_through && it->second.request != nullptr) {
    if (config_.origins != nullptr) {
      // As if the Worker were not there: the request goes on to the origin.
      emit(&sim::ev::Body::mutable_js_pass_through, [&](sim::ev::JsInvocation& e) {
        e.set_invocation(invocation);
        e.set_text("to the origin");
      });
      std::weak_ptr<int> alive = alive_;
      world_.spawn(
          node_, "pass_through",
          [this, alive, invocation, request = it->second.request](sim::Task& task) {
            if (alive.expired()) return;
            sim::Result<HttpResponse> r = config_.origins->fetch(task, *request, config_.name);
            if (alive.expired()) return;
            settle(invocation,
                   r.ok() ? std::move(*r)
                          : platform_error(502, "passThroughOnException: " + r.error().message));
          });
      handler_done(invocation);
      return;
    }
    emit(&sim::ev::Body::mutable_js_pass_through, [&](sim::ev::JsInvocation& e) {
      e.set_invocation(invocation);
      e.set_text("no origins configured: answering 500");
    });
    error += " (passThroughOnException: no origin)";
  }
  HttpResponse response = platform_error(500, std::move(error));
  settle(invocation, std::move(response));
  handler_done(invocation);
}

void Worker::on_uncaught(std::string_view where, std::string message, std::string stack) {
  emit(&sim::ev::Body::mutable_js_uncaught, [&](sim::ev::JsUncaught& e) {
    e.set_where(std::string(where));
    e.set_error(stack.empty() ? message : stack);
  });
}

void Worker::on_event_done(std::uint64_t invocation, bool ok, std::string message,
                           std::string stack) {
  if (!ok) {
    emit(&sim::ev::Body::mutable_js_exception, [&](sim::ev::JsInvocation& e) {
      e.set_invocation(invocation);
      e.set_text(stack.empty() ? message : stack);
    });
  }
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) return;
  ScheduledResult& result = it->second.result;
  if (!ok && result.ok) {
    result.ok = false;
    result.error = std::move(message);
  }
  handler_done(invocation);
}

void Worker::on_wait_until(std::uint64_t invocation) {
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) {
    emit(&sim::ev::Body::mutable_js_wait_until_late, [&](sim::ev::JsInvocation& e) {
      e.set_invocation(invocation);
      e.set_text("ctx.waitUntil after the invocation ended: not awaited");
    });
    return;
  }
  ++it->second.wait_until_pending;
}

void Worker::on_wait_until_settled(std::uint64_t invocation, bool ok, std::string message,
                                   std::string stack) {
  if (!ok) {
    emit(&sim::ev::Body::mutable_js_uncaught, [&](sim::ev::JsUncaught& e) {
      e.set_where("waitUntil");
      e.set_error(stack.empty() ? message : stack);
    });
  }
  auto it = contexts_.find(invocation);
  if (it == contexts_.end()) return;
  Context& context = it->second;
  if (context.wait_until_pending > 0) --context.wait_until_pending;
  if (!ok && context.result.ok) {
    context.result.ok = false;
    context.result.error = std::move(message);
  }
  if (context.handler_done && context.wait_until_pending == 0) end_context(invocation, "");
}

// ---- web APIs: outbound fetch ----
// On a task of its own (it suspends on the network); the reply settles the JS promise in a new JS
// run, unless the isolate that asked was dropped meanwhile.
void Worker::on_fetch(std::uint64_t fetch_id, HttpRequest request) {
  std::weak_ptr<int> alive = alive_;
  const std::uint64_t generation = generation_;
  const std::uint64_t invocation = current_invocation_;  // the reply's run belongs to it
  auto shared = std::make_shared<HttpRequest>(std::move(request));
  count_io(invocation, +1);
  leave([this, alive, generation, invocation, fetch_id, shared](bool send) {
    if (!send || alive.expired() || generation != generation_) return;
    HttpRequest request = std::move(*shared);
    world_.spawn(
        node_, "fetch",
        [this, alive, generation, invocation, fetch_id,
         request = std::move(request)](sim::Task& task) mutable {
          if (alive.expired()) return;
          sim::Result<HttpResponse> result =
              config_.origins != nullptr
                  ? config_.origins->fetch(task, std::move(request), config_.name)
                  : sim::Error{sim::ErrorKind::kInvalid, "Network connection lost. (no origins)"};
          if (alive.expired() || generation != generation_) return;
          spawn_js("js.fetch_reply",
                   [this, generation, invocation, fetch_id, result = std::move(result)] {
                     if (generation != generation_ || isolate_ == nullptr || isolate_->dead())
                       return;
                     // The invocation's context ended (its work was cancelled): the reply goes
                     // nowhere.
                     if (invocation != 0 && contexts_.count(invocation) == 0) return;
                     count_io(invocation, -1);
                     current_invocation_ = invocation;
                     const js::RunOutcome outcome = isolate_->settle_fetch(fetch_id, result);
                     current_invocation_ = 0;
                     after_run(outcome);
                   });
        });
  });
}
// ---- end web APIs ----

// ---- bindings: like outbound fetch, on a task of its own, through the output gate ----
void Worker::on_call(std::uint64_t call_id, js::CallRequest request) {
  std::weak_ptr<int> alive = alive_;
  const std::uint64_t generation = generation_;
  const std::uint64_t invocation = current_invocation_;
  auto shared = std::make_shared<js::CallRequest>(std::move(request));
  count_io(invocation, +1);
  auto start = [this, alive, generation, invocation, call_id, shared](bool send) {
    if (!send || alive.expired() || generation != generation_) return;
    world_.spawn(
        node_, "call", [this, alive, generation, invocation, call_id, shared](sim::Task& task) {
          if (alive.expired()) return;
          js::CallReply reply =
              config_.services != nullptr
                  ? config_.services->call(task, *shared)
                  : js::CallReply::failure("Error", "no services for binding calls");
          if (alive.expired() || generation != generation_) return;
          spawn_js("js.call_reply",
                   [this, generation, invocation, call_id, reply = std::move(reply)] {
                     if (generation != generation_ || isolate_ == nullptr || isolate_->dead())
                       return;
                     if (invocation != 0 && contexts_.count(invocation) == 0) return;
                     count_io(invocation, -1);
                     current_invocation_ = invocation;
                     const js::RunOutcome outcome = isolate_->settle_call(call_id, reply);
                     current_invocation_ = 0;
                     after_run(outcome);
                   });
        });
  };
  if (config_.services != nullptr && !config_.services->leaves(*shared)) {
    start(true);
  } else {
    leave(std::move(start));
  }
}

js::CallReply Worker::on_call_sync(const js::CallRequest& request) {
  if (config_.services == nullptr) {
    return js::CallReply::failure("Error", "no services for binding calls");
  }
  return config_.services->call_sync(request);
}

void Worker::on_actor_reply(std::uint64_t invocation, js::CallReply reply) {
  auto it = rpc_pending_.find(invocation);
  if (it != rpc_pending_.end()) {
    auto slot = it->second;
    rpc_pending_.erase(it);
    auto shared = std::make_shared<js::CallReply>(std::move(reply));
    leave([this, slot, shared](bool send) {
      if (send) {
        slot->set(world_, std::move(*shared));
        return;
      }
      js::CallReply failed =
          js::CallReply::failure("Error", "Durable Object reset: its storage write failed");
      failed.retryable = true;
      slot->set(world_, std::move(failed));
    });
  }
  handler_done(invocation);
}
// ---- end bindings ----

void Worker::on_pass_through(std::uint64_t invocation) {
  auto it = contexts_.find(invocation);
  if (it != contexts_.end()) it->second.pass_through = true;
}

}  // namespace runtime
