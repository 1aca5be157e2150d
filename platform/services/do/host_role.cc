// A DO host: leases, activation (promise and recovery), commits, alarms, overload and idle
// eviction around the ObjectExecutor.
#include <algorithm>
#include <cmath>

#include "platform/services/do/do_internal.h"
#include "sim/faults.h"
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
  SIM_ASSERT(tl.accepted + tl.rejected + tl.failed == static_cast<int>(rs.size()));
  return tl;
}

Tally tally_promises(const std::vector<ReplicaReply>& rs) {
  return tally_replies(rs, [](const sim::Result<std::string>& reply) {
    const auto p = parse_promise(reply);
    return p ? std::optional(std::make_pair(p->status, p->promised)) : std::nullopt;
  });
}

Tally tally_writes(const std::vector<ReplicaReply>& rs) { return tally_replies(rs, parse_write); }

// A round is settled when a quorum accepted, a replica fenced us, or too many failed for a
// quorum to be possible.
bool settled(const Tally& tl, int replicas, int quorum) {
  return tl.accepted >= quorum || tl.rejected > 0 || tl.failed > replicas - quorum;
}

void fill_alarm(sim::ev::DoAlarm* e, const ObjectHandle& h, sim::Time scheduled, int retry,
                const std::string& error) {
  e->set_object(h.object());
  e->set_instance(h.instance());
  e->set_scheduled(scheduled);
  e->set_retry(retry);
  e->set_error(error);
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
    set_state(*h, ObjectHandle::State::kDead);
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
  const Handle h = a.handle;
  if (!take_token(*h)) {
    ++c_.stats_.overloaded;
    emit([&](sim::ev::Body& b) {
      b.mutable_do_overloaded()->set_object(key);
      b.mutable_do_overloaded()->set_instance(h->instance_);
    });
    return encode_activation(Activation::error(
        DoErrorKind::kOverloaded, key + " is over " +
                                      std::to_string(c_.config_.requests_per_second_max) +
                                      " requests per second"));
  }
  return run_request(t, h, std::move(body));
}

sim::Result<std::string> HostRole::run_request(sim::Task& t, const Handle& h, std::string body) {
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
  return encode_activation(Activation::error(kind, r.error().message));
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
    const Handle h = it->second;
    // Dead handles leave objects_ as they die: whatever is found here may still serve.
    SIM_ASSERT(h->state_ != ObjectHandle::State::kDead);
    if (h->state_ == ObjectHandle::State::kActive) {
      if (h->lease_valid()) return Activation::ok(h);
      ++c_.stats_.leases_lost;
      deactivate(h, "lease expired", true);
      continue;
    }
    // Activating: wait for that activation rather than racing it.
    h->state_waiters_.wait(t, t.now() + c_.config_.activation_wait_max);
  }
  return Activation::retry("activation of " + key + " on " + node_.name() + " did not settle");
}

void HostRole::fail_activation(const Handle& h, const std::string& why) {
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
  const Handle h(new ObjectHandle(this, &node_, key, c_.next_instance_++));
  objects_[key] = h;
  if (!c_.directory_) {
    fail_activation(h, "no directory");
    return Activation::retry("no DO directory");
  }
  if (std::optional<Activation> failed = acquire_lease(t, h)) return *std::move(failed);
  std::optional<Version> recovered;
  if (std::optional<Activation> failed = recover(t, h, &recovered)) return *std::move(failed);
  return start_active(t, h, recovered);
}

std::optional<HostRole::Activation> HostRole::acquire_lease(sim::Task& t, const Handle& h) {
  const std::string& key = h->object_;
  // Our view of the lease counts from the send time, so it ends no later than the directory's,
  // which counts from receipt.
  const sim::Time sent = t.now();
  const std::uint64_t nonce = (node_.incarnation() << 32) | ++acquire_nonce_;
  auto r = c_.world_.rpc().call(t, c_.directory_->node().id(), "do.acquire",
                                Writer().str(key).u64(nonce).take(), c_.config_.rpc_timeout);
  if (h->state_ != ObjectHandle::State::kActivating) {
    return Activation::retry("activation of " + key + " abandoned");
  }
  if (!r.ok()) {
    fail_activation(h, "directory: " + r.error().message);
    return Activation::retry("cannot acquire " + key + ": " + r.error().message);
  }
  Reader rd(r.value());
  const auto status = static_cast<AcquireStatus>(rd.u8());
  const std::uint64_t epoch = rd.u64();
  const auto holder = static_cast<sim::NodeId>(rd.i64());
  if (!rd.done()) {
    fail_activation(h, "malformed acquire reply");
    return Activation::retry("malformed acquire reply");
  }
  if (status != AcquireStatus::kGranted) {
    fail_activation(h, status == AcquireStatus::kHeld ? "held elsewhere" : "directory in grace");
    return Activation{nullptr, RequestStatus::kNotHere, holder, DoErrorKind::kRetryable,
                      key + " is held by another host"};
  }
  // A handle gets its epoch once; this host's activations of an object run one after another,
  // each with a grant newer than the last (the directory's epochs only grow).
  SIM_ASSERT(epoch > 0);
  SIM_ASSERT(h->epoch_ == 0);
  std::uint64_t& last = last_epoch_[key];
  SIM_ASSERT(epoch > last);
  last = epoch;
  h->epoch_ = epoch;
  h->lease_expiry_ = sent + c_.config_.lease_duration;
  check_lease_view(*h);
  return std::nullopt;
}

std::optional<HostRole::Activation> HostRole::recover(sim::Task& t, const Handle& h,
                                                      std::optional<Version>* recovered) {
  const std::string& key = h->object_;
  const std::uint64_t epoch = h->epoch_;
  const std::vector<sim::NodeId> asked = replicas();
  const int n = static_cast<int>(asked.size());
  const int q = c_.quorum();
  const auto replies = ask_replicas(
      t, asked, "do.promise", Writer().str(key).u64(epoch).take(), c_.config_.rpc_timeout,
      [&](const std::vector<ReplicaReply>& rs) { return settled(tally_promises(rs), n, q); });
  if (h->state_ != ObjectHandle::State::kActivating) {
    return Activation::retry("activation of " + key + " abandoned");
  }
  const Tally tl = tally_promises(replies);
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
    return Activation::retry(key + " was superseded by a newer activation");
  }
  if (tl.accepted < q) {
    fail_activation(
        h, "no storage quorum (" + std::to_string(tl.accepted) + "/" + std::to_string(q) + ")");
    return Activation::retry("no storage quorum for " + key);
  }
  if (fencing() && t.now() >= h->lease_expiry_) {
    fail_activation(h, "lease expired during activation");
    return Activation::retry("lease of " + key + " expired during activation");
  }
  // Stored versions only say something when replicas fence and keep what they acknowledge.
  const bool durable = fencing() && c_.config_.storage_sync;
  std::optional<PromiseReply> best;
  std::optional<Version> newest;
  for (const auto& rr : replies) {
    auto p = parse_promise(rr.reply);
    if (!p || p->status != ReplicaStatus::kAccepted) continue;
    // With fencing a replica accepts a promise only up to its own, which it then raises to it.
    if (fencing()) SIM_ASSERT(p->promised == epoch);
    if (!p->has_image) continue;
    // No write of this epoch exists yet, and a replica holding a newer one would have refused.
    if (durable) SIM_ASSERT(p->version.epoch < epoch);
    if (!newest || *newest < p->version) newest = p->version;
    if (!best || best->version < p->version) best = std::move(p);
  }
  // The recovered version is the newest of the quorum's.
  SIM_ASSERT(best.has_value() == newest.has_value());
  if (best) {
    SIM_ASSERT(best->version == *newest);
    h->recovered_image_ = std::move(best->image);
    h->recovered_alarm_ = best->alarm;
    *recovered = best->version;
  }
  return std::nullopt;
}

HostRole::Activation HostRole::start_active(sim::Task& t, const Handle& h,
                                            const std::optional<Version>& recovered) {
  sim::World& w = c_.world_;
  const DoClusterConfig& cfg = c_.config_;
  // The activation's epoch is one the directory granted and persisted.
  if (const std::optional<std::uint64_t> granted = c_.directory_->granted_epoch(h->object_)) {
    SIM_ASSERT(*granted >= h->epoch_);
  }
  h->committed_alarm_ = h->recovered_alarm_;
  set_state(*h, ObjectHandle::State::kActive);
  h->last_event_ = t.now();
  h->tokens_ = cfg.requests_burst_max > 0 ? cfg.requests_burst_max : cfg.requests_per_second_max;
  h->tokens_at_ = t.now();
  h->activation_index_ = c_.activations_.size();
  c_.activations_.push_back(DoActivation{h->object_, h->instance_, node_.name(), node_.id(),
                                         h->epoch_, t.now(), sim::kTimeMax, ""});
  ++c_.stats_.activations;
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_activate();
    e.set_object(h->object_);
    e.set_host(node_.id());
    e.set_epoch(h->epoch_);
    e.set_instance(h->instance_);
    if (recovered) {
      e.set_recovered(true);
      e.set_recovered_epoch(recovered->epoch);
      e.set_recovered_seq(recovered->seq);
    }
    if (h->recovered_alarm_) e.set_alarm(*h->recovered_alarm_);
  });
  h->state_waiters_.notify_all(w);
  w.spawn(node_, "do.alarm", [this, h](sim::Task& at) { alarm_loop(at, h); });
  return Activation::ok(h);
}

void HostRole::set_state(ObjectHandle& h, ObjectHandle::State to) {
  // A dead handle never comes back: a new activation is a new handle with a new epoch.
  SIM_ASSERT(h.state_ != ObjectHandle::State::kDead);
  SIM_ASSERT(to != ObjectHandle::State::kActivating);
  if (to == ObjectHandle::State::kActive) SIM_ASSERT(h.state_ == ObjectHandle::State::kActivating);
  h.state_ = to;
}

void HostRole::check_lease_view(const ObjectHandle& h) const {
  if (!c_.directory_) return;
  const std::optional<sim::Time> theirs =
      c_.directory_->lease_expiry(h.object_, node_.id(), h.epoch_);
  if (theirs) SIM_ASSERT(h.lease_expiry_ <= *theirs);
}

std::vector<sim::NodeId> HostRole::replicas() const {
  std::vector<sim::NodeId> ids;
  for (const auto& [id, role] : c_.storage_) ids.push_back(id);
  return ids;
}

void HostRole::deactivate(const Handle& h, const std::string& reason, bool lease_lost) {
  if (h->state_ == ObjectHandle::State::kDead) return;
  sim::World& w = c_.world_;
  const bool was_active = h->state_ == ObjectHandle::State::kActive;
  set_state(*h, ObjectHandle::State::kDead);
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
  const Handle h = hr.shared_from_this();
  deactivate(h, "released", false);
  give_back(h->object_, h->epoch_);
}

sim::Status HostRole::commit(sim::Task& task, ObjectHandle& hr, std::string image,
                             std::optional<sim::Time> alarm) {
  SIM_REQUIRE(&task.node() == &node_);
  SIM_REQUIRE(hr.role_ == this);
  const Handle h = hr.shared_from_this();
  if (std::optional<sim::Error> refused = wait_to_commit(task, h)) return *std::move(refused);
  // One commit in flight per object, and sequence numbers with no gaps: every earlier attempt of
  // this activation was acknowledged (a failed one deactivates it).
  SIM_ASSERT(!h->committing_);
  SIM_ASSERT(h->next_seq_ == h->committed_seq_);
  h->committing_ = true;
  struct Committing {
    std::shared_ptr<ObjectHandle> h;
    ~Committing() {
      h->committing_ = false;
      h->commit_waiters_.notify_all(h->node_->world());
    }
  } committing{h};
  const CommitAttempt a{h->epoch_, ++h->next_seq_, task.now()};
  SIM_ASSERT(a.epoch > 0);
  const Tally tl = tally_writes(write_replicas(task, *h, a, image, alarm));
  if (h->state_ != ObjectHandle::State::kActive) {
    ++c_.stats_.commit_failures;
    emit_commit_failed(*h, a, "deactivated", tl);
    return sim::Error{sim::ErrorKind::kIo,
                      h->object_ + " was deactivated during its commit; outcome unknown"};
  }
  if (tl.accepted >= c_.quorum()) return acknowledge(task, h, a, tl, image.size(), alarm);
  return fail_commit(h, a, tl);
}

std::optional<sim::Error> HostRole::wait_to_commit(sim::Task& task, const Handle& h) {
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
  return std::nullopt;
}

std::vector<ReplicaReply> HostRole::write_replicas(sim::Task& task, const ObjectHandle& h,
                                                   const CommitAttempt& a, const std::string& image,
                                                   std::optional<sim::Time> alarm) {
  const std::vector<sim::NodeId> asked = replicas();
  const int n = static_cast<int>(asked.size());
  const int q = c_.quorum();
  const std::string request =
      Writer().str(h.object_).u64(a.epoch).u64(a.seq).str(image).opt_time(alarm).take();
  return ask_replicas(
      task, asked, "do.write", request, c_.config_.rpc_timeout,
      [&](const std::vector<ReplicaReply>& rs) { return settled(tally_writes(rs), n, q); });
}

void HostRole::emit_commit_failed(const ObjectHandle& h, const CommitAttempt& a, const char* why,
                                  const Tally& tl) {
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_commit_failed();
    e.set_object(h.object_);
    e.set_instance(h.instance_);
    e.set_epoch(a.epoch);
    e.set_seq(a.seq);
    e.set_why(why);
    e.set_accepted(static_cast<std::uint64_t>(tl.accepted));
  });
}

sim::Status HostRole::acknowledge(sim::Task& task, const Handle& h, const CommitAttempt& a,
                                  const Tally& tl, std::size_t bytes,
                                  std::optional<sim::Time> alarm) {
  SIM_ASSERT(tl.accepted >= c_.quorum());
  if (fencing() && task.now() >= h->lease_expiry_) {
    // Durable, but too late to count: a newer instance may exist by now.
    ++c_.stats_.commit_failures;
    ++c_.stats_.leases_lost;
    emit_commit_failed(*h, a, "lease_expired", tl);
    deactivate(h, "lease expired during commit", true);
    return sim::Error{sim::ErrorKind::kIo,
                      "the lease of " + h->object_ + " expired during its commit; outcome unknown"};
  }
  // The next link of this activation's chain, by the instance that still holds the epoch (and,
  // with fencing, within a lease the directory has not given to anyone else).
  SIM_ASSERT(h->state_ == ObjectHandle::State::kActive);
  SIM_ASSERT(a.epoch == h->epoch_);
  SIM_ASSERT(a.seq == h->committed_seq_ + 1);
  check_lease_view(*h);
  if (alarm != h->committed_alarm_) h->alarm_settled_.reset();
  h->committed_alarm_ = alarm;
  h->committed_seq_ = a.seq;
  ++c_.stats_.commits;
  c_.commits_.push_back(
      DoCommit{h->object_, h->instance_, node_.name(), a.epoch, a.seq, a.sent, task.now(), alarm});
  emit([&](sim::ev::Body& b) {
    auto& e = *b.mutable_do_commit();
    e.set_object(h->object_);
    e.set_host(node_.id());
    e.set_instance(h->instance_);
    e.set_epoch(a.epoch);
    e.set_seq(a.seq);
    e.set_sent(a.sent);
    if (alarm) e.set_alarm(*alarm);
    e.set_bytes(bytes);
  });
  h->state_waiters_.notify_all(c_.world_);  // the alarm loop re-arms
  return sim::Status::Ok();
}

sim::Status HostRole::fail_commit(const Handle& h, const CommitAttempt& a, const Tally& tl) {
  const int q = c_.quorum();
  SIM_ASSERT(tl.accepted < q);
  ++c_.stats_.commit_failures;
  if (tl.rejected > 0) {
    ++c_.stats_.fenced;
    emit([&](sim::ev::Body& b) {
      auto& e = *b.mutable_do_fenced();
      e.set_object(h->object_);
      e.set_side("host");
      e.set_at("write");
      e.set_instance(h->instance_);
      e.set_epoch(a.epoch);
      e.set_seq(a.seq);
      e.set_promised(tl.promised_max);
    });
    deactivate(h, "fenced by epoch " + std::to_string(tl.promised_max), false);
    return sim::Error{sim::ErrorKind::kIo, h->object_ + " was fenced by epoch " +
                                               std::to_string(tl.promised_max) +
                                               "; outcome unknown"};
  }
  emit_commit_failed(*h, a, "no_quorum", tl);
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
    expire_and_evict(start);
    renew_leases(t);
    const sim::Time next = start + cfg.renew_every;
    if (next > t.now()) t.sleep_until(next);
  }
}

void HostRole::expire_and_evict(sim::Time now) {
  const DoClusterConfig& cfg = c_.config_;
  std::vector<Handle> active;
  for (const auto& [key, h] : objects_) {
    if (h->state_ == ObjectHandle::State::kActive) active.push_back(h);
  }
  for (const auto& h : active) {
    if (fencing() && now >= h->lease_expiry_) {
      ++c_.stats_.leases_lost;
      deactivate(h, "lease expired", true);
    } else if (h->inflight_ == 0 && !h->alarm_running_ && !h->committing_ &&
               !executor_.keeps_alive(*h)) {
      const bool idle = cfg.idle_timeout > 0 && now - h->last_event_ >= cfg.idle_timeout;
      // The platform may evict an object whenever it likes (memory, a deploy): in-memory state
      // must never be trusted across requests. Only quiescent objects, so no request fails.
      const bool evicted = !idle && cfg.evict_fault_p > 0 && c_.world_.faults().sites_enabled() &&
                           c_.world_.faults().fire("do.evict_object", cfg.evict_fault_p);
      if (idle || evicted) release(*h);
    }
  }
}

void HostRole::renew_leases(sim::Task& t) {
  const DoClusterConfig& cfg = c_.config_;
  std::vector<std::pair<std::string, std::uint64_t>> leases;
  for (const auto& [key, h] : objects_) {
    if (h->epoch_ > 0 && h->state_ != ObjectHandle::State::kDead) {
      leases.emplace_back(key, h->epoch_);
    }
  }
  if (leases.empty() || !c_.directory_) return;
  Writer wr;
  wr.u64(leases.size());
  for (const auto& [key, epoch] : leases) wr.str(key).u64(epoch);
  const sim::Time sent = t.now();
  auto r = c_.world_.rpc().call(t, c_.directory_->node().id(), "do.renew", wr.take(),
                                std::min(cfg.rpc_timeout, cfg.renew_every));
  if (!r.ok()) return;
  Reader rd(r.value());
  const std::uint64_t n = rd.u64();
  std::vector<bool> granted;
  for (std::uint64_t i = 0; i < n && rd.ok(); ++i) granted.push_back(rd.u8() != 0);
  if (!rd.done() || granted.size() != leases.size()) return;
  for (std::size_t i = 0; i < leases.size(); ++i) {
    auto it = objects_.find(leases[i].first);
    if (it == objects_.end() || it->second->epoch_ != leases[i].second) continue;
    const Handle h = it->second;
    if (granted[i]) {
      h->lease_expiry_ = std::max(h->lease_expiry_, sent + cfg.lease_duration);
      check_lease_view(*h);
    } else {
      ++c_.stats_.leases_lost;
      deactivate(h, "lease revoked by the directory", true);
    }
  }
}

void HostRole::alarm_loop(sim::Task& t, Handle h) {
  AlarmRetry retry;
  while (h->state_ == ObjectHandle::State::kActive) {
    const std::optional<sim::Time> alarm = h->committed_alarm_;
    if (!alarm || alarm == h->alarm_settled_) {
      h->state_waiters_.wait(t);
      continue;
    }
    if (retry.active && retry.alarm != *alarm) retry = AlarmRetry{};
    const sim::Time due = retry.active ? retry.at : *alarm;
    if (t.now() < due) {
      h->state_waiters_.wait(t, due);
      continue;
    }
    const sim::Status s = fire_alarm(t, h, *alarm, retry.count);
    if (h->state_ != ObjectHandle::State::kActive) return;
    after_alarm(t, h, alarm, s, &retry);
  }
}

sim::Status HostRole::fire_alarm(sim::Task& t, const Handle& h, sim::Time alarm, int retry) {
  // One alarm() at a time per object (this activation's loop is the only caller), and never
  // more retries than configured.
  SIM_ASSERT(!h->alarm_running_);
  SIM_ASSERT(retry >= 0);
  SIM_ASSERT(retry <= c_.config_.alarm_retries_max);
  ++c_.stats_.alarms_fired;
  emit([&](sim::ev::Body& b) { fill_alarm(b.mutable_do_alarm(), *h, alarm, retry, ""); });
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
  } running(h);
  return executor_.alarm(t, *h, retry);
}

void HostRole::after_alarm(sim::Task& t, const Handle& h, std::optional<sim::Time> alarm,
                           const sim::Status& s, AlarmRetry* retry) {
  const DoClusterConfig& cfg = c_.config_;
  if (s.ok()) {
    *retry = AlarmRetry{};
    // An ok that left the same alarm committed is done, not due again.
    if (h->committed_alarm_ == alarm) h->alarm_settled_ = alarm;
    return;
  }
  ++c_.stats_.alarm_failures;
  emit([&](sim::ev::Body& b) {
    fill_alarm(b.mutable_do_alarm_failed(), *h, *alarm, retry->count, s.error().to_string());
  });
  if (retry->count >= cfg.alarm_retries_max) {
    emit([&](sim::ev::Body& b) {
      fill_alarm(b.mutable_do_alarm_gave_up(), *h, *alarm, retry->count, "");
    });
    if (h->committed_alarm_ == alarm) h->alarm_settled_ = alarm;
    *retry = AlarmRetry{};
    return;
  }
  const double backoff = static_cast<double>(cfg.alarm_backoff_base) *
                         std::ldexp(1.0, retry->count) * (1.0 + 0.2 * rng_.uniform01());
  ++retry->count;
  retry->active = true;
  retry->alarm = *alarm;
  retry->at = t.now() + static_cast<sim::Duration>(backoff);
}

}  // namespace do_internal
}  // namespace services
