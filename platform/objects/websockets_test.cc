#include "platform/objects/websockets.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "sim/world.h"

namespace objects {
namespace {

// The hub's side of the object's WebSocket calls (websockets.js), without an isolate or a client:
// the replies JS parses, the messages its exceptions carry, and the frames left behind the gate.
class SocketHubTest : public ::testing::Test {
 protected:
  SocketHubTest()
      : host_(world_.add_node("host", "lhr")),
        hub_(world_, host_, [](sim::Task&, const SocketEvent&) { return sim::Status::Ok(); }) {
    world_.start();
  }
  js::CallReply call(std::string method, std::string json, std::string bytes = "",
                     const std::string& object = "Room/a") {
    js::CallRequest r;
    r.method = std::move(method);
    r.json = std::move(json);
    r.has_bytes = !bytes.empty();
    r.bytes = std::move(bytes);
    return hub_.call(object, 1, r, [this](std::function<void(bool)> frame) {
      gated_.push_back(std::move(frame));
    });
  }
  // "ok <json>" or "<error name>: <message>".
  static std::string outcome(const js::CallReply& r) {
    return r.ok ? "ok " + r.json : r.error_name + ": " + r.error_message;
  }
  // The id of a socket newly accepted with `tags_json`.
  std::string accept(const std::string& tags_json = "[]") {
    js::CallReply r = call("accept", R"({"tags":)" + tags_json + "}");
    EXPECT_TRUE(r.ok) << outcome(r);
    const std::string prefix = R"({"id":")";
    return r.json.substr(prefix.size(), r.json.size() - prefix.size() - 2);
  }
  static std::string with_id(const std::string& id, const std::string& more = "") {
    return R"({"id":")" + id + "\"" + more + "}";
  }

  sim::World world_{7};
  sim::Node& host_;
  SocketHub hub_;
  std::vector<std::function<void(bool)>> gated_;
};

TEST_F(SocketHubTest, AcceptedSocketsAreListedByTagWithTheirStateAndAttachment) {
  const std::string a = accept(R"(["red","blue"])");
  const std::string b = accept();
  EXPECT_TRUE(a.starts_with("ws-")) << a;
  EXPECT_NE(a, b);
  EXPECT_EQ(hub_.sockets_of("Room/a"), 2u);
  EXPECT_EQ(outcome(call("list", R"({"tag":"red"})")), "ok [\"" + a + "\"]");
  EXPECT_EQ(outcome(call("list", R"({"tag":""})")), "ok [\"" + a + "\",\"" + b + "\"]");
  EXPECT_EQ(outcome(call("tags", with_id(a))), R"(ok ["red","blue"])");
  EXPECT_EQ(outcome(call("state", with_id(a))), R"(ok {"state":1})");
  // Another object's sockets are not this one's.
  EXPECT_EQ(outcome(call("state", with_id(a), "", "Room/b")), R"(ok {"state":3})");
  EXPECT_EQ(outcome(call("tags", with_id(a), "", "Room/b")), "ok []");

  EXPECT_EQ(outcome(call("getAttachment", with_id(a))), R"(ok {"found":false})");
  EXPECT_EQ(outcome(call("setAttachment", with_id(a), "abc")), "ok null");
  js::CallReply got = call("getAttachment", with_id(a));
  EXPECT_EQ(outcome(got), R"(ok {"found":true})");
  EXPECT_EQ(got.bytes, "abc");
}

TEST_F(SocketHubTest, FramesWaitBehindTheGateAndCloseIsFinal) {
  const std::string a = accept();
  EXPECT_EQ(outcome(call("send", with_id(a, R"(,"text":true)"), "hi")), "ok null");
  EXPECT_EQ(gated_.size(), 1u);
  EXPECT_EQ(outcome(call("close", with_id(a, R"(,"code":1000,"reason":"bye")"))), "ok null");
  EXPECT_EQ(gated_.size(), 2u);
  EXPECT_EQ(outcome(call("state", with_id(a))), R"(ok {"state":2})");
  EXPECT_EQ(outcome(call("list", R"({"tag":""})")), "ok []");
  // Closing twice is a no-op; sending after close is not.
  EXPECT_EQ(outcome(call("close", with_id(a, R"(,"code":1000)"))), "ok null");
  EXPECT_EQ(gated_.size(), 2u);
  EXPECT_EQ(outcome(call("send", with_id(a), "x")),
            "TypeError: Can't call WebSocket send() after close().");
}

TEST_F(SocketHubTest, ErrorsNameTheirCause) {
  const std::string a = accept();
  EXPECT_EQ(outcome(call("nope", "{}")), "Error: no such WebSocket method nope");
  EXPECT_EQ(outcome(call("accept", R"({"tags":["1","2","3","4","5","6","7","8","9","10","11"]})")),
            "Error: a WebSocket may have at most 10 tags");
  EXPECT_EQ(outcome(call("accept", R"({"tags":[1]})")), "TypeError: tags must be strings");
  EXPECT_EQ(outcome(call("accept", R"({"tags":[")" + std::string(257, 't') + R"("]})")),
            "Error: a WebSocket tag may have at most 256 characters");
  EXPECT_EQ(outcome(call("close", with_id("ws-9.9-9"))),
            "TypeError: Can't call WebSocket close() after close().");
  EXPECT_EQ(outcome(call("send", with_id("ws-9.9-9"), "x")),
            "TypeError: Can't call WebSocket send() after close().");
  EXPECT_EQ(outcome(call("setAttachment", with_id("ws-9.9-9"), "x")),
            "Error: the WebSocket is closed");
  EXPECT_EQ(outcome(call("setAttachment", with_id(a), std::string(2049, 'x'))),
            "Error: serializeAttachment: the attachment is larger than 2048 bytes (2049)");
  EXPECT_EQ(outcome(call("send", with_id(a), std::string((1 << 20) + 1, 'x'))),
            "Error: WebSocket message is larger than 1 MiB");
  EXPECT_EQ(outcome(call("close", with_id(a, R"(,"code":1001)"))),
            "TypeError: Invalid WebSocket close code: 1001");
  EXPECT_EQ(outcome(call("close", with_id(a, R"(,"reason":")" + std::string(124, 'r') + "\""))),
            "TypeError: WebSocket close reason is too long");
  EXPECT_EQ(gated_.size(), 0u);  // nothing failed left a frame behind
  EXPECT_EQ(outcome(call("state", with_id(a))), R"(ok {"state":1})");
}

}  // namespace
}  // namespace objects
