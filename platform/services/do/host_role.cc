// A DO host: leases, activation (promise and recovery), commits, alarms, overload and idle
// eviction around the ObjectExecutor.
#include <algorithm>
#include <cmath>

#include "platform/services/do/do_internal.h"
#include "sim/rpc.h"

namespace services {

using do_internal::HostRole;

ObjectHandle::ObjectHandle(HostRole* role, sim::Node* node, std::string object,
                           std::uint64_t instance)
    : role_(role),
      node_(node),
      incarnation_(node->incarnation()),
      object_(std::move(object)),
      instance_(instance) {}

ObjectHandle::~ObjectHandle() = default;

bool ObjectHandle::active() const {
  return state_ == State::kActive && !node_->down() && node_->incarnation() == incarnation_;
}

bool ObjectHandle::lease_valid() const {
  if (!active()) return false;
  return !role_->fencing() || node_->world().now() < lease_expiry_;
}

sim::Status ObjectHandle::commit(sim::Task& task, std::string image,
                                 std::optional<sim::Time> alarm) {
  return role_->commit(task, *this, std::move(image), alarm);
}

void ObjectHandle::release() { role_->release(*this); }

namespace do_internal {

namespace {

constexpr std::size_t kSeenMax = 100'000;
constexpr int kEnsureRoundsMax = 4;

struct PromiseReply {
  ReplicaStatus status = ReplicaStatus::kRejected;
  std::uint64_t promised = 0;
  bool has_image = false;
  Version version;
  std::string image;
  std::optional<sim::Time> alarm;
};

std::optional<PromiseReply> parse_promise(const sim::Result<std::string>& r) {
  if (!r.ok()) return std::nullopt;
  Reader rd(r.value());
  PromiseReply p;
  p.status = static_cast<ReplicaStatus>(rd.u8());
  p.promised = rd.u64();
  if (p.status == ReplicaStatus::kAccepted) {
    p.has_image = rd.u8() != 0;
    p.version.epoch = rd.u64();
    p.version.seq = rd.u64();
    p.image = rd.str();
    p.alarm = rd.opt_time();
  } else if (p.status != ReplicaStatus::kRejected) {
    return std::nullopt;
  }
  if (!rd.done()) return std::nullopt;
  return p;
}

// A write reply: accepted or rejected (with the promised epoch), or nullopt (no answer).
std::optional<std::pair<ReplicaStatus, std::uint64_t>> parse_write(
    const sim::Result<std::string>& r) {
  if (!r.ok()) return std::nullopt;
  Reader rd(r.value());
  const auto status = static_cast<ReplicaStatus>(rd.u8());
  const std::uint64_t promised = rd.u64();
  if (!rd.done() || status > ReplicaStatus::kRejected) return std::nullopt;
  return std::make_pair(status, promised);
}

struct Tally {
  int accepted = 0;
  int rejected = 0;
  int failed = 0;
  std::uint64_t promised_max = 0;
};

// Counts replica replies; `parse` gives a reply's (status, promised epoch), or nothing when the
// call failed or the reply is malformed.
template <typename Parse>
Tally tally_replies(const std::vector<ReplicaReply>& rs, Parse parse) {
  Tally tl;
  for (const auto& rr : rs) {
    const std::optional<std::pair<ReplicaStatus, std::uint64_t>> p = parse(rr.reply);
    if (!p) {
      ++tl.failed;
    } else if (p->first == ReplicaStatus::kAccepted) {
      ++tl.accepted;
    } else {
      ++tl.rejected;
      tl.promised_max = std::max(tl.promised_max, p->second);
    }
  }
  return tl;
}

}  // namespace

HostRole::HostRole(DoCluster& cluster, sim::Node& node, ObjectExecutor& executor)
    : c_(cluster), node_(node), executor_(executor) {}

bool HostRole::fencing() const { return c_.config_.fencing; }

std::shared_ptr<ObjectHandle> HostRole::find(std::string_view key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

void HostRole::boot() {
  sim::World& w = c_.world_;
  rng_ = w.rng("do/host/" + node_.name()).fork(std::to_string(node_.incarnation()));
  objects_.clear();
  deactivating_.clear();
  seen_.clear();
  seen_order_.clear();
  acquire_nonce_ = 0;
  w.rpc().serve(node_, "do.request", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_request(t, from, req);
  });
  w.rpc().serve(node_, "do.wake", [this](sim::Task& t, sim::NodeId from, std::string_view req) {
    return on_wake(t, from, req);
  });
  w.spawn(node_, "do.renew", [this](sim::Task& t) { renew_loop(t); });
  executor_.boot(node_);
}

void HostRole::crash() {
  // Every task of the node is already unwound. The executor may still hold instances.
  auto objects = std::move(objects_);
  auto pending = std::move(deactivating_);
  objects_.clear();
  deactivating_.clear();
  seen_.clear();
  seen_order_.clear();
  const sim::Time now = c_.world_.now();
  for (auto& [key, h] : objects) {
    const bool was_active = h->state_ == ObjectHandle::State::kActive;
    h->state_ = ObjectHandle::State::kDead;
    if (!was_active) continue;
    DoActivation& a = c_.activations_[h->activation_index_];
    a.end = now;
    a.end_reason = "host crashed";
    executor_.deactivate(*h);
  }
  for (auto& [instance, h] : pending) executor_.deactivate(*h);
}

bool HostRole::seen_request(std::uint64_t id) {
  const sim::Time now = c_.world_.now();
  const sim::Duration window = 2 * c_.config_.request_timeout;
  while (!seen_order_.empty() &&
         (seen_order_.front().first + window < now || seen_order_.size() > kSeenMax)) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
  }
  if (!seen_.insert(id).second) return true;
  seen_order_.emplace_back(now, id);
  return false;
}

bool HostRole::take_token(ObjectHandle& h) {
  const double rate = c_.config_.requests_per_second_max;
  if (rate <= 0) return true;
  const double burst = c_.config_.requests_burst_max > 0 ? c_.config_.requests_burst_max : rate;
  const sim::Time now = c_.world_.now();
  h.tokens_ = std::min(burst, h.tokens_ + static_cast<double>(now - h.tokens_at_) /
                                              static_cast<double>(sim::kSecond) * rate);
  h.tokens_at_ = now;
  if (h.tokens_ < 1) return false;
  h.tokens_ -= 1;
  return true;
}

std::string HostRole::encode_activation(const Activation& a) const {
  if (a.status == RequestStatus::kNotHere) {
    return Writer().u8(static_cast<std::uint8_t>(RequestStatus::kNotHere)).i64(a.hint).take();
  }
  return Writer()
      .u8(static_cast<std::uint8_t>(RequestStatus::kError))
      .u8(static_cast<std::uint8_t>(a.kind))
      .str(a.message)
      .take();
}

sim::Result<std::string> HostRole::on_request(sim::Task& t, sim::NodeId from,
                                              std::string_view req) {
  Reader rd(req);
  const std::uint64_t id = rd.u64();
  const std::string key = rd.str();
  std::string body = rd.str();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.request"};
  if (seen_request(id)) {
    // A duplicated datagram. Running it again would apply it twice; answering at once could beat
    // the original's answer. Stay silent until the caller has surely stopped waiting.
    ++c_.stats_.duplicates_dropped;
    t.sleep(2 * c_.config_.request_timeout);
    return sim::Error{sim::ErrorKind::kRemote, "duplicate request"};
  }
  Activation a = ensure_active(t, key);
  if (!a.handle) return encode_activation(a);
  const std::shared_ptr<ObjectHandle> h = a.handle;
  if (!take_token(*h)) {
    ++c_.stats_.overloaded;
    emit([&](sim::ev::Body& b) {
      b.mutable_do_overloaded()->set_object(key);
      b.mutable_do_overloaded()->set_instance(h->instance_);
    });
    return encode_activation(
        Activation{nullptr, RequestStatus::kError, sim::kNoNode, DoErrorKind::kOverloaded,
                   key + " is over " + std::to_string(c_.config_.requests_per_second_max) +
                       " requests per second"});
  }
  ++c_.stats_.requests;
  struct InFlight {
    std::shared_ptr<ObjectHandle> h;
    explicit InFlight(std::shared_ptr<ObjectHandle> handle) : h(std::move(handle)) {
      ++h->inflight_;
      h->last_event_ = h->node_->world().now();
    }
    ~InFlight() {
      --h->inflight_;
      h->last_event_ = h->node_->world().now();
    }
  } inflight(h);
  sim::Result<std::string> r = executor_.handle(t, *h, std::move(body));
  if (r.ok()) {
    return Writer().u8(static_cast<std::uint8_t>(RequestStatus::kOk)).str(r.value()).take();
  }
  DoErrorKind kind = DoErrorKind::kRemote;
  switch (r.error().kind) {
    case sim::ErrorKind::kUnreachable:
    case sim::ErrorKind::kCancelled:
      kind = DoErrorKind::kRetryable;
      break;
    case sim::ErrorKind::kOverloaded:
      kind = DoErrorKind::kOverloaded;
      break;
    case sim::ErrorKind::kTimeout:
    case sim::ErrorKind::kIo:
      kind = DoErrorKind::kTimeout;
      break;
    case sim::ErrorKind::kRemote:
    case sim::ErrorKind::kInvalid:
      kind = DoErrorKind::kRemote;
      break;
  }
  return encode_activation(
      Activation{nullptr, RequestStatus::kError, sim::kNoNode, kind, r.error().message});
}

sim::Result<std::string> HostRole::on_wake(sim::Task& t, sim::NodeId from, std::string_view req) {
  Reader rd(req);
  const std::string key = rd.str();
  if (!rd.done()) return sim::Error{sim::ErrorKind::kInvalid, "malformed do.wake"};
  Activation a = ensure_active(t, key);
  if (!a.handle) return encode_activation(a);
  a.handle->last_event_ = t.now();
  return Writer().u8(static_cast<std::uint8_t>(RequestStatus::kOk)).str("").take();
}

HostRole::Activation HostRole::ensure_active(sim::Task& t, const std::string& key) {
  for (int round = 0; round < kEnsureRoundsMax; ++round) {
    auto it = objects_.find(key);
    if (it == objects_.end()) return activate(t, key);
    const std::shared_ptr<ObjectHandle> h = it->second;
    if (h->state_ == ObjectHandle::State::kActive) {
      if (h->lease_valid()) return Activation::ok(h);
      ++c_.stats_.leases_lost;
      deactivate(h, "lease expired", true);
      continue;
    }
    // Activating: wait for that activation rather than racing it.
    h->state_waiters_.wait(t, t.now() + c_.config_.activation_wait_max);
  }
  return Activation{nullptr, RequestStatus::kError, sim::kNoNode, DoErrorKind::kRetryable,
                    "activation of " + key + " on " + node_.name() + " did not settle"};
}

void HostRole::fail_activation(const std::shared_ptr<ObjectHandle>& h, const std::string& why) {
  ++c_.stats_.activation_failures;
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_activate_failed();
    e.set_object(h->object_);
    e.set_instance(h->instance_);
    e.set_epoch(h->epoch_);
    e.set_why(why);
  });
  const bool had_lease = h->epoch_ > 0 && h->state_ != ObjectHandle::State::kDead;
  deactivate(h, why, false);
  if (had_lease) give_back(h->object_, h->epoch_);
}

HostRole::Activation HostRole::activate(sim::Task& t, const std::string& key) {
  sim::World& w = c_.world_;
  const DoClusterConfig& cfg = c_.config_;
  const auto retry = [&](std::string message) {
    return Activation{nullptr, RequestStatus::kError, sim::kNoNode, DoErrorKind::kRetryable,
                      std::move(message)};
  };
  std::shared_ptr<ObjectHandle> h(new ObjectHandle(this, &node_, key, c_.next_instance_++));
  objects_[key] = h;
  const auto abandoned = [&] { return h->state_ != ObjectHandle::State::kActivating; };
  if (!c_.directory_) {
    fail_activation(h, "no directory");
    return retry("no DO directory");
  }

  // 1. The lease and a fresh epoch. Our view of the lease counts from the send time.
  const sim::Time sent = t.now();
  const std::uint64_t nonce = (node_.incarnation() << 32) | ++acquire_nonce_;
  auto r = w.rpc().call(t, c_.directory_->node().id(), "do.acquire",
                        Writer().str(key).u64(nonce).take(), cfg.rpc_timeout);
  if (abandoned()) return retry("activation of " + key + " abandoned");
  if (!r.ok()) {
    fail_activation(h, "directory: " + r.error().message);
    return retry("cannot acquire " + key + ": " + r.error().message);
  }
  Reader rd(r.value());
  const auto status = static_cast<AcquireStatus>(rd.u8());
  const std::uint64_t epoch = rd.u64();
  const auto holder = static_cast<sim::NodeId>(rd.i64());
  if (!rd.done()) {
    fail_activation(h, "malformed acquire reply");
    return retry("malformed acquire reply");
  }
  if (status != AcquireStatus::kGranted) {
    fail_activation(h, status == AcquireStatus::kHeld ? "held elsewhere" : "directory in grace");
    return Activation{nullptr, RequestStatus::kNotHere, holder, DoErrorKind::kRetryable,
                      key + " is held by another host"};
  }
  h->epoch_ = epoch;
  h->lease_expiry_ = sent + cfg.lease_duration;

  // 2. Promise the epoch to the replicas; recover the newest image of a quorum.
  std::vector<sim::NodeId> replicas;
  for (const auto& [id, role] : c_.storage_) replicas.push_back(id);
  const int n = static_cast<int>(replicas.size());
  const int q = c_.quorum();
  const auto tally = [](const std::vector<ReplicaReply>& rs) {
    return tally_replies(rs, [](const sim::Result<std::string>& reply) {
      const auto p = parse_promise(reply);
      return p ? std::optional(std::make_pair(p->status, p->promised)) : std::nullopt;
    });
  };
  const auto replies =
      ask_replicas(t, replicas, "do.promise", Writer().str(key).u64(epoch).take(), cfg.rpc_timeout,
                   [&](const std::vector<ReplicaReply>& rs) {
                     const Tally tl = tally(rs);
                     return tl.accepted >= q || tl.rejected > 0 || tl.failed > n - q;
                   });
  if (abandoned()) return retry("activation of " + key + " abandoned");
  const Tally tl = tally(replies);
  if (tl.rejected > 0) {
    ++c_.stats_.fenced;
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_fenced();
      e.set_object(key);
      e.set_side("host");
      e.set_at("promise");
      e.set_instance(h->instance_);
      e.set_epoch(epoch);
      e.set_promised(tl.promised_max);
    });
    fail_activation(h, "superseded by epoch " + std::to_string(tl.promised_max));
    return retry(key + " was superseded by a newer activation");
  }
  if (tl.accepted < q) {
    fail_activation(
        h, "no storage quorum (" + std::to_string(tl.accepted) + "/" + std::to_string(q) + ")");
    return retry("no storage quorum for " + key);
  }
  if (fencing() && t.now() >= h->lease_expiry_) {
    fail_activation(h, "lease expired during activation");
    return retry("lease of " + key + " expired during activation");
  }
  std::optional<PromiseReply> best;
  for (const auto& rr : replies) {
    auto p = parse_promise(rr.reply);
    if (!p || p->status != ReplicaStatus::kAccepted || !p->has_image) continue;
    if (!best || best->version < p->version) best = std::move(p);
  }
  if (best) {
    h->recovered_image_ = std::move(best->image);
    h->recovered_alarm_ = best->alarm;
  }
  h->committed_alarm_ = h->recovered_alarm_;
  h->state_ = ObjectHandle::State::kActive;
  h->last_event_ = t.now();
  h->tokens_ = cfg.requests_burst_max > 0 ? cfg.requests_burst_max : cfg.requests_per_second_max;
  h->tokens_at_ = t.now();
  h->activation_index_ = c_.activations_.size();
  c_.activations_.push_back(
      DoActivation{key, h->instance_, node_.name(), node_.id(), epoch, t.now(), sim::kTimeMax, ""});
  ++c_.stats_.activations;
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_activate();
    e.set_object(key);
    e.set_host(node_.id());
    e.set_epoch(epoch);
    e.set_instance(h->instance_);
    if (best) {
      e.set_recovered(true);
      e.set_recovered_epoch(best->version.epoch);
      e.set_recovered_seq(best->version.seq);
    }
    if (h->recovered_alarm_) e.set_alarm(*h->recovered_alarm_);
  });
  h->state_waiters_.notify_all(w);
  w.spawn(node_, "do.alarm", [this, h](sim::Task& at) { alarm_loop(at, h); });
  return Activation::ok(h);
}

void HostRole::deactivate(const std::shared_ptr<ObjectHandle>& h, const std::string& reason,
                          bool lease_lost) {
  if (h->state_ == ObjectHandle::State::kDead) return;
  sim::World& w = c_.world_;
  const bool was_active = h->state_ == ObjectHandle::State::kActive;
  h->state_ = ObjectHandle::State::kDead;
  if (auto it = objects_.find(h->object_); it != objects_.end() && it->second == h) {
    objects_.erase(it);
  }
  h->state_waiters_.notify_all(w);
  h->commit_waiters_.notify_all(w);
  if (!was_active) return;
  DoActivation& a = c_.activations_[h->activation_index_];
  a.end = w.now();
  a.end_reason = reason;
  const auto ended = [&](sim::ev::DoDeactivate* e) {
    e->set_object(h->object_);
    e->set_host(node_.id());
    e->set_epoch(h->epoch_);
    e->set_instance(h->instance_);
    e->set_reason(reason);
  };
  if (lease_lost) emit([&](sim::ev::Body& b) { ended(b.mutable_do_lease_lost()); });
  emit([&](sim::ev::Body& b) { ended(b.mutable_do_deactivate()); });
  // Never from inside the executor's own call stack (we may be in its commit()).
  deactivating_[h->instance_] = h;
  w.spawn(node_, "do.deactivate", [this, h](sim::Task&) {
    if (deactivating_.erase(h->instance_) == 0) return;
    executor_.deactivate(*h);
  });
}

void HostRole::give_back(const std::string& key, std::uint64_t epoch) {
  if (!c_.directory_) return;
  const sim::NodeId dir = c_.directory_->node().id();
  const sim::Duration timeout = c_.config_.rpc_timeout;
  c_.world_.spawn(node_, "do.release", [key, epoch, dir, timeout](sim::Task& t) {
    // Best effort: a lost release only delays the next placement by one lease.
    (void)t.world().rpc().call(t, dir, "do.release", Writer().str(key).u64(epoch).take(), timeout);
  });
}

void HostRole::release(ObjectHandle& hr) {
  if (hr.state_ != ObjectHandle::State::kActive) return;
  const std::shared_ptr<ObjectHandle> h = hr.shared_from_this();
  deactivate(h, "released", false);
  give_back(h->object_, h->epoch_);
}

sim::Status HostRole::commit(sim::Task& task, ObjectHandle& hr, std::string image,
                             std::optional<sim::Time> alarm) {
  SIM_REQUIRE(&task.node() == &node_);
  sim::World& w = c_.world_;
  const DoClusterConfig& cfg = c_.config_;
  const std::shared_ptr<ObjectHandle> h = hr.shared_from_this();
  while (h->committing_ && h->state_ == ObjectHandle::State::kActive) {
    h->commit_waiters_.wait(task);
  }
  if (!h->active()) {
    ++c_.stats_.commits_refused;
    return sim::Error{sim::ErrorKind::kUnreachable,
                      h->object_ + " is no longer active on " + node_.name()};
  }
  if (fencing() && task.now() >= h->lease_expiry_) {
    ++c_.stats_.commits_refused;
    ++c_.stats_.leases_lost;
    deactivate(h, "lease expired", true);
    return sim::Error{sim::ErrorKind::kUnreachable,
                      "the lease of " + h->object_ + " on " + node_.name() + " expired"};
  }
  h->committing_ = true;
  struct Committing {
    std::shared_ptr<ObjectHandle> h;
    ~Committing() {
      h->committing_ = false;
      h->commit_waiters_.notify_all(h->node_->world());
    }
  } committing{h};
  const std::uint64_t seq = ++h->next_seq_;
  const std::uint64_t epoch = h->epoch_;
  const sim::Time sent = task.now();
  std::vector<sim::NodeId> replicas;
  for (const auto& [id, role] : c_.storage_) replicas.push_back(id);
  const int n = static_cast<int>(replicas.size());
  const int q = c_.quorum();
  const auto tally = [](const std::vector<ReplicaReply>& rs) {
    return tally_replies(rs, parse_write);
  };
  const std::string request =
      Writer().str(h->object_).u64(epoch).u64(seq).str(image).opt_time(alarm).take();
  const auto replies =
      ask_replicas(task, replicas, "do.write", request, cfg.rpc_timeout,
                   [&](const std::vector<ReplicaReply>& rs) {
                     const Tally tl = tally(rs);
                     return tl.accepted >= q || tl.rejected > 0 || tl.failed > n - q;
                   });
  const Tally tl = tally(replies);
  const auto failed = [&](const char* why) {
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_commit_failed();
      e.set_object(h->object_);
      e.set_instance(h->instance_);
      e.set_epoch(epoch);
      e.set_seq(seq);
      e.set_why(why);
      e.set_accepted(static_cast<std::uint64_t>(tl.accepted));
    });
  };
  if (h->state_ != ObjectHandle::State::kActive) {
    ++c_.stats_.commit_failures;
    failed("deactivated");
    return sim::Error{sim::ErrorKind::kIo,
                      h->object_ + " was deactivated during its commit; outcome unknown"};
  }
  if (tl.accepted >= q) {
    if (fencing() && task.now() >= h->lease_expiry_) {
      // Durable, but too late to count: a newer instance may exist by now.
      ++c_.stats_.commit_failures;
      ++c_.stats_.leases_lost;
      failed("lease_expired");
      deactivate(h, "lease expired during commit", true);
      return sim::Error{sim::ErrorKind::kIo, "the lease of " + h->object_ +
                                                 " expired during its commit; outcome unknown"};
    }
    if (alarm != h->committed_alarm_) h->alarm_settled_.reset();
    h->committed_alarm_ = alarm;
    h->committed_seq_ = seq;
    ++c_.stats_.commits;
    c_.commits_.push_back(
        DoCommit{h->object_, h->instance_, node_.name(), epoch, seq, sent, task.now(), alarm});
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_commit();
      e.set_object(h->object_);
      e.set_host(node_.id());
      e.set_instance(h->instance_);
      e.set_epoch(epoch);
      e.set_seq(seq);
      e.set_sent(sent);
      if (alarm) e.set_alarm(*alarm);
      e.set_bytes(image.size());
    });
    h->state_waiters_.notify_all(w);  // the alarm loop re-arms
    return sim::Status::Ok();
  }
  ++c_.stats_.commit_failures;
  if (tl.rejected > 0) {
    ++c_.stats_.fenced;
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_fenced();
      e.set_object(h->object_);
      e.set_side("host");
      e.set_at("write");
      e.set_instance(h->instance_);
      e.set_epoch(epoch);
      e.set_seq(seq);
      e.set_promised(tl.promised_max);
    });
    deactivate(h, "fenced by epoch " + std::to_string(tl.promised_max), false);
    return sim::Error{sim::ErrorKind::kIo, h->object_ + " was fenced by epoch " +
                                               std::to_string(tl.promised_max) +
                                               "; outcome unknown"};
  }
  failed("no_quorum");
  deactivate(h, "no storage quorum", false);
  return sim::Error{sim::ErrorKind::kIo, "no storage quorum for " + h->object_ + " (" +
                                             std::to_string(tl.accepted) + "/" + std::to_string(q) +
                                             "); outcome unknown"};
}

void HostRole::renew_loop(sim::Task& t) {
  const DoClusterConfig& cfg = c_.config_;
  // Spread the hosts' renewals over the period.
  t.sleep(static_cast<sim::Duration>(rng_.uniform01() * static_cast<double>(cfg.renew_every)));
  for (;;) {
    const sim::Time start = t.now();
    // Housekeeping: lapsed leases and idle objects.
    std::vector<std::shared_ptr<ObjectHandle>> active;
    for (const auto& [key, h] : objects_) {
      if (h->state_ == ObjectHandle::State::kActive) active.push_back(h);
    }
    for (const auto& h : active) {
      if (fencing() && start >= h->lease_expiry_) {
        ++c_.stats_.leases_lost;
        deactivate(h, "lease expired", true);
      } else if (cfg.idle_timeout > 0 && h->inflight_ == 0 && !h->alarm_running_ &&
                 !h->committing_ && start - h->last_event_ >= cfg.idle_timeout &&
                 !executor_.keeps_alive(*h)) {
        release(*h);
      }
    }
    std::vector<std::pair<std::string, std::uint64_t>> leases;
    for (const auto& [key, h] : objects_) {
      if (h->epoch_ > 0 && h->state_ != ObjectHandle::State::kDead) {
        leases.emplace_back(key, h->epoch_);
      }
    }
    if (!leases.empty() && c_.directory_) {
      Writer wr;
      wr.u64(leases.size());
      for (const auto& [key, epoch] : leases) wr.str(key).u64(epoch);
      const sim::Time sent = t.now();
      auto r = c_.world_.rpc().call(t, c_.directory_->node().id(), "do.renew", wr.take(),
                                    std::min(cfg.rpc_timeout, cfg.renew_every));
      if (r.ok()) {
        Reader rd(r.value());
        const std::uint64_t n = rd.u64();
        std::vector<bool> granted;
        for (std::uint64_t i = 0; i < n && rd.ok(); ++i) granted.push_back(rd.u8() != 0);
        if (rd.done() && granted.size() == leases.size()) {
          for (std::size_t i = 0; i < leases.size(); ++i) {
            auto it = objects_.find(leases[i].first);
            if (it == objects_.end() || it->second->epoch_ != leases[i].second) continue;
            const std::shared_ptr<ObjectHandle> h = it->second;
            if (granted[i]) {
              h->lease_expiry_ = std::max(h->lease_expiry_, sent + cfg.lease_duration);
            } else {
              ++c_.stats_.leases_lost;
              deactivate(h, "lease revoked by the directory", true);
            }
          }
        }
      }
    }
    const sim::Time next = start + cfg.renew_every;
    if (next > t.now()) t.sleep_until(next);
  }
}

void HostRole::alarm_loop(sim::Task& t, std::shared_ptr<ObjectHandle> h) {
  const DoClusterConfig& cfg = c_.config_;
  int retry = 0;
  // The alarm being retried (retrying_alarm), due again at retry_at.
  bool retrying = false;
  sim::Time retrying_alarm = 0;
  sim::Time retry_at = 0;
  while (h->state_ == ObjectHandle::State::kActive) {
    const std::optional<sim::Time> alarm = h->committed_alarm_;
    if (!alarm || alarm == h->alarm_settled_) {
      h->state_waiters_.wait(t);
      continue;
    }
    if (retrying && retrying_alarm != *alarm) {
      retry = 0;
      retrying = false;
    }
    const sim::Time due = retrying ? retry_at : *alarm;
    if (t.now() < due) {
      h->state_waiters_.wait(t, due);
      continue;
    }
    ++c_.stats_.alarms_fired;
    const auto alarm_event = [&](sim::ev::DoAlarm* e, const std::string& error) {
      e->set_object(h->object_);
      e->set_instance(h->instance_);
      e->set_scheduled(*alarm);
      e->set_retry(retry);
      e->set_error(error);
    };
    emit([&](sim::ev::Body& b) { alarm_event(b.mutable_do_alarm(), ""); });
    struct Running {
      std::shared_ptr<ObjectHandle> h;
      explicit Running(std::shared_ptr<ObjectHandle> handle) : h(std::move(handle)) {
        h->alarm_running_ = true;
        h->last_event_ = h->node_->world().now();
      }
      ~Running() {
        h->alarm_running_ = false;
        h->last_event_ = h->node_->world().now();
      }
    };
    sim::Status s = sim::Status::Ok();
    {
      Running running(h);
      s = executor_.alarm(t, *h, retry);
    }
    if (h->state_ != ObjectHandle::State::kActive) return;
    if (s.ok()) {
      retrying = false;
      retry = 0;
      // An ok that left the same alarm committed is done, not due again.
      if (h->committed_alarm_ == alarm) h->alarm_settled_ = alarm;
      continue;
    }
    ++c_.stats_.alarm_failures;
    emit(
        [&](sim::ev::Body& b) { alarm_event(b.mutable_do_alarm_failed(), s.error().to_string()); });
    if (retry >= cfg.alarm_retries_max) {
      emit([&](sim::ev::Body& b) { alarm_event(b.mutable_do_alarm_gave_up(), ""); });
      if (h->committed_alarm_ == alarm) h->alarm_settled_ = alarm;
      retrying = false;
      retry = 0;
      continue;
    }
    const double backoff = static_cast<double>(cfg.alarm_backoff_base) * std::ldexp(1.0, retry) *
                           (1.0 + 0.2 * rng_.uniform01());
    ++retry;
    retrying = true;
    retrying_alarm = *alarm;
    retry_at = t.now() + static_cast<sim::Duration>(backoff);
  }
}

}  // namespace do_internal
}  // namespace services
