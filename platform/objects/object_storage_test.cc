#include "platform/objects/object_storage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace objects {
namespace {

// The storage methods as object_storage.js calls them, without an isolate: the replies JS parses
// and the messages its exceptions carry.
class ObjectStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ObjectStorage::open("");
    ASSERT_TRUE(opened.ok());
    storage_ = std::move(opened.value());
  }
  js::CallReply call(std::string method, std::string json = "null", std::string bytes = "") {
    js::CallRequest r;
    r.method = std::move(method);
    r.json = std::move(json);
    r.has_bytes = !bytes.empty();
    r.bytes = std::move(bytes);
    return storage_->call(r);
  }
  // "ok <json>" or "<error name>: <message>".
  std::string outcome(const js::CallReply& r) {
    return r.ok ? "ok " + r.json : r.error_name + ": " + r.error_message;
  }
  std::unique_ptr<ObjectStorage> storage_;
};

TEST_F(ObjectStorageTest, KvMethodsReplyWithIndexedValueBytes) {
  EXPECT_EQ(outcome(call("put", R"({"entries":[["b",2],["a",1]]})", "xxy")), "ok null");
  EXPECT_TRUE(storage_->dirty());
  // In key order; offsets index the reply's bytes.
  js::CallReply got = call("get", R"({"keys":["b","a","z"]})");
  EXPECT_EQ(outcome(got), R"(ok {"values":[["a",2,1],["b",0,2]]})");
  EXPECT_EQ(got.bytes, "xxy");
  js::CallReply listed = call("list", R"({"reverse":true,"limit":1})");
  EXPECT_EQ(outcome(listed), R"(ok {"values":[["b",0,2]]})");
  EXPECT_EQ(listed.bytes, "xx");
  EXPECT_EQ(outcome(call("delete", R"({"keys":["a","zz"]})")), R"(ok {"deleted":1})");
  EXPECT_FALSE(storage_->take_image().empty());
  EXPECT_FALSE(storage_->dirty());
}

TEST_F(ObjectStorageTest, TransactionsAlarmsAndSql) {
  EXPECT_EQ(outcome(call("begin")), "ok null");
  EXPECT_TRUE(storage_->in_transaction());
  EXPECT_EQ(outcome(call("put", R"({"entries":[["t",1]]})", "1")), "ok null");
  EXPECT_EQ(outcome(call("rollback")), "ok null");
  EXPECT_FALSE(storage_->in_transaction());
  EXPECT_EQ(outcome(call("list")), R"(ok {"values":[]})");

  EXPECT_EQ(outcome(call("setAlarm", R"({"time":1234.5})")), "ok null");
  EXPECT_EQ(storage_->alarm(), 1234.5);
  EXPECT_EQ(outcome(call("getAlarm")), R"(ok {"time":1234.5})");
  EXPECT_EQ(outcome(call("deleteAlarm")), "ok null");
  EXPECT_EQ(outcome(call("getAlarm")), R"(ok {"time":null})");

  const std::string create = R"j({"query":"CREATE TABLE t (x)"})j";
  EXPECT_EQ(outcome(call("sql", create)).substr(0, 2), "ok");
  const std::string insert = R"j({"query":"INSERT INTO t VALUES (?)","bindings":[7]})j";
  EXPECT_EQ(outcome(call("sql", insert)),
            R"(ok {"columns":[],"rows":[],"rowsRead":0,"rowsWritten":1})");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT x, CAST('ab' AS BLOB) AS b FROM t"})")),
            R"(ok {"columns":["x","b"],"rows":[[7,{"$blob":"YWI="}]],"rowsRead":1,)"
            R"("rowsWritten":0})");
  EXPECT_EQ(outcome(call("deleteAll")), "ok null");  // drops the SQL API's tables too
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT x FROM t"})")),
            "Error: no such table: t: SQLITE_ERROR");
  EXPECT_TRUE(call("dbsize").json.starts_with("{\"size\":"));
}

TEST_F(ObjectStorageTest, ErrorsNameTheirCause) {
  EXPECT_EQ(outcome(call("nope", "{}")), "Error: storage: unknown method nope");
  // Malformed JSON is reported as such, whatever the method.
  EXPECT_EQ(outcome(call("nope", "{")), "Error: storage: malformed arguments");
  EXPECT_EQ(outcome(call("get", "{")), "Error: storage: malformed arguments");
  EXPECT_EQ(outcome(call("get", "{}")), "Error: storage: get needs keys");
  EXPECT_EQ(outcome(call("put", "{}")), "Error: storage: put needs entries");
  EXPECT_EQ(outcome(call("delete", "{}")), "Error: storage: delete needs keys");
  EXPECT_TRUE(outcome(call("get", R"({"keys":[1]})"))
                  .starts_with("Error: storage: malformed arguments to get: "));
  EXPECT_EQ(outcome(call("put", R"({"entries":[["k",5]]})", "abc")),
            "Error: storage: put values truncated");
  EXPECT_EQ(outcome(call("release")), "Error: storage: no transaction is open");
  EXPECT_EQ(outcome(call("rollback")), "Error: storage: no transaction is open");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT ?","bindings":[]})")),
            "Error: Wrong number of parameter bindings for SQL query.");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT 1","bindings":[1]})")),
            "Error: Wrong number of parameter bindings for SQL query.");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT ?","bindings":[true]})")),
            "Error: Unsupported type for a SQL binding.");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT ?","bindings":[{"$blob":"!"}]})")),
            "Error: storage: bad blob binding");
  EXPECT_EQ(outcome(call("sql", R"({"query":"SELECT * FROM _cf_KV"})")),
            "Error: access to _cf_KV.key is prohibited: SQLITE_ERROR");
  EXPECT_EQ(outcome(call("sql", R"({"query":"BEGIN"})")), "Error: not authorized: SQLITE_ERROR");
}

}  // namespace
}  // namespace objects
