// A node's simulated disk: an in-memory filesystem behind a SQLite VFS of its own.
//
// Durability model: a write is pending until the file is synced (xSync). A crash drops every
// pending write; when the torn-write fault is on, a prefix of the last pending write (whole
// 512-byte sectors) survives instead, as on a real disk. Deleting a file is durable at once (SQLite
// deletes its rollback journal only after syncing the database). Open handles from before a crash
// are dead: their I/O fails with SQLITE_IOERR and writes nothing.
//
// In more detail:
// - Each file has durable bytes and a list of pending writes and truncations, in issue order.
//   Reads see durable bytes with the pending operations applied. xSync of a file makes all of that
//   file's pending operations durable; nothing else ever does (there is no background writeback).
// - Creating a file is durable at once (the file is empty until synced), like a directory entry
//   fsynced on creation. Deleting a file is durable at once, and drops its pending operations.
// - Crash: every pending write and truncation of every file is lost. With `torn`, the last pending
//   write still present (in issue order, across the disk) is cut at a sector boundary of the file
//   drawn uniformly from its start, the 512-byte boundaries inside it and its end; the bytes
//   before the cut become durable. Nothing else survives, so earlier pending writes can be lost
//   while the torn prefix survives: the disk reorders writes between syncs. Each crash emits a
//   "disk.crash" trace event saying what was lost and where the tear fell.
// - Files opened with SQLITE_OPEN_DELETEONCLOSE (SQLite's temp files) do not survive a crash.
// - A file deleted while open stays readable and writable through its open handles (POSIX
//   unlink semantics) and vanishes when they are gone.
// - Locks follow the POSIX VFS (NONE < SHARED < RESERVED < PENDING < EXCLUSIVE), per file, across
//   every connection of this disk. A crash releases all of them.
// - Randomness (xRandomness) comes from the disk's Rng stream; time (xCurrentTime*) is the
//   World's virtual time read as Unix time; xSleep returns at once.
//
// The VFS implements no shared-memory methods, so SQLite accepts journal_mode=WAL only with
// locking_mode=EXCLUSIVE. Use rollback journals (journal_mode=DELETE) otherwise.
//
// Open a database on this disk with sqlite3_open_v2(path, &db, flags, disk.vfs_name()).
// A Disk may be destroyed while connections on it are still open: their I/O then fails and
// sqlite3_close still works, so teardown order does not matter.
//
// Single-threaded, like the World that owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/rng.h"

namespace sim {

class Node;

class Disk {
 public:
  struct Stats {
    std::uint64_t writes = 0;  // successful xWrite calls
    std::uint64_t syncs = 0;   // successful xSync calls
    std::uint64_t bytes_written = 0;
    std::uint64_t crashes = 0;
    std::uint64_t writes_lost = 0;  // pending writes dropped by crashes, torn ones included
    // Pending writes of which a crash kept a strict, non-empty prefix.
    std::uint64_t torn_writes = 0;
    std::uint64_t truncations_lost = 0;  // pending truncations dropped by crashes
  };

  Disk(Node& node, Rng rng);
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;
  ~Disk();

  // The name of the VFS registered with SQLite for this disk (unique in the process).
  const std::string& vfs_name() const { return vfs_name_; }
  Node& node() const { return node_; }

  // Called by World::crash(). Drops pending writes (tearing the last one if `torn`), and kills
  // every open handle. Also restores power after TEST_cut_power_after().
  void crash(bool torn);

  // Inspection, for tests and tools. Paths are as SQLite names them (absolute, "/app.db").
  std::vector<std::string> files() const;  // sorted
  bool exists(const std::string& path) const;
  // What a read sees now (durable bytes plus pending operations). REQUIRES: exists(path).
  std::size_t size(const std::string& path) const;
  std::vector<std::uint8_t> contents(const std::string& path) const;
  // Pending writes (not truncations) across all files.
  std::size_t pending_writes() const;
  const Stats& stats() const { return stats_; }

  // Power cut at an exact I/O: the next `ops` mutating operations (file creations, writes,
  // truncations, syncs, deletions) succeed; from the one after on, every operation on this disk
  // fails with an I/O error and changes nothing, until crash() reboots it. Lets a test stop SQLite
  // in the middle of a transaction. Volatile: crash() clears it.
  void TEST_cut_power_after(std::uint64_t ops);
  bool powered() const;

  struct Impl;

 private:
  Node& node_;
  std::string vfs_name_;
  // Shared with every open file handle, so that handles (and SQLite connections) may outlive the
  // Disk: they then fail cleanly instead of touching freed memory.
  std::shared_ptr<Impl> impl_;
  Stats stats_;
};

}  // namespace sim
