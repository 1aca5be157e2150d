// WebSockets end to end with the hibernation API: a PoP Worker forwards upgrades to a chat room
// object; simulated clients (ClientSockets) talk to it. The room broadcasts to every member
// across hibernation (constructor runs again, sockets and attachments stay), sees clean closes,
// and its sockets close when its host crashes.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/bindings/binding_table.h"
#include "platform/bindings/do_binding.h"
#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/objects/object_host.h"
#include "platform/objects/websockets.h"
#include "sim/world.h"

namespace objects {
namespace {

using namespace ::runtime;   // NOLINT: a test of several layers
using namespace ::bindings;  // NOLINT: a test of several layers

const char kPopScript[] = R"js(
export default {
  async fetch(request, env) {
    // The upgraded socket, taken from the object's response and returned in a new one.
    const r = await env.ROOMS.getByName('lobby').fetch(request);
    if (r.status !== 101 || r.webSocket === null) return new Response('no socket', {status: 500});
    return new Response(null, {status: 101, webSocket: r.webSocket});
  },
};
)js";

const char kRoomScript[] = R"js(
import {DurableObject} from 'cloudflare:workers';
let constructed = 0;  // per isolate: a hibernated room comes back in a new isolate
export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.generation = ++constructed + ':' + Date.now();
  }
  async fetch(request) {
    const name = new URL(request.url).searchParams.get('name');
    // Either end of a pair may be accepted: this room keeps pair[0] and returns pair[1].
    const pair = new WebSocketPair();
    const [server, client] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [name, 'all']);
    server.serializeAttachment({name});
    return new Response(null, {status: 101, webSocket: client});
  }
  async webSocketMessage(ws, message) {
    const {name} = ws.deserializeAttachment();
    if (message instanceof ArrayBuffer) {
      ws.send(new Uint8Array(message).reverse());
      return;
    }
    if (message === 'whoami') {
      ws.send(`${name} tags=${this.ctx.getTags(ws).join(',')} members=${
          this.ctx.getWebSockets('all').length} generation=${this.generation}`);
      return;
    }
    if (message === 'leave') {
      ws.close(4000, 'asked to leave');
      return;
    }
    if (message === 'arm') {
      await this.ctx.storage.setAlarm(Date.now() + 5000);
      ws.send('armed');
      return;
    }
    if (message === 'inc') {
      const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
      await this.ctx.storage.put('n', n);
      ws.send(`n=${n}`);
      return;
    }
    if (message === 'alarms') {
      ws.send(`alarms=${(await this.ctx.storage.get('alarms')) ?? 0}`);
      return;
    }
    for (const peer of this.ctx.getWebSockets()) peer.send(`${name}: ${message}`);
  }
  async alarm(info) {
    await this.ctx.storage.put('alarms', ((await this.ctx.storage.get('alarms')) ?? 0) + 1);
  }
  async webSocketClose(ws, code, reason, wasClean) {
    const {name} = ws.deserializeAttachment();
    for (const peer of this.ctx.getWebSockets()) {
      peer.send(`${name} left: ${code} ${reason} ${wasClean}`);
    }
    ws.close(1000, 'bye too');  // reciprocating the close is allowed (a no-op here)
  }
}
export default {};
)js";

// One PoP, DO hosts (host-lhr, then host-iad), three storage nodes, a directory and three client
// nodes (a, b, c).
struct ChatWorld {
  explicit ChatWorld(std::uint64_t seed, int host_count = 1)
      : world(seed), cluster(world, config()) {
    platform::init_engine();
    pop = &world.add_node("pop-lhr", "lhr");
    sim::Node& dir = world.add_node("dir", "lhr");
    host = &world.add_node("host-lhr", "lhr");
    cluster.add_directory(dir);
    for (const char* s : {"fra", "ams", "ord"}) {
      cluster.add_storage(world.add_node(std::string("store-") + s, s));
    }
    runtime::WorkerConfig room;
    room.name = "room";
    room.modules = {{"room.js", kRoomScript}};
    room.main = "room.js";
    DoHostConfig hc;
    hc.classes["Room"] = room;
    executor = std::make_unique<DoHost>(world, *host, hc);
    cluster.add_host(*host, *executor);
    if (host_count > 1) {
      host2 = &world.add_node("host-iad", "iad");
      executor2 = std::make_unique<DoHost>(world, *host2, hc);
      cluster.add_host(*host2, *executor2);
    }
    services = std::make_unique<BindingTable>();
    services->add("ROOMS", std::make_unique<DoBinding>("Room", cluster));
    runtime::WorkerConfig c;
    c.name = "app";
    c.modules = {{"index.js", kPopScript}};
    c.main = "index.js";
    c.env = services->env();
    c.services = services.get();
    worker = std::make_unique<runtime::Worker>(world, *pop, c);
    for (const char* name : {"a", "b", "c"}) {
      sim::Node& n = world.add_node(name, "lhr");
      n.set_faultable(false);
      auto cs = std::make_unique<ClientSockets>(world, n);
      ClientSockets* raw = cs.get();
      n.on_boot([raw](sim::Node&) { raw->boot(); });
      clients[name] = {&n, std::move(cs)};
    }
    world.start();
  }
  ~ChatWorld() {
    worker.reset();
    executor.reset();
    executor2.reset();
  }
  static services::DoClusterConfig config() { return {}; }

  // Upgrades through the PoP and opens the socket from the client's node; returns its id.
  std::string join(const std::string& name) {
    std::string socket;
    world.spawn(*pop, "upgrade-" + name, [&, name](sim::Task& task) {
      runtime::HttpRequest req;
      req.url = "https://app.test/chat?name=" + name;
      req.headers = {{"upgrade", "websocket"}};
      auto r = worker->fetch(task, req);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r->status, 101) << r->body << r->error;
      socket = r->header(kSocketHeader);
    });
    world.run_until(world.now() + sim::kSecond);
    EXPECT_FALSE(socket.empty());
    std::string id;
    on(name, [&](sim::Task& task, ClientSockets& cs) {
      auto r = cs.open(task, socket);
      ASSERT_TRUE(r.ok()) << r.error().message;
      id = r.value();
    });
    return id;
  }

  void on(const std::string& name, std::function<void(sim::Task&, ClientSockets&)> fn) {
    auto& [node, cs] = clients.at(name);
    ClientSockets* raw = cs.get();
    world.spawn(*node, "client-" + name, [fn, raw](sim::Task& task) { fn(task, *raw); });
    world.run_until(world.now() + sim::kSecond);
  }

  // Everything the client received so far (messages as text; a close as "close <code>").
  std::vector<std::string> drain(const std::string& name, const std::string& id) {
    std::vector<std::string> out;
    on(name, [&](sim::Task& task, ClientSockets& cs) {
      for (;;) {
        ClientSockets::Received m = cs.receive(task, id, sim::kMillisecond);
        if (m.kind == ClientSockets::Received::Kind::kTimeout) return;
        if (m.kind == ClientSockets::Received::Kind::kClose) {
          out.push_back("close " + std::to_string(m.code));
          return;
        }
        out.push_back(m.text ? m.data : "binary:" + m.data);
      }
    });
    return out;
  }

  void send(const std::string& name, const std::string& id, const std::string& text,
            bool binary = false) {
    on(name, [&](sim::Task& task, ClientSockets& cs) {
      sim::Status s = cs.send(task, id, !binary, text);
      EXPECT_TRUE(s.ok()) << s.error().message;
    });
  }

  sim::World world;
  services::DoCluster cluster;
  sim::Node* pop = nullptr;
  sim::Node* host = nullptr;
  std::unique_ptr<DoHost> executor;
  sim::Node* host2 = nullptr;
  std::unique_ptr<DoHost> executor2;
  std::unique_ptr<BindingTable> services;
  std::unique_ptr<runtime::Worker> worker;
  std::map<std::string, std::pair<sim::Node*, std::unique_ptr<ClientSockets>>> clients;
};

TEST(WebSocketE2e, ChatRoomBroadcastsToEveryMemberAcrossHibernation) {
  ChatWorld w(7);
  const std::string a = w.join("a");
  const std::string b = w.join("b");
  const std::string c = w.join("c");
  w.send("a", a, "hello");
  for (const char* who : {"a", "b", "c"}) {
    const std::string& id = std::string(who) == "a" ? a : std::string(who) == "b" ? b : c;
    EXPECT_EQ(w.drain(who, id), std::vector<std::string>{"a: hello"}) << who;
  }
  w.send("c", c, "whoami");
  const std::vector<std::string> before = w.drain("c", c);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].substr(0, before[0].find(" generation=")), "c tags=c,all members=3");
  EXPECT_EQ(w.executor->hibernations(), 0u);

  // Silence: the room hibernates (its instance is dropped); the sockets stay open.
  w.world.run_until(w.world.now() + 30 * sim::kSecond);
  EXPECT_EQ(w.executor->hibernations(), 1u);
  EXPECT_EQ(w.executor->sockets().open_sockets(), 3u);

  w.send("b", b, "still there?");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"b: still there?"});
  EXPECT_EQ(w.drain("c", c), std::vector<std::string>{"b: still there?"});
  EXPECT_EQ(w.drain("b", b), std::vector<std::string>{"b: still there?"});
  // A new instance (the constructor ran again), with the attachment and tags kept.
  w.send("c", c, "whoami");
  const std::vector<std::string> after = w.drain("c", c);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].substr(0, after[0].find(" generation=")), "c tags=c,all members=3");
  EXPECT_NE(after[0], before[0]);

  // A clean close reaches the room's webSocketClose(); the others hear of it.
  w.on("c", [&](sim::Task& task, ClientSockets& cs) { cs.close(task, c, 1000, "bye"); });
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"c left: 1000 bye true"});
  EXPECT_EQ(w.drain("b", b), std::vector<std::string>{"c left: 1000 bye true"});
  EXPECT_EQ(w.executor->sockets().open_sockets(), 2u);
}

TEST(WebSocketE2e, BinaryFramesAndServerClose) {
  ChatWorld w(11);
  const std::string a = w.join("a");
  w.send("a", a, std::string("\x01\x02\x03", 3), /*binary=*/true);
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"binary:" + std::string("\x03\x02\x01", 3)});
  w.send("a", a, "leave");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"close 4000"});
  EXPECT_EQ(w.executor->sockets().open_sockets(), 0u);
}

TEST(WebSocketE2e, SocketsCloseWhenTheHostCrashes) {
  ChatWorld w(5);
  const std::string a = w.join("a");
  const std::string b = w.join("b");
  w.world.crash(*w.host);
  // The clients notice within a heartbeat (5 s) plus a frame timeout (2 s).
  w.world.run_until(w.world.now() + 8 * sim::kSecond);
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"close 1006"});
  EXPECT_EQ(w.drain("b", b), std::vector<std::string>{"close 1006"});
  w.world.restart(*w.host);
  w.world.run_until(w.world.now() + 15 * sim::kSecond);
  EXPECT_EQ(w.executor->sockets().open_sockets(), 0u);
  // Joining again works (the room activates anew once the old lease is gone).
  const std::string again = w.join("a");
  w.send("a", again, "back");
  EXPECT_EQ(w.drain("a", again), std::vector<std::string>{"a: back"});
}

TEST(WebSocketE2e, OpenSocketsKeepTheObjectActivePastTheIdleTimeout) {
  ChatWorld w(3);
  const std::string a = w.join("a");
  // Far past the cluster's idle_timeout (70 s): the object hibernates but is not released.
  w.world.run_until(w.world.now() + 200 * sim::kSecond);
  EXPECT_EQ(w.cluster.stats().activations, 1u);
  EXPECT_EQ(w.executor->sockets().open_sockets(), 1u);
  w.send("a", a, "ping");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"a: ping"});
  EXPECT_EQ(w.cluster.stats().activations, 1u);
  // Once the last socket closes, idleness releases it again.
  w.on("a", [&](sim::Task& task, ClientSockets& cs) { cs.close(task, a, 1000, ""); });
  w.world.run_until(w.world.now() + 200 * sim::kSecond);
  EXPECT_EQ(w.executor->sockets().open_sockets(), 0u);
  EXPECT_EQ(w.cluster.TEST_active(*w.host, w.cluster.activations().front().object), nullptr);
}

// A JS alarm set before its host crashes fires anyway (at least once), on whichever host the
// object wakes; its effect is durable.
TEST(WebSocketE2e, AlarmFiresAcrossAHostCrash) {
  ChatWorld w(9, /*host_count=*/2);
  const std::string a = w.join("a");
  w.send("a", a, "arm");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"armed"});
  sim::Node* where = w.executor->sockets().open_sockets() == 1 ? w.host : w.host2;
  w.world.crash(*where);
  w.world.run_until(w.world.now() + 60 * sim::kSecond);
  w.world.restart(*where);
  w.world.run_until(w.world.now() + 5 * sim::kSecond);
  EXPECT_GE(w.cluster.stats().alarms_fired, 1u);
  const std::string again = w.join("b");
  w.send("b", again, "alarms");
  const std::vector<std::string> got = w.drain("b", again);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0], "alarms=0");
}

TEST(WebSocketE2e, StorageWrittenBeforeHibernationIsThereAfterIt) {
  ChatWorld w(13);
  const std::string a = w.join("a");
  w.send("a", a, "inc");
  w.send("a", a, "inc");
  EXPECT_EQ(w.drain("a", a), (std::vector<std::string>{"n=1", "n=2"}));
  w.world.run_until(w.world.now() + 30 * sim::kSecond);
  ASSERT_EQ(w.executor->hibernations(), 1u);
  // The new instance starts from what was acknowledged, not from the activation's image.
  w.send("a", a, "inc");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"n=3"});
  w.world.run_until(w.world.now() + 30 * sim::kSecond);
  ASSERT_EQ(w.executor->hibernations(), 2u);
  w.send("a", a, "inc");
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"n=4"});
}

TEST(WebSocketE2e, TheHostNoticesAClientThatWentSilent) {
  ChatWorld w(17);
  const std::string a = w.join("a");
  const std::string b = w.join("b");
  w.world.crash(*w.clients.at("b").first);  // no close frame, no heartbeat
  w.world.run_until(w.world.now() + 15 * sim::kSecond);
  EXPECT_EQ(w.drain("a", a), std::vector<std::string>{"b left: 1006  false"});
  EXPECT_EQ(w.executor->sockets().open_sockets(), 1u);
}

}  // namespace
}  // namespace objects
