// DoCluster: roles, knobs and the caller side (routing with a per-caller cache and retries).
#include "platform/services/do/do_cluster.h"

#include <charconv>

#include "platform/services/do/do_internal.h"
#include "sim/assert.h"
#include "sim/rpc.h"

namespace services {

using do_internal::Reader;
using do_internal::RequestStatus;
using do_internal::Writer;

const char* do_error_kind_name(DoErrorKind kind) {
  switch (kind) {
    case DoErrorKind::kRetryable:
      return "retryable";
    case DoErrorKind::kOverloaded:
      return "overloaded";
    case DoErrorKind::kUnreachable:
      return "unreachable";
    case DoErrorKind::kTimeout:
      return "timeout";
    case DoErrorKind::kRemote:
      return "remote";
  }
  return "?";
}

std::string object_key(std::string_view ns, std::string_view id_hex) {
  std::string key(ns);
  key += '/';
  key += id_hex;
  return key;
}

// ---- Knobs ----

// ---- DoCluster ----

DoCluster::DoCluster(sim::World& world, DoClusterConfig config)
    : world_(world), config_(std::move(config)) {}

DoCluster::~DoCluster() {
  for (const auto& [id, hook] : crash_hooks_) {
    sim::Node& node = world_.node(id);
    node.remove_crash_hook(hook);
    node.on_boot(nullptr);
  }
}

int DoCluster::quorum() const {
  const int n = static_cast<int>(storage_.size());
  if (config_.storage_quorum > 0) return config_.storage_quorum;
  const int q = n / 2 + 1;
  // Any two quorums intersect: the durability argument rests on it.
  SIM_ASSERT(2 * q > n);
  return q;
}

void DoCluster::add_role(sim::Node& node) {
  if (crash_hooks_.count(node.id()) == 0) {
    crash_hooks_[node.id()] = node.add_crash_hook([this](sim::Node& n) {
      if (directory_ && &directory_->node() == &n) directory_->crash();
      if (auto it = storage_.find(n.id()); it != storage_.end()) it->second->crash();
      if (auto it = hosts_.find(n.id()); it != hosts_.end()) it->second->crash();
    });
  }
  node.on_boot([this](sim::Node& n) { boot(n); });
}

void DoCluster::add_directory(sim::Node& node) {
  SIM_REQUIRE(directory_ == nullptr);
  directory_ = std::make_unique<do_internal::DirectoryRole>(*this, node);
  add_role(node);
}

void DoCluster::add_storage(sim::Node& node) {
  SIM_REQUIRE(storage_.count(node.id()) == 0);
  storage_[node.id()] = std::make_unique<do_internal::StorageRole>(*this, node);
  add_role(node);
}

void DoCluster::add_host(sim::Node& node, ObjectExecutor& executor) {
  SIM_REQUIRE(hosts_.count(node.id()) == 0);
  hosts_[node.id()] = std::make_unique<do_internal::HostRole>(*this, node, executor);
  add_role(node);
}

void DoCluster::boot(sim::Node& node) {
  if (auto it = storage_.find(node.id()); it != storage_.end()) it->second->boot();
  if (directory_ && &directory_->node() == &node) directory_->boot();
  if (auto it = hosts_.find(node.id()); it != hosts_.end()) it->second->boot();
}

DoCluster::CallerCache& DoCluster::cache_of(const sim::Node& caller) {
  CallerCache& cache = caches_[caller.id()];
  if (cache.incarnation != caller.incarnation()) {
    // The cache is the PoP's memory: a crash emptied it.
    cache.hosts.clear();
    cache.incarnation = caller.incarnation();
  }
  return cache;
}

DoResult DoCluster::call(sim::Task& task, std::string_view object, std::string request) {
  ++stats_.calls;
  const sim::Node& caller = task.node();
  const std::string key(object);
  DoError last{DoErrorKind::kUnreachable, "no attempt made"};
  std::vector<sim::NodeId> avoid;  // hosts that refused this call's connection
  const int attempts = std::max(1, config_.call_attempts_max);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) task.sleep(config_.call_backoff_base << std::min(attempt - 1, 20));
    sim::NodeId host = sim::kNoNode;
    if (auto it = cache_of(caller).hosts.find(key); it != cache_of(caller).hosts.end()) {
      host = it->second;
    }
    if (host == sim::kNoNode) {
      if (!directory_) return DoError{DoErrorKind::kUnreachable, "no directory node"};
      const std::optional<sim::NodeId> located = locate(task, key, avoid, &last);
      if (!located) continue;
      host = *located;
      cache_of(caller).hosts[key] = host;
    }
    if (std::optional<DoResult> done = send_request(task, key, host, request, &avoid, &last)) {
      return *std::move(done);
    }
  }
  return last;
}

std::optional<sim::NodeId> DoCluster::locate(sim::Task& task, const std::string& key,
                                             const std::vector<sim::NodeId>& avoid,
                                             DoError* error) {
  Writer w;
  w.str(key).u64(avoid.size());
  for (const sim::NodeId a : avoid) w.i64(a);
  auto r =
      world_.rpc().call(task, directory_->node().id(), "do.locate", w.take(), config_.rpc_timeout);
  if (!r.ok()) {
    *error = DoError{DoErrorKind::kUnreachable, "directory: " + r.error().message};
    return std::nullopt;
  }
  Reader rd(r.value());
  const auto host = static_cast<sim::NodeId>(rd.i64());
  rd.u8();  // live lease or a new placement: the same to the caller
  if (!rd.ok() || hosts_.count(host) == 0) {
    *error = DoError{DoErrorKind::kRetryable, "directory: malformed locate reply"};
    return std::nullopt;
  }
  return host;
}

std::optional<DoResult> DoCluster::send_request(sim::Task& task, const std::string& key,
                                                sim::NodeId host, const std::string& request,
                                                std::vector<sim::NodeId>* avoid, DoError* error) {
  // The caller's cache and the directory's answers only ever name hosts.
  SIM_ASSERT(hosts_.count(host) == 1);
  const std::uint64_t id = next_request_++;
  auto r =
      world_.rpc().call(task, host, "do.request", Writer().u64(id).str(key).str(request).take(),
                        config_.request_timeout);
  if (!r.ok()) {
    cache_of(task.node()).hosts.erase(key);
    switch (r.error().kind) {
      case sim::ErrorKind::kUnreachable:
        avoid->push_back(host);
        *error = DoError{DoErrorKind::kUnreachable, r.error().message};
        return std::nullopt;
      case sim::ErrorKind::kTimeout:
        return DoError{DoErrorKind::kTimeout, r.error().message};
      default:
        return DoError{DoErrorKind::kRemote, r.error().message};
    }
  }
  Reader rd(r.value());
  const auto status = static_cast<RequestStatus>(rd.u8());
  if (status == RequestStatus::kOk) {
    std::string body = rd.str();
    if (rd.done()) return body;
    return DoError{DoErrorKind::kRemote, "malformed reply from " + world_.node(host).name()};
  }
  if (status == RequestStatus::kNotHere) {
    const auto hint = static_cast<sim::NodeId>(rd.i64());
    cache_of(task.node()).hosts.erase(key);
    if (hint != host && hosts_.count(hint) != 0) cache_of(task.node()).hosts[key] = hint;
    *error = DoError{DoErrorKind::kRetryable, key + " is not on " + world_.node(host).name()};
    return std::nullopt;
  }
  const auto kind = static_cast<DoErrorKind>(rd.u8());
  std::string message = rd.str();
  if (!rd.done() || kind > DoErrorKind::kRemote) {
    return DoError{DoErrorKind::kRemote, "malformed reply from " + world_.node(host).name()};
  }
  if (kind == DoErrorKind::kRetryable) {
    cache_of(task.node()).hosts.erase(key);
    *error = DoError{kind, std::move(message)};
    return std::nullopt;
  }
  return DoError{kind, std::move(message)};
}

std::shared_ptr<ObjectHandle> DoCluster::TEST_active(const sim::Node& host,
                                                     std::string_view object) const {
  auto it = hosts_.find(host.id());
  if (it == hosts_.end()) return nullptr;
  return it->second->find(object);
}

std::optional<sim::NodeId> DoCluster::TEST_cached_host(const sim::Node& caller,
                                                       std::string_view object) const {
  auto it = caches_.find(caller.id());
  if (it == caches_.end() || it->second.incarnation != caller.incarnation()) return std::nullopt;
  auto h = it->second.hosts.find(object);
  if (h == it->second.hosts.end()) return std::nullopt;
  return h->second;
}

}  // namespace services
