#include "props/models.h"

#include <gtest/gtest.h>

namespace props {
namespace {

sim::Operation op(std::string kind, std::string input = "", std::string output = "") {
  sim::Operation o;
  o.kind = std::move(kind);
  o.input = std::move(input);
  o.output = std::move(output);
  o.status = sim::OpStatus::kOk;
  return o;
}

TEST(Models, Register) {
  RegisterModel m;
  EXPECT_EQ(m.init(), "null");
  StepResult w = m.step("null", op("write", "5"));
  EXPECT_TRUE(w.legal);
  EXPECT_EQ(w.state, "5");
  EXPECT_EQ(m.step("5", op("read", "", "5")).output, "5");
  EXPECT_EQ(m.step("null", op("read", "", "")).output, "");  // absent may read as ""
  EXPECT_EQ(m.step("null", op("read", "", "null")).output, "null");
  EXPECT_EQ(m.step("", op("read", "", "null")).output, "");  // "" is a value, not absence
  StepResult cas = m.step("5", op("cas", "5,6"));
  EXPECT_EQ(cas.state, "6");
  EXPECT_EQ(cas.output, "true");
  EXPECT_EQ(m.step("5", op("cas", "4,6")).output, "false");
  EXPECT_EQ(m.step("null", op("cas", "null,1")).state, "1");
  EXPECT_FALSE(m.step("5", op("cas", "4")).legal);
  EXPECT_FALSE(m.step("5", op("frob")).legal);
  EXPECT_TRUE(m.read_only(op("read")));
  EXPECT_FALSE(m.read_only(op("cas")));
}

TEST(Models, Counter) {
  CounterModel m;
  EXPECT_EQ(m.init(), "0");
  StepResult inc = m.step("0", op("increment", "", "1"));
  EXPECT_EQ(inc.state, "1");
  EXPECT_EQ(inc.output, "1");
  EXPECT_EQ(m.step("1", op("add", "-3", "-2")).state, "-2");
  EXPECT_EQ(m.step("5", op("decrement", "", "4")).output, "4");
  EXPECT_EQ(m.step("5", op("increment", "", "")).output, "");  // output not recorded: unchecked
  EXPECT_EQ(m.step("5", op("read", "", "5")).output, "5");
  EXPECT_FALSE(m.step("5", op("increment", "x")).legal);
  EXPECT_FALSE(m.step("9223372036854775807", op("increment")).legal);  // overflow
  EXPECT_TRUE(m.read_only(op("get")));
}

TEST(Models, Kv) {
  KvModel m;
  EXPECT_EQ(m.step("null", op("put", "a b")).state, "a b");
  EXPECT_EQ(m.step("x", op("delete")).state, "null");
  EXPECT_EQ(m.step("x", op("get", "", "x")).output, "x");
  EXPECT_EQ(m.step("null", op("get", "", "")).output, "");
  EXPECT_FALSE(m.step("x", op("list")).legal);
}

TEST(Models, Set) {
  SetModel m;
  std::string s = m.init();
  s = m.step(s, op("add", "b")).state;
  s = m.step(s, op("add", "a")).state;
  s = m.step(s, op("add", "b")).state;
  EXPECT_EQ(s, "a,b");                                        // canonical: sorted, unique
  EXPECT_EQ(m.step(s, op("read", "", "b,a")).output, "b,a");  // any order
  EXPECT_EQ(m.step(s, op("read", "", "b,a,a")).output, "a,b");
  EXPECT_EQ(m.step(s, op("contains", "a")).output, "true");
  s = m.step(s, op("remove", "a")).state;
  EXPECT_EQ(s, "b");
  EXPECT_EQ(m.step(s, op("contains", "a")).output, "false");
  EXPECT_FALSE(m.step(s, op("add", "x,y")).legal);
  EXPECT_FALSE(m.step(s, op("add", "")).legal);
}

TEST(Models, List) {
  ListModel m;
  std::string s = m.init();
  s = m.step(s, op("append", "x")).state;
  s = m.step(s, op("append", "y")).state;
  EXPECT_EQ(s, "x,y");
  EXPECT_EQ(m.step(s, op("read")).output, "x,y");
  EXPECT_FALSE(m.step(s, op("append", "a,b")).legal);
}

TEST(Models, Factory) {
  for (const std::string& name : builtin_model_names()) {
    auto m = make_model(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->name(), name);
  }
  EXPECT_EQ(make_model("queue"), nullptr);
}

}  // namespace
}  // namespace props
