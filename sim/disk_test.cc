// Tests of the simulated disk: the durability model through raw VFS calls (byte level) and through
// real SQLite transactions (the laws the platform relies on: synced commits survive crashes,
// unsynced ones do not, and a crash never leaves a database that SQLite cannot recover).
#include "sim/disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/event_log.h"
#include "sim/node.h"
#include "sim/world.h"

namespace sim {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Rows = std::map<std::int64_t, std::string>;

// The disk alone, without the rest of World::crash(): these tests are about the disk.
void crash(Disk& disk, bool torn) { disk.crash(torn); }

// A SQLite connection on a simulated disk. Every statement is finalized before the call returns,
// so close() always succeeds, even after a crash made the connection's files dead.
class Db {
 public:
  Db(Disk& disk, const std::string& path) {
    open_rc_ = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                               disk.vfs_name().c_str());
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { close(); }

  int open_rc() const { return open_rc_; }
  sqlite3* raw() const { return db_; }

  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  // Runs one statement with (int64, text) parameters bound in order; keeps no statement open.
  int run(const std::string& sql, std::optional<std::int64_t> k, std::optional<std::string> v) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return rc;
    int index = 1;
    if (v.has_value()) {
      sqlite3_bind_text(stmt, index++, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
    }
    if (k.has_value()) sqlite3_bind_int64(stmt, index++, *k);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }

  int put(std::int64_t k, const std::string& v) {
    return run("INSERT OR REPLACE INTO t(v, k) VALUES (?, ?)", k, v);
  }
  int update(std::int64_t k, const std::string& v) {
    return run("UPDATE t SET v = ? WHERE k = ?", k, v);
  }
  int erase(std::int64_t k) { return run("DELETE FROM t WHERE k = ?", k, std::nullopt); }

  // The first column of the first row as text, or nullopt when the query fails.
  std::optional<std::string> scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return std::nullopt;
    std::optional<std::string> out;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    } else if (rc == SQLITE_DONE) {
      out = "";
    }
    sqlite3_finalize(stmt);
    return out;
  }

  std::optional<std::string> integrity() { return scalar("PRAGMA integrity_check"); }
  bool has_table() { return scalar(kHasTable) == "1"; }

  // Table t, or nullopt when reading it fails. An absent table reads as empty.
  std::optional<Rows> rows() {
    const auto tables = scalar(kHasTable);
    if (!tables.has_value()) return std::nullopt;
    if (*tables == "0") return Rows{};
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT k, v FROM t ORDER BY k", -1, &stmt, nullptr) != SQLITE_OK) {
      return std::nullopt;
    }
    Rows out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
      out[sqlite3_column_int64(stmt, 0)] = text != nullptr ? text : "";
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return std::nullopt;
    return out;
  }

  static constexpr char kHasTable[] = "SELECT count(*) FROM sqlite_master WHERE name = 't'";

  int close() {
    int rc = SQLITE_OK;
    if (db_ != nullptr) rc = sqlite3_close(db_);
    db_ = nullptr;
    return rc;
  }

 private:
  sqlite3* db_ = nullptr;
  int open_rc_ = SQLITE_OK;
};

constexpr char kSchema[] =
    "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;"
    "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL);";

// A file opened straight through the disk's VFS, to test the methods SQLite calls.
class RawFile {
 public:
  RawFile(Disk& disk, const char* name,
          int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB)
      : vfs_(sqlite3_vfs_find(disk.vfs_name().c_str())) {
    // max_align_t storage: SQLite's own allocations of szOsFile are 8-byte aligned.
    const auto words = (static_cast<std::size_t>(vfs_->szOsFile) + sizeof(std::max_align_t) - 1) /
                       sizeof(std::max_align_t);
    storage_ = std::make_unique<std::max_align_t[]>(words);
    open_rc_ = vfs_->xOpen(vfs_, name, file(), flags, &out_flags_);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;
  ~RawFile() { close(); }

  sqlite3_file* file() { return reinterpret_cast<sqlite3_file*>(storage_.get()); }
  const sqlite3_io_methods& m() { return *file()->pMethods; }
  int open_rc() const { return open_rc_; }

  int write(std::int64_t offset, const Bytes& data) {
    return m().xWrite(file(), data.data(), static_cast<int>(data.size()), offset);
  }
  int read(std::int64_t offset, int n, Bytes* out) {
    out->assign(static_cast<std::size_t>(n), 0xEE);
    return m().xRead(file(), out->data(), n, offset);
  }
  int sync() { return m().xSync(file(), SQLITE_SYNC_NORMAL); }
  int truncate(std::int64_t size) { return m().xTruncate(file(), size); }
  int file_size(std::int64_t* out) {
    sqlite3_int64 size = -1;
    const int rc = m().xFileSize(file(), &size);
    *out = size;
    return rc;
  }
  int lock(int level) { return m().xLock(file(), level); }
  int unlock(int level) { return m().xUnlock(file(), level); }
  int reserved(int* out) { return m().xCheckReservedLock(file(), out); }
  int close() {
    if (open_rc_ != SQLITE_OK || file()->pMethods == nullptr || closed_) return SQLITE_OK;
    closed_ = true;
    return m().xClose(file());
  }

 private:
  sqlite3_vfs* vfs_;
  std::unique_ptr<std::max_align_t[]> storage_;
  int open_rc_ = SQLITE_ERROR;
  int out_flags_ = 0;
  bool closed_ = false;
};

Bytes fill(std::size_t n, std::uint8_t byte) { return Bytes(n, byte); }

sqlite3_vfs* vfs_of(Disk& disk) { return sqlite3_vfs_find(disk.vfs_name().c_str()); }

// --- registration ---

TEST(Disk, EachDiskRegistersItsOwnVfsAndUnregistersOnDestruction) {
  World world(1);
  Node& n = world.add_node("db", "lhr");
  Disk& d = n.disk();
  auto other = std::make_unique<Disk>(n, Rng(2));
  EXPECT_NE(d.vfs_name(), other->vfs_name());
  EXPECT_NE(vfs_of(d), nullptr);
  const std::string name = other->vfs_name();
  ASSERT_NE(sqlite3_vfs_find(name.c_str()), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), vfs_of(d));  // never the default VFS
  other.reset();
  EXPECT_EQ(sqlite3_vfs_find(name.c_str()), nullptr);
  EXPECT_EQ(&d.node(), &n);
}

// Files of one disk are invisible to another: each node has its own filesystem.
TEST(Disk, DisksHaveSeparateNamespaces) {
  World world(1);
  Disk& a = world.add_node("a", "lhr").disk();
  Disk& b = world.add_node("b", "iad").disk();
  {
    Db db(a, "/app.db");
    ASSERT_EQ(db.exec(kSchema), SQLITE_OK);
    ASSERT_EQ(db.put(1, "x"), SQLITE_OK);
  }
  EXPECT_TRUE(a.exists("/app.db"));
  EXPECT_FALSE(b.exists("/app.db"));
  Db db(b, "/app.db");
  EXPECT_EQ(db.rows(), Rows{});
}

// --- law 1: committed + synced survives ---

TEST(Disk, SyncedCommitSurvivesCrash) {
  for (const bool torn : {false, true}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      World world(seed);
      Disk& d = world.add_node("db", "lhr").disk();
      Rows expected;
      {
        Db db(d, "/app.db");
        ASSERT_EQ(db.exec(kSchema), SQLITE_OK);
        ASSERT_EQ(db.exec("BEGIN"), SQLITE_OK);
        for (int k = 0; k < 50; ++k) {
          expected[k] = std::string(100 + 37 * k, static_cast<char>('a' + k % 26));
          ASSERT_EQ(db.put(k, expected[k]), SQLITE_OK);
        }
        ASSERT_EQ(db.exec("COMMIT"), SQLITE_OK);
        EXPECT_EQ(d.pending_writes(), 0u);  // synchronous=FULL: the commit synced everything
        EXPECT_FALSE(d.exists("/app.db-journal"));
        crash(d, torn);
        EXPECT_EQ(db.close(), SQLITE_OK);
      }
      Db db(d, "/app.db");
      EXPECT_EQ(db.integrity(), "ok") << "seed " << seed << " torn " << torn;
      EXPECT_EQ(db.rows(), expected) << "seed " << seed << " torn " << torn;
    }
  }
}

// World::crash() reaches the disk: what the node made durable is what it finds on restart.
TEST(Disk, WorldCrashDropsUnsyncedWrites) {
  World world(3);
  Node& n = world.add_node("db", "lhr");
  world.start();
  Disk& d = n.disk();
  {
    RawFile f(d, "/f");
    ASSERT_EQ(f.write(0, fill(100, 1)), SQLITE_OK);
    ASSERT_EQ(f.sync(), SQLITE_OK);
    ASSERT_EQ(f.write(100, fill(100, 2)), SQLITE_OK);
    world.crash(n);
  }
  EXPECT_EQ(d.stats().crashes, 1u);
  EXPECT_EQ(d.pending_writes(), 0u);
  // Whether the seed turned torn writes on or not, the unsynced write survives whole or not at
  // all: bytes [100, 200) hold no sector boundary to cut at.
  Bytes expected = fill(100, 1);
  if (d.stats().writes_lost == 0) expected.resize(200, 2);
  EXPECT_EQ(d.contents("/f"), expected);
}

// A crash is a fault, and faults show in the trace: what was lost, and where the tear fell.
TEST(Disk, CrashIsTraced) {
  World world(19);
  EventLog sink(&world);
  world.add_sink(&sink);
  Disk& d = world.add_node("db", "lhr").disk();
  {
    RawFile f(d, "/f");
    ASSERT_EQ(f.write(0, fill(100, 1)), SQLITE_OK);
    ASSERT_EQ(f.truncate(50), SQLITE_OK);
    ASSERT_EQ(f.write(1000, fill(100, 2)), SQLITE_OK);  // no boundary inside: whole or nothing
    crash(d, /*torn=*/true);
  }
  world.remove_sink(&sink);
  ASSERT_EQ(sink.count("disk.crash"), 1u);
  const std::string kept = d.size("/f") == 0 ? "0" : "100";
  EXPECT_EQ(sink.details_of("disk.crash")[0],
            "writes_lost=" + std::string(kept == "0" ? "2" : "1") +
                " truncations_lost=1 torn_file=/f torn_offset=1000 torn_kept=" + kept +
                " torn_size=100");
}

// --- law 2: committed but unsynced is lost ---

TEST(Disk, UnsyncedCommitIsLostOnCrash) {
  World world(4);
  Disk& d = world.add_node("db", "lhr").disk();
  Rows synced;
  {
    Db db(d, "/app.db");
    ASSERT_EQ(db.exec(kSchema), SQLITE_OK);
    for (int k = 0; k < 20; ++k) {
      synced[k] = "synced-" + std::to_string(k);
      ASSERT_EQ(db.put(k, synced[k]), SQLITE_OK);
    }
    ASSERT_EQ(db.exec("PRAGMA synchronous=OFF"), SQLITE_OK);
    ASSERT_EQ(db.exec("BEGIN"), SQLITE_OK);
    for (int k = 10; k < 40; ++k) ASSERT_EQ(db.put(k, std::string(500, 'u')), SQLITE_OK);
    ASSERT_EQ(db.erase(0), SQLITE_OK);
    ASSERT_EQ(db.exec("COMMIT"), SQLITE_OK);
    EXPECT_EQ(db.rows()->size(), 39u);  // the connection sees its commit
    EXPECT_GT(d.pending_writes(), 0u);
    EXPECT_FALSE(d.exists("/app.db-journal"));  // gone for good: deletion is durable at once
    crash(d, /*torn=*/false);
  }
  EXPECT_GT(d.stats().writes_lost, 0u);
  Db db(d, "/app.db");
  EXPECT_EQ(db.integrity(), "ok");
  EXPECT_EQ(db.rows(), synced);
}

TEST(Disk, NeverSyncedDatabaseReopensEmpty) {
  World world(5);
  Disk& d = world.add_node("db", "lhr").disk();
  {
    Db db(d, "/app.db");
    ASSERT_EQ(db.exec("PRAGMA synchronous=OFF; CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"),
              SQLITE_OK);
    ASSERT_EQ(db.put(1, "one"), SQLITE_OK);
    crash(d, /*torn=*/false);
  }
  EXPECT_TRUE(d.exists("/app.db"));  // creation is durable, the content is not
  EXPECT_EQ(d.size("/app.db"), 0u);
  Db db(d, "/app.db");
  EXPECT_EQ(db.integrity(), "ok");
  EXPECT_FALSE(db.has_table());
}

// --- law 3: random transactions, random power cuts ---

using Mutation = std::tuple<int, int, int>;  // kind (0 put, 1 update, 2 delete), key, value bytes
using Txn = std::vector<Mutation>;

rc::Gen<std::vector<Txn>> gen_txns(int txns_max) {
  const auto mutation =
      rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::inRange(0, 40), rc::gen::inRange(0, 3000));
  return rc::gen::mapcat(rc::gen::inRange(1, txns_max + 1), [=](int n) {
    return rc::gen::container<std::vector<Txn>>(
        static_cast<std::size_t>(n),
        rc::gen::resize(20, rc::gen::nonEmpty(rc::gen::container<Txn>(mutation))));
  });
}

std::string value_for(int txn, int key, int bytes) {
  return std::to_string(txn) + ":" +
         std::string(static_cast<std::size_t>(bytes), static_cast<char>('a' + (txn + key) % 26));
}

// Applies one transaction to the database and to `rows`. False when a statement failed.
bool apply_txn(Db& db, int index, const Txn& txn, Rows* rows) {
  if (db.exec("BEGIN") != SQLITE_OK) return false;
  for (const auto& [kind, key, bytes] : txn) {
    const std::string v = value_for(index, key, bytes);
    int rc = SQLITE_OK;
    switch (kind) {
      case 0:
        rc = db.put(key, v);
        (*rows)[key] = v;
        break;
      case 1:
        rc = db.update(key, v);
        if (rows->contains(key)) (*rows)[key] = v;
        break;
      default:
        rc = db.erase(key);
        rows->erase(key);
        break;
    }
    if (rc != SQLITE_OK) return false;
  }
  return db.exec("COMMIT") == SQLITE_OK;
}

// With synchronous=FULL, COMMIT returning SQLITE_OK is the durability point: after the power is
// cut at any I/O, and whether or not the last write tears, the database recovers to exactly the
// last transaction whose COMMIT succeeded.
RC_GTEST_PROP(DiskProperty, FullSyncRecoversLastCommitAfterPowerCutAnywhere, ()) {
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  const bool torn = *rc::gen::arbitrary<bool>();
  const int cache_pages = *rc::gen::element(10, 2000);  // 10 spills pages before COMMIT
  const auto cut = *rc::gen::inRange<std::uint64_t>(0, 300);
  const auto txns = *gen_txns(15);

  World world(seed);
  Disk& d = world.add_node("db", "lhr").disk();
  Rows committed;
  {
    Db db(d, "/app.db");
    RC_ASSERT(db.exec(kSchema) == SQLITE_OK);
    RC_ASSERT(db.exec("PRAGMA cache_size=" + std::to_string(cache_pages)) == SQLITE_OK);
    d.TEST_cut_power_after(cut);
    for (std::size_t i = 0; i < txns.size(); ++i) {
      Rows next = committed;
      if (!apply_txn(db, static_cast<int>(i), txns[i], &next)) {
        RC_ASSERT(!d.powered());  // the power cut is the only way a statement fails here
        break;
      }
      committed = std::move(next);
    }
    RC_ASSERT(db.close() == SQLITE_OK);
  }
  RC_TAG(d.powered() ? "crash between transactions" : "power cut mid-transaction");
  crash(d, torn);
  RC_TAG(d.stats().torn_writes > 0 ? "torn" : "not torn");
  RC_TAG(d.exists("/app.db-journal") && d.size("/app.db-journal") > 0 ? "journal left"
                                                                      : "no journal");

  Db db(d, "/app.db");
  RC_ASSERT(db.integrity() == std::optional<std::string>("ok"));
  RC_ASSERT(db.rows() == std::optional<Rows>(committed));
  // The recovered database takes new writes and keeps them.
  RC_ASSERT(db.put(1000, "after") == SQLITE_OK);
  RC_ASSERT(db.close() == SQLITE_OK);
  crash(d, torn);
  committed[1000] = "after";
  Db again(d, "/app.db");
  RC_ASSERT(again.rows() == std::optional<Rows>(committed));
}

// Mixed synchronous settings, crashes between transactions, no torn writes. A FULL commit syncs
// the database file, which makes every earlier transaction durable too; an OFF commit syncs
// nothing and deletes its journal. So the crash recovers exactly the state after the last FULL
// transaction. (A power cut inside a FULL transaction that follows an OFF one is not covered: its
// journal holds pages of the unsynced OFF transaction, and SQLite documents that synchronous=OFF
// may then corrupt the database.)
RC_GTEST_PROP(DiskProperty, MixedSyncRecoversLastFullCommit, ()) {
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  const auto txns = *gen_txns(15);
  const auto full = *rc::gen::container<std::vector<bool>>(txns.size(), rc::gen::arbitrary<bool>());
  const auto crash_after = *rc::gen::inRange<std::size_t>(0, txns.size() + 1);

  World world(seed);
  Disk& d = world.add_node("db", "lhr").disk();
  Rows current;
  Rows durable;
  {
    Db db(d, "/app.db");
    RC_ASSERT(db.exec(kSchema) == SQLITE_OK);
    for (std::size_t i = 0; i < crash_after; ++i) {
      RC_ASSERT(db.exec(full[i] ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF") ==
                SQLITE_OK);
      RC_ASSERT(apply_txn(db, static_cast<int>(i), txns[i], &current));
      if (full[i]) durable = current;
    }
    RC_ASSERT(db.rows() == std::optional<Rows>(current));
  }
  crash(d, /*torn=*/false);
  RC_TAG(durable == current ? "nothing lost" : "unsynced commits lost");
  Db db(d, "/app.db");
  RC_ASSERT(db.integrity() == std::optional<std::string>("ok"));
  RC_ASSERT(db.rows() == std::optional<Rows>(durable));
}

// Same seed, same operations: same bytes on disk and same counters, torn writes included.
TEST(Disk, RunsAreDeterministic) {
  auto run = [](std::uint64_t seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      Db db(d, "/app.db");
      EXPECT_EQ(db.exec(kSchema), SQLITE_OK);
      d.TEST_cut_power_after(40 + seed % 60);
      for (int i = 0; i < 30; ++i) {
        Rows ignored;
        const Txn txn = {{0, i % 17, 100 * i}, {2, (i * 7) % 17, 0}, {1, i % 5, 3000}};
        if (!apply_txn(db, i, txn, &ignored)) break;
      }
    }
    crash(d, /*torn=*/true);
    {
      Db db(d, "/app.db");
      EXPECT_EQ(db.integrity(), "ok");
    }
    return std::make_tuple(d.contents("/app.db"), d.files(), d.stats().writes,
                           d.stats().writes_lost, d.stats().torn_writes, d.stats().bytes_written);
  };
  for (std::uint64_t seed = 1; seed <= 10; ++seed) EXPECT_EQ(run(seed), run(seed)) << seed;
}

// The rollback journal carries a nonce from SQLite's process-wide PRNG; the disk seeds that PRNG,
// so even journal bytes are a function of the seed (other worlds in the process notwithstanding).
TEST(Disk, JournalBytesAreAFunctionOfTheSeed) {
  auto journal = [](std::uint64_t seed) {
    World noise(seed + 1000);  // another world using SQLite in between must not matter
    Disk& other = noise.add_node("x", "iad").disk();
    Db o(other, "/o.db");
    EXPECT_EQ(o.exec("CREATE TABLE z(a); INSERT INTO z VALUES(randomblob(64));"), SQLITE_OK);
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    Db db(d, "/app.db");
    EXPECT_EQ(db.exec(std::string(kSchema) + "; PRAGMA journal_mode=DELETE;"), SQLITE_OK);
    EXPECT_EQ(db.exec("BEGIN; INSERT INTO t(k, v) VALUES (1, 'x');"), SQLITE_OK);
    std::vector<unsigned char> j = d.contents("/app.db-journal");
    EXPECT_EQ(db.exec("COMMIT;"), SQLITE_OK);
    return j;
  };
  const std::vector<unsigned char> a = journal(5);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, journal(5));
}

// --- law 4: torn writes ---

// The surviving bytes of a torn overwrite of `old` by `fresh`: a whole-sector prefix of the new.
TEST(Disk, TornWriteKeepsAWholeSectorPrefix) {
  std::set<std::size_t> sectors_kept;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile f(d, "/f");
      ASSERT_EQ(f.write(0, fill(4096, 0xAA)), SQLITE_OK);
      ASSERT_EQ(f.sync(), SQLITE_OK);
      ASSERT_EQ(f.write(0, fill(4096, 0xBB)), SQLITE_OK);
      crash(d, /*torn=*/true);
    }
    const Bytes bytes = d.contents("/f");
    ASSERT_EQ(bytes.size(), 4096u);
    std::size_t kept = 0;
    while (kept < bytes.size() && bytes[kept] == 0xBB) ++kept;
    ASSERT_EQ(kept % 512, 0u) << seed;
    for (std::size_t i = kept; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0xAA) << seed;
    sectors_kept.insert(kept / 512);
    EXPECT_EQ(d.stats().torn_writes, kept > 0 && kept < 4096 ? 1u : 0u) << seed;
    EXPECT_EQ(d.stats().writes_lost, kept < 4096 ? 1u : 0u) << seed;
  }
  // All nine cuts (none, 1..7 sectors, all) happen over 300 seeds.
  EXPECT_EQ(sectors_kept.size(), 9u);
}

TEST(Disk, WithoutTornWritesNothingPendingSurvives) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile f(d, "/f");
      ASSERT_EQ(f.write(0, fill(4096, 0xAA)), SQLITE_OK);
      ASSERT_EQ(f.sync(), SQLITE_OK);
      ASSERT_EQ(f.write(0, fill(4096, 0xBB)), SQLITE_OK);
      ASSERT_EQ(f.write(4096, fill(4096, 0xBB)), SQLITE_OK);
      crash(d, /*torn=*/false);
    }
    EXPECT_EQ(d.contents("/f"), fill(4096, 0xAA));
    EXPECT_EQ(d.stats().torn_writes, 0u);
    EXPECT_EQ(d.stats().writes_lost, 2u);
  }
}

// Cuts fall on the file's sector boundaries, not the write's: an unaligned write keeps up to the
// first boundary inside it, the second, or all of it.
TEST(Disk, TornUnalignedWriteCutsAtFileSectorBoundaries) {
  std::set<std::size_t> kept_seen;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile f(d, "/f");
      ASSERT_EQ(f.write(0, fill(2048, 0xAA)), SQLITE_OK);
      ASSERT_EQ(f.sync(), SQLITE_OK);
      ASSERT_EQ(f.write(100, fill(1000, 0xBB)), SQLITE_OK);  // bytes [100, 1100)
      crash(d, /*torn=*/true);
    }
    const Bytes bytes = d.contents("/f");
    ASSERT_EQ(bytes.size(), 2048u);
    std::size_t end = 100;
    while (end < bytes.size() && bytes[end] == 0xBB) ++end;
    for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(bytes[i], 0xAA);
    for (std::size_t i = end; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0xAA);
    kept_seen.insert(end);
  }
  EXPECT_EQ(kept_seen, (std::set<std::size_t>{100, 512, 1024, 1100}));
}

// A torn append extends the file by whole sectors only.
TEST(Disk, TornAppendGrowsTheFileBySectors) {
  std::set<std::size_t> sizes;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile f(d, "/f");
      ASSERT_EQ(f.write(0, fill(1536, 0xBB)), SQLITE_OK);
      crash(d, /*torn=*/true);
    }
    sizes.insert(d.size("/f"));
    EXPECT_EQ(d.contents("/f"), fill(d.size("/f"), 0xBB));
  }
  EXPECT_EQ(sizes, (std::set<std::size_t>{0, 512, 1024, 1536}));
}

// Only the last pending write, in issue order across files, can leave a prefix behind.
TEST(Disk, OnlyTheLastPendingWriteTears) {
  bool b_torn = false;
  bool a_torn = false;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile a(d, "/a");
      RawFile b(d, "/b");
      ASSERT_EQ(a.write(0, fill(4096, 1)), SQLITE_OK);
      ASSERT_EQ(b.write(0, fill(4096, 2)), SQLITE_OK);
      crash(d, /*torn=*/true);
    }
    EXPECT_EQ(d.size("/a"), 0u) << seed;  // not the last write: lost whole
    b_torn = b_torn || (d.size("/b") > 0 && d.size("/b") < 4096);
  }
  // Once the later write is synced, the earlier one is the last pending write.
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    World world(seed);
    Disk& d = world.add_node("db", "lhr").disk();
    {
      RawFile a(d, "/a");
      RawFile b(d, "/b");
      ASSERT_EQ(a.write(0, fill(4096, 1)), SQLITE_OK);
      ASSERT_EQ(b.write(0, fill(4096, 2)), SQLITE_OK);
      ASSERT_EQ(b.sync(), SQLITE_OK);
      crash(d, /*torn=*/true);
    }
    EXPECT_EQ(d.contents("/b"), fill(4096, 2));
    a_torn = a_torn || (d.size("/a") > 0 && d.size("/a") < 4096);
  }
  EXPECT_TRUE(b_torn);
  EXPECT_TRUE(a_torn);
}

// --- law 5: dead handles, randomness, time ---

TEST(Disk, HandlesFromBeforeACrashAreDead) {
  World world(6);
  Disk& d = world.add_node("db", "lhr").disk();
  RawFile old(d, "/f");
  ASSERT_EQ(old.write(0, fill(512, 7)), SQLITE_OK);
  ASSERT_EQ(old.sync(), SQLITE_OK);
  ASSERT_EQ(old.lock(SQLITE_LOCK_SHARED), SQLITE_OK);
  ASSERT_EQ(old.lock(SQLITE_LOCK_RESERVED), SQLITE_OK);
  ASSERT_EQ(old.write(512, fill(512, 8)), SQLITE_OK);
  crash(d, /*torn=*/false);

  Bytes out;
  std::int64_t size = 0;
  int reserved = 0;
  EXPECT_EQ(old.read(0, 512, &out), SQLITE_IOERR);
  EXPECT_EQ(old.write(0, fill(1024, 9)), SQLITE_IOERR);
  EXPECT_EQ(old.truncate(0), SQLITE_IOERR);
  EXPECT_EQ(old.sync(), SQLITE_IOERR);
  EXPECT_EQ(old.file_size(&size), SQLITE_IOERR);
  EXPECT_EQ(old.lock(SQLITE_LOCK_EXCLUSIVE), SQLITE_IOERR);
  EXPECT_EQ(old.unlock(SQLITE_LOCK_NONE), SQLITE_IOERR);
  EXPECT_EQ(old.reserved(&reserved), SQLITE_IOERR);
  EXPECT_EQ(d.contents("/f"), fill(512, 7));  // the dead writes changed nothing
  EXPECT_EQ(d.pending_writes(), 0u);
  const auto writes = d.stats().writes;

  // The crash released the dead handle's RESERVED lock: a new handle can write at once.
  RawFile fresh(d, "/f");
  EXPECT_EQ(fresh.reserved(&reserved), SQLITE_OK);
  EXPECT_EQ(reserved, 0);
  EXPECT_EQ(fresh.lock(SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(fresh.lock(SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  EXPECT_EQ(fresh.read(0, 512, &out), SQLITE_OK);
  EXPECT_EQ(out, fill(512, 7));
  EXPECT_EQ(old.close(), SQLITE_OK);
  EXPECT_EQ(fresh.unlock(SQLITE_LOCK_NONE), SQLITE_OK);
  EXPECT_EQ(d.stats().writes, writes);
}

TEST(Disk, ConnectionsFromBeforeACrashFailAndWriteNothing) {
  World world(7);
  Disk& d = world.add_node("db", "lhr").disk();
  Db db(d, "/app.db");
  ASSERT_EQ(db.exec(kSchema), SQLITE_OK);
  ASSERT_EQ(db.put(1, "one"), SQLITE_OK);
  crash(d, /*torn=*/false);
  const Bytes before = d.contents("/app.db");
  EXPECT_NE(db.put(2, "two"), SQLITE_OK);
  EXPECT_EQ(db.rows(), std::nullopt);
  EXPECT_EQ(d.contents("/app.db"), before);
  EXPECT_EQ(db.close(), SQLITE_OK);
  Db again(d, "/app.db");
  EXPECT_EQ(again.rows(), (Rows{{1, "one"}}));
}

// A node's disk may go before the connections on it; they then fail, and close cleanly.
TEST(Disk, ConnectionsMayOutliveTheDisk) {
  World world(8);
  Node& n = world.add_node("db", "lhr");
  auto disk = std::make_unique<Disk>(n, Rng(1));
  Db db(*disk, "/app.db");
  ASSERT_EQ(db.exec(kSchema), SQLITE_OK);
  ASSERT_EQ(db.put(1, "one"), SQLITE_OK);
  disk.reset();
  EXPECT_NE(db.put(2, "two"), SQLITE_OK);
  EXPECT_EQ(db.close(), SQLITE_OK);
}

TEST(Disk, RandomnessIsAPureFunctionOfTheRng) {
  World world(9);
  Node& n = world.add_node("db", "lhr");
  auto bytes = [](Disk& d) {
    std::string out(37, '\0');  // not a multiple of 8: the tail is filled too
    sqlite3_vfs* vfs = vfs_of(d);
    EXPECT_EQ(vfs->xRandomness(vfs, static_cast<int>(out.size()), out.data()), 37);
    return out;
  };
  Disk a(n, Rng(42));
  Disk b(n, Rng(42));
  Disk c(n, Rng(43));
  const std::string first = bytes(a);
  EXPECT_EQ(first, bytes(b));
  EXPECT_NE(first, bytes(c));
  EXPECT_NE(first, bytes(a));  // a stream, not a constant
  EXPECT_NE(first.substr(32), std::string(5, '\0'));

  // A node's disk draws from a stream named after the node: same seed, same bytes.
  World w1(77);
  World w2(77);
  EXPECT_EQ(bytes(w1.add_node("db", "lhr").disk()), bytes(w2.add_node("db", "lhr").disk()));
}

TEST(Disk, TimeIsVirtualTimeReadAsUnixTime) {
  World world(10);
  Disk& d = world.add_node("db", "lhr").disk();
  sqlite3_vfs* vfs = vfs_of(d);
  sqlite3_int64 ms = 0;
  double days = 0;
  ASSERT_EQ(vfs->xCurrentTimeInt64(vfs, &ms), SQLITE_OK);
  ASSERT_EQ(vfs->xCurrentTime(vfs, &days), SQLITE_OK);
  EXPECT_EQ(ms, 210866760000000LL);
  EXPECT_DOUBLE_EQ(days, 2440587.5);
  EXPECT_EQ(vfs->xSleep(vfs, 1'000'000), 1'000'000);  // returns at once

  Db db(d, "/app.db");
  EXPECT_EQ(db.scalar("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"), "1970-01-01 00:00:00.000");
  world.run_until(seconds(86400 + 90.25));
  EXPECT_EQ(db.scalar("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"), "1970-01-02 00:01:30.250");
  ASSERT_EQ(vfs->xCurrentTime(vfs, &days), SQLITE_OK);
  EXPECT_NEAR(days, 2440588.5 + 90.25 / 86400, 1e-9);
}

// --- law 6: files, deletion, truncation, locks ---

TEST(Disk, SyncMakesOnlyThatFileDurable) {
  World world(11);
  Disk& d = world.add_node("db", "lhr").disk();
  {
    RawFile a(d, "/a");
    RawFile b(d, "b");  // relative names are anchored at the root
    ASSERT_EQ(a.write(0, fill(100, 1)), SQLITE_OK);
    ASSERT_EQ(b.write(0, fill(100, 2)), SQLITE_OK);
    EXPECT_EQ(d.pending_writes(), 2u);
    ASSERT_EQ(a.sync(), SQLITE_OK);
    EXPECT_EQ(d.pending_writes(), 1u);
    crash(d, /*torn=*/false);
  }
  EXPECT_EQ(d.files(), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(d.contents("/a"), fill(100, 1));
  EXPECT_EQ(d.size("/b"), 0u);  // created (durable), never synced
  EXPECT_EQ(d.stats().writes, 2u);
  EXPECT_EQ(d.stats().bytes_written, 200u);
  EXPECT_EQ(d.stats().syncs, 1u);
  EXPECT_EQ(d.stats().writes_lost, 1u);
}

TEST(Disk, ReadsSeePendingWritesAndShortReadsZeroFill) {
  World world(12);
  Disk& d = world.add_node("db", "lhr").disk();
  RawFile f(d, "/f");
  ASSERT_EQ(f.write(0, fill(10, 5)), SQLITE_OK);
  ASSERT_EQ(f.write(20, fill(10, 6)), SQLITE_OK);  // leaves a hole of zeros
  Bytes out;
  EXPECT_EQ(f.read(0, 30, &out), SQLITE_OK);
  Bytes expected = fill(10, 5);
  expected.resize(20, 0);
  expected.resize(30, 6);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(f.read(25, 10, &out), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(out, (Bytes{6, 6, 6, 6, 6, 0, 0, 0, 0, 0}));
  EXPECT_EQ(f.read(100, 4, &out), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(out, fill(4, 0));
  std::int64_t size = 0;
  EXPECT_EQ(f.file_size(&size), SQLITE_OK);
  EXPECT_EQ(size, 30);
}

TEST(Disk, CreationAndDeletionAreDurableAtOnce) {
  World world(13);
  Disk& d = world.add_node("db", "lhr").disk();
  sqlite3_vfs* vfs = vfs_of(d);
  int exists = -1;
  {
    RawFile created(d, "/created");
    RawFile doomed(d, "/doomed");
    RawFile unsynced(d, "/unsynced");
    ASSERT_EQ(doomed.write(0, fill(512, 1)), SQLITE_OK);
    ASSERT_EQ(doomed.sync(), SQLITE_OK);
    ASSERT_EQ(unsynced.write(0, fill(512, 2)), SQLITE_OK);
    ASSERT_EQ(vfs->xDelete(vfs, "/doomed", 0), SQLITE_OK);
    ASSERT_EQ(vfs->xDelete(vfs, "/unsynced", 0), SQLITE_OK);
    EXPECT_EQ(vfs->xDelete(vfs, "/never", 0), SQLITE_IOERR_DELETE_NOENT);
    EXPECT_EQ(d.pending_writes(), 0u);  // a deleted file's pending writes went with it

    // An empty file does not "exist" for SQLite (as on POSIX), but can be opened.
    ASSERT_EQ(vfs->xAccess(vfs, "/created", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
    EXPECT_EQ(exists, 0);
    ASSERT_EQ(vfs->xAccess(vfs, "/created", SQLITE_ACCESS_READWRITE, &exists), SQLITE_OK);
    EXPECT_EQ(exists, 1);
    ASSERT_EQ(vfs->xAccess(vfs, "/doomed", SQLITE_ACCESS_READWRITE, &exists), SQLITE_OK);
    EXPECT_EQ(exists, 0);

    // Deleted while open: still readable through the handle (POSIX unlink).
    Bytes out;
    EXPECT_EQ(doomed.read(0, 512, &out), SQLITE_OK);
    EXPECT_EQ(out, fill(512, 1));
    crash(d, /*torn=*/true);
  }
  EXPECT_EQ(d.files(), (std::vector<std::string>{"/created"}));
  EXPECT_EQ(d.stats().torn_writes, 0u);  // the deleted file's write was nobody's to tear
  ASSERT_EQ(vfs->xAccess(vfs, "/doomed", SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  EXPECT_EQ(exists, 0);

  // Opening without CREATE, or with EXCLUSIVE on an existing file, fails.
  RawFile missing(d, "/doomed", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB);
  EXPECT_EQ(missing.open_rc(), SQLITE_CANTOPEN);
  RawFile exclusive(d, "/created",
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE);
  EXPECT_EQ(exclusive.open_rc(), SQLITE_CANTOPEN);
}

TEST(Disk, PendingTruncationIsLostOnCrash) {
  World world(14);
  Disk& d = world.add_node("db", "lhr").disk();
  {
    RawFile f(d, "/f");
    ASSERT_EQ(f.write(0, fill(8192, 3)), SQLITE_OK);
    ASSERT_EQ(f.sync(), SQLITE_OK);
    ASSERT_EQ(f.truncate(4096), SQLITE_OK);
    EXPECT_EQ(d.size("/f"), 4096u);
    crash(d, /*torn=*/false);
  }
  EXPECT_EQ(d.contents("/f"), fill(8192, 3));
  EXPECT_EQ(d.stats().truncations_lost, 1u);
  {
    // Order matters: a write past a truncation leaves zeros between, durably once synced.
    RawFile f(d, "/f");
    ASSERT_EQ(f.truncate(4096), SQLITE_OK);
    ASSERT_EQ(f.write(6000, fill(100, 4)), SQLITE_OK);
    ASSERT_EQ(f.sync(), SQLITE_OK);
    ASSERT_EQ(f.truncate(5000), SQLITE_OK);  // pending: lost below
    crash(d, /*torn=*/true);
  }
  Bytes expected = fill(4096, 3);
  expected.resize(6000, 0);
  expected.resize(6100, 4);
  EXPECT_EQ(d.contents("/f"), expected);
  EXPECT_EQ(d.stats().truncations_lost, 2u);
  EXPECT_EQ(d.stats().torn_writes, 0u);  // a truncation is never torn
}

TEST(Disk, TempFilesVanishOnCloseAndOnCrash) {
  World world(15);
  Disk& d = world.add_node("db", "lhr").disk();
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_TEMP_DB;
  {
    RawFile t(d, nullptr, flags);
    ASSERT_EQ(t.open_rc(), SQLITE_OK);
    EXPECT_EQ(d.files(), (std::vector<std::string>{"/tmp-1"}));
  }
  EXPECT_TRUE(d.files().empty());
  {
    RawFile t(d, nullptr, flags);
    ASSERT_EQ(t.write(0, fill(512, 1)), SQLITE_OK);
    ASSERT_EQ(t.sync(), SQLITE_OK);
    EXPECT_EQ(d.files(), (std::vector<std::string>{"/tmp-2"}));
    crash(d, /*torn=*/true);
    EXPECT_TRUE(d.files().empty());
  }
  // SQLite's own temp files go through the VFS too, and do not outlive their use.
  const auto writes = d.stats().writes;
  Db db(d, "/app.db");
  ASSERT_EQ(db.exec("PRAGMA temp_store=FILE; PRAGMA temp.cache_size=10;"
                    "CREATE TEMP TABLE scratch(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
                    "SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO scratch SELECT "
                    "printf('%0500d', i) FROM c"),
            SQLITE_OK);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM scratch"), "2000");
  EXPECT_GT(d.stats().writes, writes);  // the temp database spilled to this disk
  EXPECT_EQ(db.close(), SQLITE_OK);
  EXPECT_EQ(d.files(), (std::vector<std::string>{"/app.db"}));
}

TEST(Disk, LocksFollowThePosixRules) {
  World world(16);
  Disk& d = world.add_node("db", "lhr").disk();
  RawFile a(d, "/f");
  RawFile b(d, "/f");
  int reserved = -1;
  EXPECT_EQ(a.lock(SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(b.lock(SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(a.lock(SQLITE_LOCK_RESERVED), SQLITE_OK);
  EXPECT_EQ(b.reserved(&reserved), SQLITE_OK);
  EXPECT_EQ(reserved, 1);
  EXPECT_EQ(b.lock(SQLITE_LOCK_RESERVED), SQLITE_BUSY);   // one writer at a time
  EXPECT_EQ(a.lock(SQLITE_LOCK_EXCLUSIVE), SQLITE_BUSY);  // b still reads: a waits at PENDING
  RawFile c(d, "/f");
  EXPECT_EQ(c.lock(SQLITE_LOCK_SHARED), SQLITE_BUSY);  // PENDING keeps new readers out
  EXPECT_EQ(b.unlock(SQLITE_LOCK_NONE), SQLITE_OK);
  EXPECT_EQ(a.lock(SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  EXPECT_EQ(b.lock(SQLITE_LOCK_SHARED), SQLITE_BUSY);
  EXPECT_EQ(a.unlock(SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(b.lock(SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(b.reserved(&reserved), SQLITE_OK);
  EXPECT_EQ(reserved, 0);
  EXPECT_EQ(a.close(), SQLITE_OK);  // closing releases the handle's locks
  EXPECT_EQ(b.lock(SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
}

TEST(Disk, ConnectionsOnOneFileSerializeWriters) {
  World world(17);
  Disk& d = world.add_node("db", "lhr").disk();
  Db a(d, "/app.db");
  Db b(d, "/app.db");
  ASSERT_EQ(a.exec(kSchema), SQLITE_OK);
  ASSERT_EQ(a.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  ASSERT_EQ(a.put(1, "a"), SQLITE_OK);
  EXPECT_EQ(b.exec("BEGIN IMMEDIATE"), SQLITE_BUSY);
  EXPECT_EQ(b.rows(), Rows{});  // readers go on while a writer holds RESERVED
  ASSERT_EQ(b.exec("BEGIN"), SQLITE_OK);
  ASSERT_EQ(b.rows(), Rows{});               // b now holds SHARED for its read transaction
  EXPECT_EQ(a.exec("COMMIT"), SQLITE_BUSY);  // a needs EXCLUSIVE; b still reads
  ASSERT_EQ(b.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(a.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(b.rows(), (Rows{{1, "a"}}));
}

TEST(Disk, PowerCutFailsEverythingUntilTheCrash) {
  World world(18);
  Disk& d = world.add_node("db", "lhr").disk();
  sqlite3_vfs* vfs = vfs_of(d);
  {
    RawFile f(d, "/f");
    d.TEST_cut_power_after(2);
    ASSERT_EQ(f.write(0, fill(512, 1)), SQLITE_OK);
    ASSERT_EQ(f.sync(), SQLITE_OK);
    EXPECT_TRUE(d.powered());
    EXPECT_EQ(f.write(512, fill(512, 2)), SQLITE_IOERR);
    EXPECT_FALSE(d.powered());
    Bytes out;
    EXPECT_EQ(f.read(0, 512, &out), SQLITE_IOERR);
    EXPECT_EQ(f.sync(), SQLITE_IOERR);
    int exists = -1;
    EXPECT_EQ(vfs->xAccess(vfs, "/f", SQLITE_ACCESS_EXISTS, &exists), SQLITE_IOERR_ACCESS);
    EXPECT_EQ(vfs->xDelete(vfs, "/f", 0), SQLITE_IOERR_DELETE);
    RawFile g(d, "/g");
    EXPECT_NE(g.open_rc(), SQLITE_OK);
    crash(d, /*torn=*/true);
  }
  EXPECT_TRUE(d.powered());
  EXPECT_EQ(d.files(), (std::vector<std::string>{"/f"}));
  EXPECT_EQ(d.contents("/f"), fill(512, 1));
  RawFile f(d, "/f");
  EXPECT_EQ(f.write(512, fill(512, 2)), SQLITE_OK);  // the crash cleared the cut
}

}  // namespace
}  // namespace sim
