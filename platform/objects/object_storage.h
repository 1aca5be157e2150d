// objects::ObjectStorage: the storage of one Durable Object instance, both APIs (KV and SQL), on
// a SQLite database that is the instance's working copy in its host's memory.
//
// Durability is not here: the working copy starts from the image the DO cluster recovered
// (services/do_cluster.h: the latest image acknowledged by a quorum of storage nodes), and every
// batch of writes becomes durable only when the host commits a new image to that quorum. So the
// instance's writes accumulate in one open SQLite transaction (the implicit transaction that
// makes puts with no await between them atomic: a whole JS run's writes are one batch), and
// take_image() commits it locally and returns the full database image to replicate. If the
// replication fails, the host discards the instance and the working copy with it.
//
// Layout, as the real platform's SQLite-backed objects: the KV API lives in table _cf_KV (key
// TEXT, value BLOB: V8 structured clones made by the JS side), the alarm in _cf_METADATA. User
// SQL cannot touch _cf_* tables nor run transaction statements (BEGIN, COMMIT, SAVEPOINT...):
// storage.transaction()/transactionSync() do that.
//
// The JS side (object_storage.js, DurableObjectStorage) calls call() synchronously through
// host.callSync(InstanceTarget::kStorage, ...); see call() for the methods.
//
// Single-threaded; never suspends.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "platform/js/isolate.h"
#include "sim/result.h"

struct sqlite3;

namespace objects {

class ObjectStorage {
 public:
  // A working copy of `image` ("" for a new, empty object). Errors: a corrupt image.
  static sim::Result<std::unique_ptr<ObjectStorage>> open(std::string_view image);
  ~ObjectStorage();
  ObjectStorage(const ObjectStorage&) = delete;
  ObjectStorage& operator=(const ObjectStorage&) = delete;

  // The storage methods of the JS API. request.json carries the arguments:
  //   get {keys}                      -> {values: [[key, offset, length]...]} + value bytes
  //   put {entries: [[key, length]]}  + concatenated value bytes -> null
  //   delete {keys}                   -> {deleted: n}
  //   list {start, startAfter, end, prefix, reverse, limit} -> as get
  //   deleteAll, begin, release, rollback -> null
  //   getAlarm -> {time: unix ms | null}; setAlarm {time}; deleteAlarm
  //   sql {query, bindings} -> {columns, rows, rowsRead, rowsWritten} (blobs as {"$blob": b64})
  //   dbsize -> {size}
  // Errors come back as failed replies (JS exceptions).
  js::CallReply call(const js::CallRequest& request);

  // Writes since the last take_image() (or open()).
  bool dirty() const { return dirty_; }
  // A storage.transaction() is open: its writes cannot be committed yet.
  bool in_transaction() const { return savepoints_ > 0; }
  // Commits the batch locally and returns the full database image. REQUIRES: !in_transaction().
  std::string take_image();
  // Discards the writes since the last take_image().
  void discard_batch();
  // The alarm as stored (Unix ms), in the current (possibly uncommitted) state.
  std::optional<double> alarm() const;
  std::uint64_t size_bytes() const;

 private:
  explicit ObjectStorage(sqlite3* db) : db_(db) {}
  // The storage methods, one each (call() documents them), found by name in a table. `args` is
  // request.json parsed; a method may throw json errors, which call() turns into failed replies.
  using Method = js::CallReply (ObjectStorage::*)(const js::CallRequest& request,
                                                  nlohmann::json& args);
  static Method method(std::string_view name);
  js::CallReply call_checked(const js::CallRequest& request);
  js::CallReply get(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply put(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply delete_keys(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply list(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply delete_all(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply begin(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply release(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply rollback(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply get_alarm(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply set_alarm(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply delete_alarm(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply dbsize(const js::CallRequest& request, nlohmann::json& args);
  js::CallReply sql(const js::CallRequest& request, nlohmann::json& args);
  // release and rollback: closes the innermost storage.transaction().
  js::CallReply end_transaction(bool rollback);
  // setAlarm (`args` holds the time) and deleteAlarm (`args` is null).
  js::CallReply write_alarm(const nlohmann::json* args);

  sim::Status exec(const char* sql);
  // Opens the implicit transaction (the batch) if needed.
  sim::Status begin_batch();
  // Before a write: the batch is open and will need a commit.
  sim::Status begin_write();

  sqlite3* db_;
  bool batch_open_ = false;
  bool dirty_ = false;
  int savepoints_ = 0;
};

}  // namespace objects
