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

}  // namespace
}  // namespace sim
