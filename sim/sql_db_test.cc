#include "sim/sql_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "sim/node.h"
#include "sim/world.h"

namespace sim {
namespace {

constexpr char kSchema[] = "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB);";

std::vector<std::string> values(SqlDb& db) {
  std::vector<std::string> out;
  EXPECT_TRUE(db.run("SELECT v FROM kv ORDER BY k", {},
                     [&](sqlite3_stmt* st) { out.push_back(SqlDb::column_blob(st, 0)); }));
  return out;
}

TEST(SqlDb, BindsTextIntegersBlobsAndNullAndReadsThemBack) {
  World world(1);
  Disk& disk = world.add_node("db", "lhr").disk();
  SqlDb db;
  ASSERT_TRUE(db.open(disk, "/t.db", true, "CREATE TABLE t (a TEXT, b INTEGER, c BLOB, d);"));
  const std::string blob("\0\1\2", 3);
  ASSERT_TRUE(db.run("INSERT INTO t VALUES (?, ?, ?, ?)", {std::string_view("x"), std::int64_t{-7},
                                                           SqlDb::Blob{blob}, std::monostate{}}));
  ASSERT_TRUE(db.run("INSERT INTO t VALUES ('', 0, ?, 1)", {SqlDb::Blob{""}}));
  int rows = 0;
  ASSERT_TRUE(db.run("SELECT a, b, c, d FROM t ORDER BY b", {}, [&](sqlite3_stmt* st) {
    if (rows++ == 0) {
      EXPECT_EQ(SqlDb::column_text(st, 0), "x");
      EXPECT_EQ(SqlDb::column_int(st, 1), -7);
      EXPECT_EQ(SqlDb::column_blob(st, 2), blob);
      EXPECT_TRUE(SqlDb::column_null(st, 3));
    } else {
      EXPECT_FALSE(SqlDb::column_null(st, 2));  // an empty blob is not NULL
      EXPECT_EQ(SqlDb::column_blob(st, 2), "");
    }
  }));
  EXPECT_EQ(rows, 2);
  EXPECT_FALSE(db.run("SELECT * FROM nowhere", {}));
  EXPECT_NE(db.error().find("nowhere"), std::string::npos);
}

TEST(SqlDb, ASyncedWriteSurvivesACrashAndAnUnsyncedOneMayNot) {
  for (const bool synced : {true, false}) {
    World world(3);
    Node& node = world.add_node("db", "lhr");
    {
      SqlDb db;
      ASSERT_TRUE(db.open(node.disk(), "/s.db", true, kSchema));  // the table itself is durable
    }
    SqlDb db;
    ASSERT_TRUE(db.open(node.disk(), "/s.db", synced, kSchema));
    ASSERT_TRUE(db.run("INSERT INTO kv VALUES ('a', ?)", {SqlDb::Blob{"1"}}));
    EXPECT_EQ(db.synced(), synced);
    node.disk().crash(false);
    db.close();
    SqlDb again;
    ASSERT_TRUE(again.open(node.disk(), "/s.db", true, kSchema));
    EXPECT_EQ(values(again), synced ? std::vector<std::string>{"1"} : std::vector<std::string>{})
        << "synced " << synced;
  }
}

// A user's statements (D1): typed cells, several statements in one text, the counts, the
// read-only test, and errors with SQLite's code name.
TEST(SqlDb, QueryRunsAUsersStatementsWithTypedResults) {
  World world(2);
  Disk& disk = world.add_node("db", "lhr").disk();
  SqlDb db;
  ASSERT_TRUE(db.open(disk, "/q.db", true, ""));
  SqlDb::Outcome o;
  ASSERT_TRUE(db.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v); INSERT INTO t (v) VALUES (?)",
                       {SqlDb::Param{std::int64_t{5}}}, &o))
      << o.error;
  EXPECT_FALSE(o.read_only);
  EXPECT_EQ(o.changes, 1);
  EXPECT_EQ(o.last_row_id, 1);
  const std::string blob("\0\xff", 2);
  ASSERT_TRUE(db.query("INSERT INTO t (v) VALUES (?), (?), (?), (?)",
                       {SqlDb::Param{1.5}, SqlDb::Param{std::string("x")},
                        SqlDb::Param{SqlDb::Blob{blob}}, SqlDb::Param{std::monostate{}}},
                       &o));
  EXPECT_EQ(o.changes, 4);
  ASSERT_TRUE(db.query("SELECT v FROM t ORDER BY id", {}, &o));
  EXPECT_TRUE(o.read_only);
  ASSERT_EQ(o.columns, std::vector<std::string>{"v"});
  ASSERT_EQ(o.rows.size(), 5u);
  using T = SqlDb::Cell::Type;
  EXPECT_EQ(o.rows[0][0].type, T::kInteger);
  EXPECT_EQ(o.rows[0][0].integer, 5);
  EXPECT_EQ(o.rows[1][0].type, T::kReal);
  EXPECT_EQ(o.rows[1][0].real, 1.5);
  EXPECT_EQ(o.rows[2][0].type, T::kText);
  EXPECT_EQ(o.rows[2][0].bytes, "x");
  EXPECT_EQ(o.rows[3][0].type, T::kBlob);
  EXPECT_EQ(o.rows[3][0].bytes, blob);
  EXPECT_EQ(o.rows[4][0].type, T::kNull);
  EXPECT_TRUE(db.read_only("SELECT 1; SELECT 2"));
  EXPECT_FALSE(db.read_only("SELECT 1; DELETE FROM t"));
  EXPECT_FALSE(db.read_only("SELECT * FROM missing"));  // not known to only read
  EXPECT_FALSE(db.query("INSERT INTO t (id) VALUES (1)", {}, &o));
  EXPECT_EQ(o.error, "UNIQUE constraint failed: t.id");
  EXPECT_EQ(o.error_code, "SQLITE_CONSTRAINT");
  EXPECT_FALSE(
      db.query("SELECT ?", {SqlDb::Param{std::int64_t{1}}, SqlDb::Param{std::int64_t{2}}}, &o));
  EXPECT_EQ(o.error, "Wrong number of parameter bindings for SQL query.");
  db.limit_variables(2);
  EXPECT_FALSE(db.query("SELECT ?, ?, ?", {}, &o));
  EXPECT_EQ(o.error, "too many SQL variables");
  EXPECT_GT(db.size_bytes(), 0);
}

}  // namespace
}  // namespace sim
