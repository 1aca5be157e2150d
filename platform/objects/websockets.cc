#include "platform/objects/websockets.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>
#include <utility>

#include "sim/events.h"
#include "sim/rpc.h"

namespace objects {

namespace {

// A frame on the wire: a JSON header, a newline, then the payload bytes.
std::string encode_frame(const nlohmann::json& header, std::string_view payload = {}) {
  std::string out = header.dump();
  out.push_back('\n');
  out.append(payload);
  return out;
}

struct Decoded {
  nlohmann::json header;
  std::string payload;
};

sim::Result<Decoded> decode_frame(std::string_view bytes) {
  const std::size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) return sim::Error{sim::ErrorKind::kInvalid, "bad frame"};
  Decoded d;
  d.header = nlohmann::json::parse(bytes.substr(0, nl), nullptr, false);
  if (d.header.is_discarded() || !d.header.is_object()) {
    return sim::Error{sim::ErrorKind::kInvalid, "bad frame header"};
  }
  d.payload = std::string(bytes.substr(nl + 1));
  return d;
}

nlohmann::json args_of(const js::CallRequest& r) {
  nlohmann::json a = nlohmann::json::parse(r.json, nullptr, false);
  return a.is_object() ? a : nlohmann::json::object();
}

js::CallReply reply_json(const nlohmann::json& j) {
  js::CallReply r;
  r.json = j.dump();
  return r;
}

// Close codes a script may send (RFC 6455 section 7.4: 1000 and 3000-4999).
bool valid_close_code(int code) { return code == 1000 || (code >= 3000 && code <= 4999); }

}  // namespace

sim::NodeId socket_host(std::string_view socket) {
  if (socket.rfind("ws-", 0) != 0) return sim::kNoNode;
  const std::string_view rest = socket.substr(3);
  sim::NodeId node = sim::kNoNode;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), node);
  if (ec != std::errc{} || end == rest.data() || *end != '.') return sim::kNoNode;
  return node;
}

// ---- SocketHub -----------------------------------------------------------------------------

SocketHub::SocketHub(sim::World& world, sim::Node& host, Deliver deliver, SocketTiming timing)
    : world_(world), host_(host), deliver_(std::move(deliver)), timing_(timing) {}

SocketHub::~SocketHub() = default;

const sim::Knobs<SocketTiming>& SocketTiming::knobs() {
  using C = SocketTiming;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .duration("frame_timeout", &C::frame_timeout,
                     "a WebSocket frame not acknowledged this long breaks the connection",
                     sim::kMillisecond)
           .duration("ping_every", &C::ping_every,
                     "how often a client's WebSocket sends a heartbeat", sim::kMillisecond)
           .duration("open_timeout", &C::open_timeout,
                     "an accepted WebSocket that no client opens this long is dropped",
                     sim::kMillisecond);
  return *table;
}

void SocketHub::emit(SocketEventKind kind, const std::string& id,
                     const std::function<void(sim::ev::WsSocket&)>& fill) {
  world_.emit(host_.id(), [&](sim::ev::Body& b) {
    sim::ev::WsSocket& e = *(b.*kind)();
    e.set_socket(id);
    fill(e);
  });
}

void SocketHub::boot() {
  // The sockets of an earlier incarnation died with it (and so did its reaper task).
  sockets_.clear();
  reaper_running_ = false;
  world_.rpc().serve(
      host_, kSocketService,
      [this, alive = std::weak_ptr<int>(alive_)](
          sim::Task& task, sim::NodeId from, std::string_view bytes) -> sim::Result<std::string> {
        if (alive.expired()) return sim::Error{sim::ErrorKind::kUnreachable, "gone"};
        return on_frame(task, from, bytes);
      },
      sim::Rpc::Delivery::kAtMostOnce);
}

struct SocketHub::Call {
  Call(const std::string& object, std::uint64_t activation, const js::CallRequest& request,
       const Gate& gate)
      : object(object),
        activation(activation),
        request(request),
        gate(gate),
        args(args_of(request)) {}

  const std::string& object;
  std::uint64_t activation;
  const js::CallRequest& request;
  const Gate& gate;
  const nlohmann::json args;
  // The socket the call names (args.id), when it is one of the object's: else `known` is false.
  std::string id;
  std::map<std::string, Socket>::iterator it;
  bool known = false;
};

js::CallReply SocketHub::call(const std::string& object, std::uint64_t activation,
                              const js::CallRequest& request, const Gate& gate) {
  struct Entry {
    Method method;
    bool names_socket;  // its arguments carry {id}
  };
  static const std::map<std::string, Entry, std::less<>> kMethods = {
      {"accept", {&SocketHub::accept, false}},
      {"list", {&SocketHub::list, false}},
      {"state", {&SocketHub::state, true}},
      {"tags", {&SocketHub::tags, true}},
      {"getAttachment", {&SocketHub::get_attachment, true}},
      {"setAttachment", {&SocketHub::set_attachment, true}},
      {"send", {&SocketHub::send, true}},
      {"close", {&SocketHub::close, true}},
  };
  Call c(object, activation, request, gate);
  auto entry = kMethods.find(request.method);
  // An unknown method reads args.id too: a malformed id fails the same way whatever the method.
  if (entry == kMethods.end() || entry->second.names_socket) {
    c.id = c.args.value("id", "");
    c.it = sockets_.find(c.id);
    c.known = c.it != sockets_.end() && c.it->second.object == object;
  }
  if (entry == kMethods.end()) {
    return js::CallReply::failure("Error", "no such WebSocket method " + request.method);
  }
  return (this->*entry->second.method)(c);
}

js::CallReply SocketHub::accept(Call& c) {
  if (sockets_of(c.object) >= 32768) {
    return js::CallReply::failure("Error", "too many WebSockets accepted by this object (32768)");
  }
  Socket s;
  s.object = c.object;
  s.activation = c.activation;
  s.accepted = world_.now();
  const nlohmann::json& a = c.args;
  if (a.contains("tags") && a["tags"].is_array()) {
    if (a["tags"].size() > 10) {
      return js::CallReply::failure("Error", "a WebSocket may have at most 10 tags");
    }
    for (const auto& t : a["tags"]) {
      if (!t.is_string()) return js::CallReply::failure("TypeError", "tags must be strings");
      const std::string tag = t.get<std::string>();
      if (tag.size() > 256) {
        return js::CallReply::failure("Error", "a WebSocket tag may have at most 256 characters");
      }
      s.tags.push_back(tag);
    }
  }
  const std::string id = "ws-" + std::to_string(host_.id()) + "." +
                         std::to_string(host_.incarnation()) + "-" + std::to_string(next_++);
  sockets_.emplace(id, std::move(s));
  emit(&sim::ev::Body::mutable_ws_accept, id,
       [&](sim::ev::WsSocket& e) { e.set_object(c.object); });
  // A socket no client opens (its 101 response was lost) is dropped after open_timeout.
  std::weak_ptr<int> alive = alive_;
  world_.spawn(host_, "ws.open_timeout", [this, alive, id](sim::Task& task) {
    task.sleep(timing_.open_timeout);
    if (alive.expired()) return;
    auto it = sockets_.find(id);
    if (it != sockets_.end() && it->second.client == sim::kNoNode) {
      broken(id, "no client opened it");
    }
  });
  return reply_json({{"id", id}});
}

js::CallReply SocketHub::list(Call& c) {
  const std::string tag = c.args.value("tag", "");
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& [id, s] : sockets_) {
    if (s.object != c.object || s.closing || s.gone) continue;
    if (!tag.empty() && std::find(s.tags.begin(), s.tags.end(), tag) == s.tags.end()) continue;
    ids.push_back(id);
  }
  return reply_json(ids);
}

js::CallReply SocketHub::state(Call& c) {
  // WebSocket.readyState: 1 open (or accepted), 2 closing, 3 closed.
  return reply_json({{"state", !c.known || c.it->second.gone ? 3 : c.it->second.closing ? 2 : 1}});
}

js::CallReply SocketHub::tags(Call& c) {
  return reply_json(c.known ? nlohmann::json(c.it->second.tags) : nlohmann::json::array());
}

js::CallReply SocketHub::get_attachment(Call& c) {
  const bool found = c.known && c.it->second.has_attachment;
  js::CallReply r = reply_json({{"found", found}});
  if (found) {
    r.bytes = c.it->second.attachment;
    r.has_bytes = true;
  }
  return r;
}

js::CallReply SocketHub::set_attachment(Call& c) {
  if (!c.known) return js::CallReply::failure("Error", "the WebSocket is closed");
  const std::string& bytes = c.request.bytes;
  if (bytes.size() > 2048) {
    return js::CallReply::failure(
        "Error", "serializeAttachment: the attachment is larger than 2048 bytes (" +
                     std::to_string(bytes.size()) + ")");
  }
  c.it->second.attachment = bytes;
  c.it->second.has_attachment = c.request.has_bytes;
  return reply_json(nullptr);
}

js::CallReply SocketHub::send(Call& c) {
  if (!c.known || c.it->second.closing || c.it->second.gone) {
    return js::CallReply::failure("TypeError", "Can't call WebSocket send() after close().");
  }
  if (c.request.bytes.size() > (1u << 20)) {
    return js::CallReply::failure("Error", "WebSocket message is larger than 1 MiB");
  }
  Frame f;
  f.kind = Frame::Kind::kMessage;
  f.text = c.args.value("text", true);
  f.data = c.request.bytes;
  return send_gated(c, std::move(f));
}

js::CallReply SocketHub::close(Call& c) {
  if (c.known && (c.it->second.closing || c.it->second.gone)) {
    return reply_json(nullptr);  // closing twice (or reciprocating the client's close): a no-op
  }
  if (!c.known) {
    return js::CallReply::failure("TypeError", "Can't call WebSocket close() after close().");
  }
  Frame f;
  f.kind = Frame::Kind::kClose;
  f.code = c.args.value("code", 1000);
  f.reason = c.args.value("reason", "");
  if (!valid_close_code(f.code)) {
    return js::CallReply::failure("TypeError",
                                  "Invalid WebSocket close code: " + std::to_string(f.code));
  }
  if (f.reason.size() > 123) {
    return js::CallReply::failure("TypeError", "WebSocket close reason is too long");
  }
  c.it->second.closing = true;
  return send_gated(c, std::move(f));
}

js::CallReply SocketHub::send_gated(Call& c, Frame frame) {
  std::weak_ptr<int> alive = alive_;
  c.gate([this, alive, id = c.id, f = std::move(frame)](bool send) mutable {
    if (alive.expired() || !send) return;
    enqueue(id, std::move(f));
  });
  return reply_json(nullptr);
}

std::size_t SocketHub::sockets_of(const std::string& object) const {
  std::size_t n = 0;
  for (const auto& [id, s] : sockets_) n += s.object == object ? 1 : 0;
  return n;
}

void SocketHub::enqueue(const std::string& id, Frame frame) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.gone) return;
  it->second.out.push_back(std::move(frame));
  start_sender(id);
}

void SocketHub::start_sender(const std::string& id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.gone || it->second.sending ||
      it->second.client == sim::kNoNode || it->second.out.empty() || !host_.up()) {
    return;
  }
  it->second.sending = true;
  std::weak_ptr<int> alive = alive_;
  world_.spawn(host_, "ws.send", [this, alive, id](sim::Task& task) {
    for (;;) {
      auto s = sockets_.find(id);
      if (s == sockets_.end() || s->second.gone) return;
      if (s->second.out.empty()) {
        s->second.sending = false;
        return;
      }
      Frame f = std::move(s->second.out.front());
      s->second.out.pop_front();
      const sim::NodeId client = s->second.client;
      nlohmann::json h{{"s", id}};
      if (f.kind == Frame::Kind::kMessage) {
        h["t"] = "msg";
        h["text"] = f.text;
      } else {
        h["t"] = "close";
        h["code"] = f.code;
        h["reason"] = f.reason;
      }
      sim::Result<std::string> r = world_.rpc().call(
          task, client, kClientSocketService, encode_frame(h, f.data), timing_.frame_timeout);
      if (alive.expired()) return;
      if (!r.ok()) {
        broken(id, "frame to the client failed: " + r.error().message);
        return;
      }
      if (f.kind == Frame::Kind::kClose) {
        emit(&sim::ev::Body::mutable_ws_closed, id, [&](sim::ev::WsSocket& e) {
          e.set_by("object");
          e.set_code(f.code);
        });
        sockets_.erase(id);
        return;
      }
    }
  });
}

void SocketHub::broken(const std::string& id, const std::string& why) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.gone) return;
  emit(&sim::ev::Body::mutable_ws_broken, id, [&](sim::ev::WsSocket& e) { e.set_reason(why); });
  if (it->second.closing || !host_.up()) {
    sockets_.erase(it);
    return;
  }
  // Kept (gone) while the messages received before it and webSocketClose() run: the handlers may
  // read the attachment. The delivery task erases it after the close event.
  it->second.gone = true;
  it->second.out.clear();
  SocketEvent ev;
  ev.kind = SocketEvent::Kind::kClose;
  ev.object = it->second.object;
  ev.socket = id;
  ev.code = 1006;
  ev.clean = false;
  it->second.in.push_back(std::move(ev));
  start_delivery(id);
}

void SocketHub::start_delivery(const std::string& id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.delivering || it->second.in.empty() || !host_.up()) {
    return;
  }
  it->second.delivering = true;
  std::weak_ptr<int> alive = alive_;
  world_.spawn(host_, "ws.deliver", [this, alive, id](sim::Task& task) {
    for (;;) {
      if (alive.expired()) return;
      auto s = sockets_.find(id);
      if (s == sockets_.end()) return;  // closed by the platform meanwhile
      if (s->second.in.empty()) {
        s->second.delivering = false;
        return;
      }
      SocketEvent ev = std::move(s->second.in.front());
      s->second.in.pop_front();
      sim::Status status = deliver_(task, ev);
      if (alive.expired()) return;
      if (ev.kind == SocketEvent::Kind::kClose) {
        sockets_.erase(id);
        return;
      }
      // The object is gone from this host (not merely slow or throwing): so is the connection.
      if (!status.ok() && status.error().kind == sim::ErrorKind::kUnreachable) {
        if (auto again = sockets_.find(id); again != sockets_.end())
          again->second.delivering = false;
        broken(id, status.error().message);
        return;
      }
    }
  });
}

void SocketHub::start_reaper() {
  if (reaper_running_ || !host_.up()) return;
  reaper_running_ = true;
  const std::uint64_t incarnation = host_.incarnation();
  std::weak_ptr<int> alive = alive_;
  world_.spawn(host_, "ws.reaper", [this, alive, incarnation](sim::Task& task) {
    const sim::Duration silence_max = timing_.ping_every + 2 * timing_.frame_timeout;
    for (;;) {
      task.sleep(timing_.ping_every);
      if (alive.expired() || host_.incarnation() != incarnation) return;
      std::vector<std::string> silent;
      bool any = false;
      for (const auto& [id, s] : sockets_) {
        if (s.client == sim::kNoNode || s.gone) continue;
        any = true;
        if (task.now() - s.heard > silence_max) silent.push_back(id);
      }
      for (const std::string& id : silent) broken(id, "the client went silent");
      if (!any) {
        reaper_running_ = false;
        return;
      }
    }
  });
}

void SocketHub::close_object(const std::string& object, int code, const std::string& reason) {
  std::vector<std::pair<std::string, sim::NodeId>> closing;
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    if (it->second.object != object) {
      ++it;
      continue;
    }
    closing.emplace_back(it->first, it->second.client);
    emit(&sim::ev::Body::mutable_ws_closed, it->first, [&](sim::ev::WsSocket& e) {
      e.set_by("platform");
      e.set_code(code);
    });
    it = sockets_.erase(it);
  }
  if (!host_.up()) return;  // a crash: the clients find out by themselves
  for (const auto& [id, client] : closing) {
    if (client == sim::kNoNode) continue;
    const std::string frame =
        encode_frame({{"s", id}, {"t", "close"}, {"code", code}, {"reason", reason}});
    world_.spawn(host_, "ws.close", [this, client, frame](sim::Task& task) {
      (void)world_.rpc().call(task, client, kClientSocketService, frame, timing_.frame_timeout);
    });
  }
}

sim::Result<std::string> SocketHub::on_frame(sim::Task& task, sim::NodeId from,
                                             std::string_view bytes) {
  sim::Result<Decoded> d = decode_frame(bytes);
  if (!d.ok()) return d.error();
  const std::string id = d->header.value("s", "");
  const std::string t = d->header.value("t", "");
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.gone) {
    return sim::Error{sim::ErrorKind::kInvalid, "no open WebSocket " + id};
  }
  Socket& s = it->second;
  if (t == "open") {
    if (s.client != sim::kNoNode && s.client != from) {
      return sim::Error{sim::ErrorKind::kInvalid, "WebSocket " + id + " is already open"};
    }
    s.client = from;
    s.heard = task.now();
    emit(&sim::ev::Body::mutable_ws_open, id, [&](sim::ev::WsSocket& e) { e.set_client(from); });
    start_sender(id);
    start_reaper();
    return std::string("ok");
  }
  if (s.client != from) {
    return sim::Error{sim::ErrorKind::kInvalid, "WebSocket " + id + " belongs to another client"};
  }
  s.heard = task.now();
  if (t == "ping") return std::string("ok");
  if (t == "msg") {
    // Acknowledged on receipt; after the object's close() it is dropped (the close is on its way).
    if (s.closing) return std::string("ok");
    SocketEvent ev;
    ev.kind = SocketEvent::Kind::kMessage;
    ev.object = s.object;
    ev.socket = id;
    ev.text = d->header.value("text", true);
    ev.data = std::move(d->payload);
    s.in.push_back(std::move(ev));
    start_delivery(id);
    return std::string("ok");
  }
  if (t == "close") {
    emit(&sim::ev::Body::mutable_ws_closed, id, [&](sim::ev::WsSocket& e) {
      e.set_by("client");
      e.set_code(d->header.value("code", 1005));
    });
    if (s.closing) {
      sockets_.erase(it);  // both sides closed
      return std::string("ok");
    }
    SocketEvent ev;
    ev.kind = SocketEvent::Kind::kClose;
    ev.object = s.object;
    ev.socket = id;
    ev.code = d->header.value("code", 1005);
    ev.reason = d->header.value("reason", "");
    ev.clean = true;
    s.gone = true;  // erased once webSocketClose() ran
    s.out.clear();
    s.in.push_back(std::move(ev));
    start_delivery(id);
    return std::string("ok");
  }
  return sim::Error{sim::ErrorKind::kInvalid, "unknown frame type " + t};
}

// ---- ClientSockets -------------------------------------------------------------------------

ClientSockets::ClientSockets(sim::World& world, sim::Node& client, SocketTiming timing)
    : world_(world), node_(client), timing_(timing) {}

ClientSockets::~ClientSockets() = default;

void ClientSockets::boot() {
  sockets_.clear();
  world_.rpc().serve(
      node_, kClientSocketService,
      [this, alive = std::weak_ptr<int>(alive_)](
          sim::Task&, sim::NodeId from, std::string_view bytes) -> sim::Result<std::string> {
        if (alive.expired()) return sim::Error{sim::ErrorKind::kUnreachable, "gone"};
        return on_frame(from, bytes);
      },
      sim::Rpc::Delivery::kAtMostOnce);
}

sim::Result<std::string> ClientSockets::on_frame(sim::NodeId from, std::string_view bytes) {
  sim::Result<Decoded> d = decode_frame(bytes);
  if (!d.ok()) return d.error();
  const std::string id = d->header.value("s", "");
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.closed || it->second.host != from) {
    return sim::Error{sim::ErrorKind::kInvalid, "no open WebSocket " + id};
  }
  const std::string t = d->header.value("t", "");
  if (t == "msg") {
    Received r;
    r.kind = Received::Kind::kMessage;
    r.text = d->header.value("text", true);
    r.data = std::move(d->payload);
    it->second.in.push_back(std::move(r));
    it->second.readers->notify_all(world_);
  } else if (t == "close") {
    closed(id, d->header.value("code", 1005), d->header.value("reason", ""), true);
  } else {
    return sim::Error{sim::ErrorKind::kInvalid, "unknown frame type " + t};
  }
  return std::string("ok");
}

void ClientSockets::closed(const std::string& id, int code, const std::string& reason, bool clean) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.closed) return;
  it->second.closed = true;
  it->second.code = code;
  it->second.reason = reason;
  it->second.clean = clean;
  world_.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_ws_client_closed();
    e.set_socket(id);
    e.set_code(code);
    e.set_reason(reason);
  });
  it->second.readers->notify_all(world_);
  it->second.senders->notify_all(world_);
}

sim::Result<std::string> ClientSockets::open(sim::Task& task, const std::string& socket) {
  const sim::NodeId host = socket_host(socket);
  if (host == sim::kNoNode) {
    return sim::Error{sim::ErrorKind::kInvalid, "not a WebSocket id: " + socket};
  }
  if (sockets_.count(socket) != 0) {
    return sim::Error{sim::ErrorKind::kInvalid, "WebSocket " + socket + " is already open"};
  }
  // Registered before the open frame goes: the host may send frames as soon as it has it.
  Socket s;
  s.host = host;
  sockets_.emplace(socket, std::move(s));
  std::weak_ptr<int> alive = alive_;
  sim::Result<std::string> r =
      world_.rpc().call(task, host, kSocketService, encode_frame({{"s", socket}, {"t", "open"}}),
                        timing_.frame_timeout);
  if (alive.expired()) return sim::Error{sim::ErrorKind::kUnreachable, "gone"};
  if (!r.ok()) {
    sockets_.erase(socket);
    return r.error();
  }
  world_.spawn(node_, "ws.heartbeat", [this, alive, socket](sim::Task& t) {
    if (alive.expired()) return;
    heartbeat(t, socket);
  });
  return socket;
}

void ClientSockets::heartbeat(sim::Task& task, const std::string& id) {
  std::weak_ptr<int> alive = alive_;
  for (;;) {
    task.sleep(timing_.ping_every);
    if (alive.expired()) return;
    auto it = sockets_.find(id);
    if (it == sockets_.end() || it->second.closed) return;
    sim::Result<std::string> r =
        world_.rpc().call(task, it->second.host, kSocketService,
                          encode_frame({{"s", id}, {"t", "ping"}}), timing_.frame_timeout);
    if (alive.expired()) return;
    if (!r.ok()) {
      closed(id, 1006, "connection lost: " + r.error().message, false);
      return;
    }
  }
}

sim::Status ClientSockets::send(sim::Task& task, const std::string& id, bool text,
                                std::string data) {
  std::weak_ptr<int> alive = alive_;
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return sim::Error{sim::ErrorKind::kInvalid, "no WebSocket " + id};
  // One frame at a time, in the order sends were made.
  std::shared_ptr<sim::WaitQueue> senders = it->second.senders;
  while (true) {
    it = sockets_.find(id);
    if (it == sockets_.end() || it->second.closed) {
      return sim::Error{sim::ErrorKind::kUnreachable, "WebSocket is closed"};
    }
    if (!it->second.sending) break;
    senders->wait(task);
    if (alive.expired()) return sim::Error{sim::ErrorKind::kUnreachable, "gone"};
  }
  it->second.sending = true;
  const sim::NodeId host = it->second.host;
  sim::Result<std::string> r = world_.rpc().call(
      task, host, kSocketService, encode_frame({{"s", id}, {"t", "msg"}, {"text", text}}, data),
      timing_.frame_timeout);
  if (alive.expired()) return sim::Error{sim::ErrorKind::kUnreachable, "gone"};
  it = sockets_.find(id);
  if (it != sockets_.end()) {
    it->second.sending = false;
    senders->notify_one(world_);
  }
  if (!r.ok()) {
    closed(id, 1006, "connection lost: " + r.error().message, false);
    return sim::Error{sim::ErrorKind::kUnreachable, "WebSocket send failed: " + r.error().message};
  }
  return sim::Status::Ok();
}

ClientSockets::Received ClientSockets::receive(sim::Task& task, const std::string& id,
                                               sim::Duration timeout) {
  std::weak_ptr<int> alive = alive_;
  const sim::Time deadline = timeout > 0 ? task.now() + timeout : sim::kTimeMax;
  for (;;) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) {
      Received r;
      r.kind = Received::Kind::kClose;
      r.code = 1006;
      r.reason = "no such WebSocket";
      return r;
    }
    Socket& s = it->second;
    if (!s.in.empty()) {
      Received r = std::move(s.in.front());
      s.in.pop_front();
      return r;
    }
    if (s.closed) {
      Received r;
      r.kind = Received::Kind::kClose;
      r.code = s.code;
      r.reason = s.reason;
      r.clean = s.clean;
      return r;
    }
    std::shared_ptr<sim::WaitQueue> readers = s.readers;
    if (!readers->wait(task, deadline)) {
      if (alive.expired()) return Received{};
      // Timed out (a message may have arrived at the same instant: take it next time).
      auto again = sockets_.find(id);
      if (again == sockets_.end() || again->second.in.empty()) return Received{};
    }
    if (alive.expired()) return Received{};
  }
}

void ClientSockets::close(sim::Task& task, const std::string& id, int code,
                          const std::string& reason) {
  std::weak_ptr<int> alive = alive_;
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  // Behind the sends already made (a send then a close must not lose the message).
  std::shared_ptr<sim::WaitQueue> senders = it->second.senders;
  while (it != sockets_.end() && !it->second.closed && it->second.sending) {
    senders->wait(task);
    if (alive.expired()) return;
    it = sockets_.find(id);
  }
  if (it == sockets_.end() || it->second.closed) return;
  const sim::NodeId host = it->second.host;
  closed(id, code, reason, true);
  (void)world_.rpc().call(
      task, host, kSocketService,
      encode_frame({{"s", id}, {"t", "close"}, {"code", code}, {"reason", reason}}),
      timing_.frame_timeout);
}

}  // namespace objects
