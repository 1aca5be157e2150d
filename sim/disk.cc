#include "sim/disk.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "sim/assert.h"
#include "sim/events.h"
#include "sim/node.h"
#include "sim/world.h"

namespace sim {
namespace {

constexpr std::uint64_t kSectorBytes = 512;
constexpr int kPathBytesMax = 512;
// The Unix epoch as a Julian day, in days and in milliseconds: virtual time 0 is 1970-01-01.
constexpr double kUnixEpochJulianDays = 2440587.5;
constexpr sqlite3_int64 kUnixEpochJulianMs = 210866760000000LL;
constexpr double kNanosPerDay = 86400.0 * 1e9;

using Bytes = std::vector<std::uint8_t>;

void write_at(Bytes& bytes, std::uint64_t offset, const std::uint8_t* data, std::size_t n) {
  if (n == 0) return;
  if (bytes.size() < offset + n) bytes.resize(offset + n);  // a hole reads as zeros, as on POSIX
  std::memcpy(bytes.data() + offset, data, n);
}

// SQLite hands the VFS absolute names already; a relative one is anchored at the root so that
// "app.db" and "/app.db" are one file.
std::string full_path(const char* name) {
  std::string path = name;
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  return path;
}

}  // namespace

struct Disk::Impl : std::enable_shared_from_this<Disk::Impl> {
  // One pending operation, kept until xSync makes it durable or a crash drops it.
  struct PendingOp {
    bool truncate = false;
    std::uint64_t seq = 0;     // issue order across the disk: picks the write a crash tears
    std::uint64_t offset = 0;  // for a truncation, the new size
    Bytes data;
  };

  struct File {
    Bytes durable;
    Bytes current;  // `durable` with `pending` applied in order: what reads see
    std::vector<PendingOp> pending;
    // Opened with DELETEONCLOSE: unlinked at once on a real disk, so nothing survives a crash.
    bool temporary = false;
    // Lock bookkeeping across this file's handles, as the POSIX VFS keeps it per inode.
    int lock = SQLITE_LOCK_NONE;  // the strongest lock any handle holds
    int shared_holders = 0;       // handles at SHARED or stronger
  };

  // What SQLite's sqlite3_file points at. A handle pins its File, so a file deleted while open
  // stays usable through it (POSIX unlink semantics).
  struct Handle {
    std::shared_ptr<Impl> impl;
    std::shared_ptr<File> file;
    std::string path;
    std::uint64_t generation = 0;  // the disk's generation at open: a crash makes it stale
    int lock = SQLITE_LOCK_NONE;
    bool read_only = false;
    bool delete_on_close = false;
  };

  struct OsFile {
    sqlite3_file base;  // first: SQLite passes a pointer to it
    Handle* handle;
  };

  Impl(Disk* d, Rng r) : disk(d), rng(std::move(r)) {}

  // A handle from before the last crash, or of a destroyed disk, is dead. With the power cut, a
  // live handle fails too, but becomes dead only at the crash.
  bool usable(const Handle& h) const {
    return disk != nullptr && h.generation == generation && powered;
  }

  // Called before every operation that changes the disk. False: fail it, the power is off.
  bool admit_mutation() {
    if (!powered) return false;
    if (ops_until_cut.has_value()) {
      if (*ops_until_cut == 0) {
        powered = false;
        ops_until_cut.reset();
        return false;
      }
      --*ops_until_cut;
    }
    return true;
  }

  std::string temp_path() {
    for (;;) {
      std::string path = "/tmp-" + std::to_string(next_temp++);
      if (!files.contains(path)) return path;
    }
  }

  // --- sqlite3_vfs ---

  int open(const char* name, sqlite3_file* out, int flags, int* out_flags) {
    out->pMethods = nullptr;  // SQLite calls xClose only when this is set
    if (disk == nullptr) return SQLITE_CANTOPEN;
    if (!powered) return SQLITE_IOERR;
    std::string path = name != nullptr ? full_path(name) : temp_path();
    auto it = files.find(path);
    if (it != files.end() && (flags & SQLITE_OPEN_EXCLUSIVE) != 0) return SQLITE_CANTOPEN;
    if (it == files.end()) {
      if ((flags & SQLITE_OPEN_CREATE) == 0) return SQLITE_CANTOPEN;
      if (!admit_mutation()) return SQLITE_IOERR;
      it = files.emplace(path, std::make_shared<File>()).first;
    }
    const bool delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
    if (delete_on_close) it->second->temporary = true;
    auto* os = reinterpret_cast<OsFile*>(out);
    os->handle = new Handle{.impl = shared_from_this(),
                            .file = it->second,
                            .path = std::move(path),
                            .generation = generation,
                            .lock = SQLITE_LOCK_NONE,
                            .read_only = (flags & SQLITE_OPEN_READWRITE) == 0,
                            .delete_on_close = delete_on_close};
    out->pMethods = &kIoMethods;
    if (out_flags != nullptr) *out_flags = flags;
    return SQLITE_OK;
  }

  int remove(const char* name) {
    if (disk == nullptr || !powered) return SQLITE_IOERR_DELETE;
    auto it = files.find(full_path(name));
    if (it == files.end()) return SQLITE_IOERR_DELETE_NOENT;
    if (!admit_mutation()) return SQLITE_IOERR_DELETE;
    files.erase(it);  // pending operations go with it; open handles keep the File
    return SQLITE_OK;
  }

  int access(const char* name, int flags, int* out) {
    *out = 0;
    if (disk == nullptr || !powered) return SQLITE_IOERR_ACCESS;
    auto it = files.find(full_path(name));
    if (it == files.end()) return SQLITE_OK;
    // As the POSIX VFS: an empty file does not "exist", so an empty journal is never hot.
    *out = flags == SQLITE_ACCESS_EXISTS ? !it->second->current.empty() : 1;
    return SQLITE_OK;
  }

  int current_time_ms(sqlite3_int64* out) {
    if (disk == nullptr) return SQLITE_ERROR;
    *out = kUnixEpochJulianMs + disk->node().world().now() / kMillisecond;
    return SQLITE_OK;
  }

  int current_time_days(double* out) {
    if (disk == nullptr) return SQLITE_ERROR;
    *out = kUnixEpochJulianDays + static_cast<double>(disk->node().world().now()) / kNanosPerDay;
    return SQLITE_OK;
  }

  void randomness(int n, char* out) {
    for (int i = 0; i < n; i += 8) {
      const std::uint64_t word = rng.next_u64();
      std::memcpy(out + i, &word, static_cast<std::size_t>(std::min(8, n - i)));
    }
  }

  // --- sqlite3_io_methods ---

  static int close(Handle* h) {
    Impl& impl = *h->impl;
    // A dead handle's locks were wiped by the crash, and its temp file is gone already.
    if (h->generation == impl.generation) {
      impl.release(*h, SQLITE_LOCK_NONE);
      if (h->delete_on_close && impl.powered) {
        auto it = impl.files.find(h->path);
        if (it != impl.files.end() && it->second == h->file) impl.files.erase(it);
      }
    }
    delete h;
    return SQLITE_OK;
  }

  int read(Handle& h, void* buf, int amount, sqlite3_int64 offset) {
    SIM_REQUIRE(amount >= 0);
    SIM_REQUIRE(offset >= 0);
    if (!usable(h)) return SQLITE_IOERR;
    const Bytes& bytes = h.file->current;
    auto* out = static_cast<std::uint8_t*>(buf);
    const auto want = static_cast<std::size_t>(amount);
    const auto at = static_cast<std::size_t>(offset);
    const std::size_t n = at < bytes.size() ? std::min(want, bytes.size() - at) : 0;
    if (n > 0) std::memcpy(out, bytes.data() + at, n);
    if (n < want) {
      // SQLite relies on the zero fill: a short read of a fresh page must read as zeros.
      std::memset(out + n, 0, want - n);
      return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
  }

  int write(Handle& h, const void* buf, int amount, sqlite3_int64 offset) {
    SIM_REQUIRE(amount >= 0);
    SIM_REQUIRE(offset >= 0);
    if (!usable(h)) return SQLITE_IOERR;
    if (h.read_only) return SQLITE_IOERR_WRITE;
    if (!admit_mutation()) return SQLITE_IOERR;
    const auto* data = static_cast<const std::uint8_t*>(buf);
    PendingOp op{.truncate = false,
                 .seq = next_seq++,
                 .offset = static_cast<std::uint64_t>(offset),
                 .data = Bytes(data, data + amount)};
    write_at(h.file->current, op.offset, op.data.data(), op.data.size());
    h.file->pending.push_back(std::move(op));
    ++disk->stats_.writes;
    disk->stats_.bytes_written += static_cast<std::uint64_t>(amount);
    return SQLITE_OK;
  }

  int truncate(Handle& h, sqlite3_int64 size) {
    SIM_REQUIRE(size >= 0);
    if (!usable(h)) return SQLITE_IOERR;
    if (h.read_only) return SQLITE_IOERR_TRUNCATE;
    if (!admit_mutation()) return SQLITE_IOERR;
    h.file->current.resize(static_cast<std::size_t>(size));
    h.file->pending.push_back(PendingOp{.truncate = true,
                                        .seq = next_seq++,
                                        .offset = static_cast<std::uint64_t>(size),
                                        .data = {}});
    return SQLITE_OK;
  }

  int sync(Handle& h) {
    if (!usable(h)) return SQLITE_IOERR;
    if (!admit_mutation()) return SQLITE_IOERR;
    File& f = *h.file;
    // Replaying the log, rather than copying `current`, costs the bytes written, not the file.
    for (const PendingOp& op : f.pending) {
      if (op.truncate) {
        f.durable.resize(op.offset);
      } else {
        write_at(f.durable, op.offset, op.data.data(), op.data.size());
      }
    }
    f.pending.clear();
    SIM_ASSERT(f.durable.size() == f.current.size());
    ++disk->stats_.syncs;
    return SQLITE_OK;
  }

  int file_size(Handle& h, sqlite3_int64* out) {
    *out = 0;
    if (!usable(h)) return SQLITE_IOERR;
    *out = static_cast<sqlite3_int64>(h.file->current.size());
    return SQLITE_OK;
  }

  // The POSIX VFS's rules (unixLock), with the per-inode state kept in File.
  int lock(Handle& h, int level) {
    if (!usable(h)) return SQLITE_IOERR;
    File& f = *h.file;
    if (h.lock >= level) return SQLITE_OK;
    SIM_REQUIRE(level != SQLITE_LOCK_PENDING);  // SQLite takes PENDING only on the way to EXCLUSIVE
    SIM_REQUIRE(level == SQLITE_LOCK_SHARED || h.lock >= SQLITE_LOCK_SHARED);
    // Another handle is writing (PENDING or more), or wants to (RESERVED) while we want to too.
    if (h.lock != f.lock && (f.lock >= SQLITE_LOCK_PENDING || level > SQLITE_LOCK_SHARED)) {
      return SQLITE_BUSY;
    }
    if (level == SQLITE_LOCK_SHARED) {
      SIM_ASSERT(f.lock <= SQLITE_LOCK_RESERVED);
      if (f.lock == SQLITE_LOCK_NONE) f.lock = SQLITE_LOCK_SHARED;
      ++f.shared_holders;
      h.lock = SQLITE_LOCK_SHARED;
      return SQLITE_OK;
    }
    if (level == SQLITE_LOCK_EXCLUSIVE && f.shared_holders > 1) {
      // Readers remain. PENDING keeps new readers out so that the writer is not starved.
      h.lock = SQLITE_LOCK_PENDING;
      f.lock = SQLITE_LOCK_PENDING;
      return SQLITE_BUSY;
    }
    h.lock = level;
    f.lock = level;
    return SQLITE_OK;
  }

  int unlock(Handle& h, int level) {
    SIM_REQUIRE(level <= SQLITE_LOCK_SHARED);
    if (!usable(h)) return SQLITE_IOERR;
    release(h, level);
    return SQLITE_OK;
  }

  static void release(Handle& h, int level) {
    File& f = *h.file;
    if (h.lock <= level) return;
    if (h.lock > SQLITE_LOCK_SHARED) {
      SIM_ASSERT(f.lock == h.lock);
      f.lock = SQLITE_LOCK_SHARED;
      h.lock = SQLITE_LOCK_SHARED;
    }
    if (level == SQLITE_LOCK_NONE) {
      SIM_ASSERT(f.shared_holders > 0);
      --f.shared_holders;
      h.lock = SQLITE_LOCK_NONE;
      if (f.shared_holders == 0) {
        SIM_ASSERT(f.lock == SQLITE_LOCK_SHARED);
        f.lock = SQLITE_LOCK_NONE;
      }
    }
  }

  int check_reserved(Handle& h, int* out) {
    *out = 0;
    if (!usable(h)) return SQLITE_IOERR;
    *out = h.file->lock >= SQLITE_LOCK_RESERVED;
    return SQLITE_OK;
  }

  static const sqlite3_io_methods kIoMethods;

  sqlite3_vfs vfs{};
  std::string vfs_name;
  Disk* disk;  // null once the Disk is destroyed; handles may outlive it
  Rng rng;
  std::map<std::string, std::shared_ptr<File>> files;
  std::uint64_t generation = 1;  // +1 per crash: handles opened before are dead
  std::uint64_t next_seq = 1;
  std::uint64_t next_temp = 1;
  bool powered = true;
  std::optional<std::uint64_t> ops_until_cut;
};

namespace {

using Impl = Disk::Impl;

Impl& impl_of(sqlite3_vfs* vfs) { return *static_cast<Impl*>(vfs->pAppData); }
Impl::Handle& handle_of(sqlite3_file* f) { return *reinterpret_cast<Impl::OsFile*>(f)->handle; }

// C entry points: SQLite calls these; each forwards to Impl.

int vfs_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* out, int flags, int* out_flags) {
  return impl_of(vfs).open(name, out, flags, out_flags);
}
int vfs_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return impl_of(vfs).remove(name);  // durable at once, so sync_dir adds nothing
}
int vfs_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return impl_of(vfs).access(name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs* vfs, const char* name, int n_out, char* out) {
  const std::string path = full_path(name);
  if (path.size() + 1 > static_cast<std::size_t>(n_out)) return SQLITE_CANTOPEN;
  std::memcpy(out, path.c_str(), path.size() + 1);
  return SQLITE_OK;
}
// Extensions are not loadable on a simulated disk (SQLite keeps loading off by default anyway).
void* vfs_dl_open(sqlite3_vfs* vfs, const char* name) { return nullptr; }
void vfs_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  if (n <= 0) return;
  std::snprintf(out, static_cast<std::size_t>(n), "%s", "no extensions on a simulated disk");
}
void (*vfs_dl_sym(sqlite3_vfs* vfs, void* lib, const char* symbol))(void) { return nullptr; }
void vfs_dl_close(sqlite3_vfs* vfs, void* lib) {}
int vfs_randomness(sqlite3_vfs* vfs, int n, char* out) {
  impl_of(vfs).randomness(n, out);
  return n;
}
// Virtual time does not move while a fiber runs, so a sleep could never end: return at once.
int vfs_sleep(sqlite3_vfs* vfs, int micros) { return micros; }
int vfs_current_time(sqlite3_vfs* vfs, double* out) { return impl_of(vfs).current_time_days(out); }
int vfs_get_last_error(sqlite3_vfs* vfs, int n, char* out) { return 0; }
int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return impl_of(vfs).current_time_ms(out);
}

int file_close(sqlite3_file* f) {
  auto* os = reinterpret_cast<Impl::OsFile*>(f);
  Impl::Handle* h = os->handle;
  os->handle = nullptr;
  return Impl::close(h);
}
int file_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  Impl::Handle& h = handle_of(f);
  return h.impl->read(h, buf, amount, offset);
}
int file_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  Impl::Handle& h = handle_of(f);
  return h.impl->write(h, buf, amount, offset);
}
int file_truncate(sqlite3_file* f, sqlite3_int64 size) {
  Impl::Handle& h = handle_of(f);
  return h.impl->truncate(h, size);
}
int file_sync(sqlite3_file* f, int flags) {
  Impl::Handle& h = handle_of(f);
  return h.impl->sync(h);
}
int file_size(sqlite3_file* f, sqlite3_int64* out) {
  Impl::Handle& h = handle_of(f);
  return h.impl->file_size(h, out);
}
int file_lock(sqlite3_file* f, int level) {
  Impl::Handle& h = handle_of(f);
  return h.impl->lock(h, level);
}
int file_unlock(sqlite3_file* f, int level) {
  Impl::Handle& h = handle_of(f);
  return h.impl->unlock(h, level);
}
int file_check_reserved(sqlite3_file* f, int* out) {
  Impl::Handle& h = handle_of(f);
  return h.impl->check_reserved(h, out);
}
int file_control(sqlite3_file* f, int op, void* arg) { return SQLITE_NOTFOUND; }
int file_sector_size(sqlite3_file* f) { return static_cast<int>(kSectorBytes); }
// No guarantees (no atomic or power-safe writes): SQLite then assumes the worst of the disk,
// which is what the crash model delivers.
int file_device_characteristics(sqlite3_file* f) { return 0; }

constexpr sqlite3_io_methods make_io_methods() {
  sqlite3_io_methods m{};
  m.iVersion = 1;
  m.xClose = file_close;
  m.xRead = file_read;
  m.xWrite = file_write;
  m.xTruncate = file_truncate;
  m.xSync = file_sync;
  m.xFileSize = file_size;
  m.xLock = file_lock;
  m.xUnlock = file_unlock;
  m.xCheckReservedLock = file_check_reserved;
  m.xFileControl = file_control;
  m.xSectorSize = file_sector_size;
  m.xDeviceCharacteristics = file_device_characteristics;
  return m;
}

}  // namespace

const sqlite3_io_methods Disk::Impl::kIoMethods = make_io_methods();

Disk::Disk(Node& node, Rng rng) : node_(node), impl_(std::make_shared<Impl>(this, std::move(rng))) {
  // A process-wide counter only names the VFS; nothing in the simulation reads it.
  static std::atomic<std::uint64_t> next_disk{1};
  vfs_name_ = "edgesim-disk-" + std::to_string(next_disk.fetch_add(1));
  impl_->vfs_name = vfs_name_;  // the VFS may outlive this Disk (see Impl::disk)

  sqlite3_vfs& vfs = impl_->vfs;
  vfs.iVersion = 2;  // 2 for xCurrentTimeInt64: SQLite then reads time at millisecond precision
  vfs.szOsFile = static_cast<int>(sizeof(Impl::OsFile));
  vfs.mxPathname = kPathBytesMax;
  vfs.zName = impl_->vfs_name.c_str();
  vfs.pAppData = impl_.get();
  vfs.xOpen = vfs_open;
  vfs.xDelete = vfs_delete;
  vfs.xAccess = vfs_access;
  vfs.xFullPathname = vfs_full_pathname;
  vfs.xDlOpen = vfs_dl_open;
  vfs.xDlError = vfs_dl_error;
  vfs.xDlSym = vfs_dl_sym;
  vfs.xDlClose = vfs_dl_close;
  vfs.xRandomness = vfs_randomness;
  vfs.xSleep = vfs_sleep;
  vfs.xCurrentTime = vfs_current_time;
  vfs.xGetLastError = vfs_get_last_error;
  vfs.xCurrentTimeInt64 = vfs_current_time_int64;
  const int rc = sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  SIM_ASSERT(rc == SQLITE_OK);
  // SQLite's own PRNG (journal nonces, temp names) is process-wide and would seed itself from the
  // default VFS, i.e. /dev/urandom. Seed it from this disk's stream so file bytes are a function
  // of the seed too. Disks are created in a deterministic order, so reseeding here is too.
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED,
                       static_cast<int>(impl_->rng.next_u64() & 0x7fffffff), nullptr);
}

Disk::~Disk() {
  sqlite3_vfs_unregister(&impl_->vfs);
  // Connections still open keep Impl alive through their handles; make them all dead.
  impl_->disk = nullptr;
  ++impl_->generation;
}

void Disk::crash(bool torn) {
  Impl& impl = *impl_;
  ++stats_.crashes;
  ++impl.generation;
  impl.powered = true;
  impl.ops_until_cut.reset();

  // Temp files were unlinked at open on a real disk: nothing of them survives.
  std::erase_if(impl.files, [](const auto& entry) { return entry.second->temporary; });

  // The last pending write, in issue order, is the one the power cut caught in flight.
  Impl::File* last_file = nullptr;
  const std::string* last_path = nullptr;
  const Impl::PendingOp* last = nullptr;
  for (const auto& [path, file] : impl.files) {
    for (const Impl::PendingOp& op : file->pending) {
      if (op.truncate || op.data.empty()) continue;
      if (last == nullptr || op.seq > last->seq) {
        last = &op;
        last_file = file.get();
        last_path = &path;
      }
    }
  }
  const Stats before = stats_;
  std::string torn_file;
  std::uint64_t torn_offset = 0, torn_kept = 0, torn_size = 0;
  bool survived_whole = false;
  if (torn && last != nullptr) {
    // Cut at a sector boundary of the file: the write's start, a boundary inside it, or its end.
    const std::uint64_t begin = last->offset;
    const std::uint64_t end = begin + last->data.size();
    const std::uint64_t first_inner = (begin / kSectorBytes + 1) * kSectorBytes;
    const std::uint64_t inner = first_inner < end ? (end - 1 - first_inner) / kSectorBytes + 1 : 0;
    const std::uint64_t pick = impl.rng.below(inner + 2);
    const std::uint64_t cut =
        pick == 0 ? begin : (pick == inner + 1 ? end : first_inner + (pick - 1) * kSectorBytes);
    SIM_ASSERT(cut >= begin);
    SIM_ASSERT(cut <= end);
    const std::size_t kept = cut - begin;
    write_at(last_file->durable, begin, last->data.data(), kept);
    survived_whole = kept == last->data.size();
    if (kept > 0 && !survived_whole) ++stats_.torn_writes;
    torn_file = *last_path;
    torn_offset = begin;
    torn_kept = kept;
    torn_size = last->data.size();
  }
  for (auto& [path, file] : impl.files) {
    for (const Impl::PendingOp& op : file->pending) {
      if (op.truncate) {
        ++stats_.truncations_lost;
      } else if (&op != last || !survived_whole) {
        ++stats_.writes_lost;
      }
    }
    file->pending.clear();
    file->current = file->durable;
    // Locks live in the OS, which the crash restarted.
    file->lock = SQLITE_LOCK_NONE;
    file->shared_holders = 0;
  }
  // What the crash destroyed is part of the fault, so a trace shows it.
  World& world = node_.world();
  world.emit(node_.id(), [&](ev::Body& b) {
    auto& e = *b.mutable_disk_crash();
    e.set_writes_lost(stats_.writes_lost - before.writes_lost);
    e.set_truncations_lost(stats_.truncations_lost - before.truncations_lost);
    e.set_torn_file(torn_file);
    e.set_torn_offset(torn_offset);
    e.set_torn_kept(torn_kept);
    e.set_torn_size(torn_size);
  });
}

std::vector<std::string> Disk::files() const {
  std::vector<std::string> out;
  out.reserve(impl_->files.size());
  for (const auto& [path, file] : impl_->files) out.push_back(path);
  return out;
}

bool Disk::exists(const std::string& path) const { return impl_->files.contains(path); }

std::size_t Disk::size(const std::string& path) const {
  auto it = impl_->files.find(path);
  SIM_REQUIRE(it != impl_->files.end());
  return it->second->current.size();
}

std::vector<std::uint8_t> Disk::contents(const std::string& path) const {
  auto it = impl_->files.find(path);
  SIM_REQUIRE(it != impl_->files.end());
  return it->second->current;
}

std::size_t Disk::pending_writes() const {
  std::size_t n = 0;
  for (const auto& [path, file] : impl_->files) {
    n += static_cast<std::size_t>(std::count_if(file->pending.begin(), file->pending.end(),
                                                [](const auto& op) { return !op.truncate; }));
  }
  return n;
}

void Disk::TEST_cut_power_after(std::uint64_t ops) { impl_->ops_until_cut = ops; }

bool Disk::powered() const { return impl_->powered; }

}  // namespace sim
