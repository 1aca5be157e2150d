// WebSockets between simulated clients and Durable Objects, with the hibernation API
// (state.acceptWebSocket, getWebSockets, getTags, webSocketMessage, webSocketClose,
// serializeAttachment / deserializeAttachment).
//
// The model. A client upgrades an HTTP request ("Upgrade: websocket") through a PoP; the Worker
// forwards it to an object, which accepts the server end of a WebSocketPair and answers 101 with
// the client end. From then on the socket belongs to the object's host node: the SocketHub there
// keeps it (tags, attachment, outgoing frames) apart from the object's isolate, so the object can
// hibernate (its instance and memory are dropped; the next message runs the constructor again)
// while its sockets stay connected, as on the real platform.
//
// Transport. Frames travel as RPCs between the client node and the host node, directly: the PoP
// splices the upgraded connection and is not modelled as a hop after the upgrade. Each direction
// sends one frame at a time and waits for its acknowledgement, so frames arrive in order and at
// most once, as over TCP. A frame that fails (timeout, partition, a crash) breaks the connection:
// the hub closes the socket and tells the object (webSocketClose with code 1006, wasClean false);
// the client learns it from its failed send or from its heartbeat (a ping every 5 s) and sees
// close 1006; the hub, from a client silent for ping_every + 2 frame timeouts. The host
// acknowledges a client's frame on receipt and hands the object its messages one at a time, in
// order, from a per-socket queue (webSocketMessage() may take as long as it likes). A socket lives
// as long as the activation that accepted it: when the object is deactivated (lease lost,
// released, host crash) its sockets close.
//
// The client side (ClientSockets) serves simulated clients (scenario client scripts).
//
// Single-threaded; a hub lives on one host node, a ClientSockets on one client node. Both outlive
// the runs that call them; tasks they leave behind check `alive_` after every suspension.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/js/isolate.h"
#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/sync.h"
#include "sim/task.h"
#include "sim/world.h"

namespace edgesim::ev {
class WsSocket;
}

namespace objects {

// RPC services: frames to a host's hub, and to a client node.
inline constexpr char kSocketService[] = "edgesim.ws";
inline constexpr char kClientSocketService[] = "edgesim.ws.client";
// The response header that carries an upgraded socket's id from the object to the client.
inline constexpr char kSocketHeader[] = "sec-edgesim-websocket";

struct SocketTiming {
  sim::Duration frame_timeout = 2 * sim::kSecond;  // a frame not acknowledged: broken
  sim::Duration ping_every = 5 * sim::kSecond;     // client heartbeat
  sim::Duration open_timeout = 30 * sim::kSecond;  // accepted but never opened by a client

  // The fields above as knobs (sim/knobs.h).
  static const sim::Knobs<SocketTiming>& knobs();
};

// What the hub hands its object.
struct SocketEvent {
  enum class Kind { kMessage, kClose };
  Kind kind = Kind::kMessage;
  std::string object;  // the object's key (class/id hex)
  std::string socket;
  bool text = true;    // kMessage: a text frame (else binary)
  std::string data;    // kMessage
  int code = 1005;     // kClose
  std::string reason;  // kClose
  bool clean = true;   // kClose: the client closed it (else the connection broke)
};

// The host node's sockets.
class SocketHub {
 public:
  // Runs `event` on the object (DoHost). An error other than kRemote means the object is no longer
  // active here: the socket closes.
  using Deliver = std::function<sim::Status(sim::Task&, const SocketEvent&)>;
  // Holds a frame behind the object's output gate: called with true to send it, false to drop it.
  using Gate = std::function<void(std::function<void(bool)>)>;

  SocketHub(sim::World& world, sim::Node& host, Deliver deliver, SocketTiming timing = {});
  ~SocketHub();
  SocketHub(const SocketHub&) = delete;
  SocketHub& operator=(const SocketHub&) = delete;

  // Serves kSocketService. Call from the host's boot; forgets the sockets of earlier incarnations.
  void boot();

  // A call from the object's JS (target "ws"): accept {tags}, send {id, text}+bytes,
  // close {id, code, reason}, list {tag}, tags {id}, state {id}, getAttachment {id},
  // setAttachment {id}+bytes. `activation` is the object's activation (ObjectHandle::instance).
  js::CallReply call(const std::string& object, std::uint64_t activation,
                     const js::CallRequest& request, const Gate& gate);

  // The object's activation ended: its sockets close (the clients are told, best effort).
  void close_object(const std::string& object, int code, const std::string& reason);
  // Open sockets of `object`.
  std::size_t sockets_of(const std::string& object) const;
  std::size_t open_sockets() const { return sockets_.size(); }

 private:
  struct Frame {
    enum class Kind { kMessage, kClose };
    Kind kind = Kind::kMessage;
    bool text = true;
    std::string data;
    int code = 1000;
    std::string reason;
  };
  struct Socket {
    std::string object;
    std::uint64_t activation = 0;
    std::vector<std::string> tags;
    std::string attachment;
    bool has_attachment = false;
    sim::NodeId client = sim::kNoNode;  // kNoNode until the client opened it
    bool closing = false;               // the object called close()
    bool gone = false;                  // the connection ended; its close event is being delivered
    bool sending = false;               // a sender task is running
    std::deque<SocketEvent> in;         // received, not yet handed to the object
    bool delivering = false;            // a delivery task is running
    sim::Time heard = 0;                // the client's last frame
    std::deque<Frame> out;
    sim::Time accepted = 0;
  };

  // A call from the object's JS with its arguments parsed (websockets.cc), and the methods that
  // serve one, found by name in a table.
  struct Call;
  using Method = js::CallReply (SocketHub::*)(Call& call);
  js::CallReply accept(Call& call);
  js::CallReply list(Call& call);
  js::CallReply state(Call& call);
  js::CallReply tags(Call& call);
  js::CallReply get_attachment(Call& call);
  js::CallReply set_attachment(Call& call);
  js::CallReply send(Call& call);
  js::CallReply close(Call& call);
  // Sends `frame` on the call's socket once the object's output gate lets it go.
  js::CallReply send_gated(Call& call, Frame frame);

  sim::Result<std::string> on_frame(sim::Task& task, sim::NodeId from, std::string_view bytes);
  void enqueue(const std::string& id, Frame frame);
  void start_sender(const std::string& id);
  // Hands the socket's received events to the object, one at a time.
  void start_delivery(const std::string& id);
  // Breaks the connections of clients that went silent (a task while sockets are open).
  void start_reaper();
  // The connection broke: forget the socket and tell the object (on a task of its own).
  void broken(const std::string& id, const std::string& why);
  // A ws.* event about socket `id`: `kind` is the ev::Body accessor (&ev::Body::mutable_ws_open),
  // `fill` sets the fields other than the socket.
  using SocketEventKind = sim::ev::WsSocket* (sim::ev::Body::*)();
  void emit(SocketEventKind kind, const std::string& id,
            const std::function<void(sim::ev::WsSocket&)>& fill);

  sim::World& world_;
  sim::Node& host_;
  Deliver deliver_;
  SocketTiming timing_;
  std::map<std::string, Socket> sockets_;  // by id
  std::uint64_t next_ = 1;
  bool reaper_running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// A client node's sockets (scenario client scripts).
class ClientSockets {
 public:
  ClientSockets(sim::World& world, sim::Node& client, SocketTiming timing = {});
  ~ClientSockets();
  ClientSockets(const ClientSockets&) = delete;
  ClientSockets& operator=(const ClientSockets&) = delete;

  // Serves kClientSocketService. Call from the client node's boot.
  void boot();

  // Connects to the socket a 101 response named (its kSocketHeader). Returns the socket's id.
  sim::Result<std::string> open(sim::Task& task, const std::string& socket);
  // Sends a frame and waits until the host received it (the object handles it later, in order).
  // An error closes the socket (1006).
  sim::Status send(sim::Task& task, const std::string& id, bool text, std::string data);

  struct Received {
    enum class Kind { kMessage, kClose, kTimeout };
    Kind kind = Kind::kTimeout;
    bool text = true;
    std::string data;
    int code = 0;
    std::string reason;
    bool clean = false;
  };
  // The next message, or the close once every message before it was taken, or kTimeout after
  // `timeout` (0: wait without end).
  Received receive(sim::Task& task, const std::string& id, sim::Duration timeout);
  // Closes the socket (the object gets webSocketClose with wasClean true, best effort).
  void close(sim::Task& task, const std::string& id, int code, const std::string& reason);

 private:
  struct Socket {
    sim::NodeId host = sim::kNoNode;
    std::deque<Received> in;
    bool closed = false;
    int code = 0;
    std::string reason;
    bool clean = false;
    bool sending = false;
    std::shared_ptr<sim::WaitQueue> readers = std::make_shared<sim::WaitQueue>();
    std::shared_ptr<sim::WaitQueue> senders = std::make_shared<sim::WaitQueue>();
  };
  sim::Result<std::string> on_frame(sim::NodeId from, std::string_view bytes);
  void closed(const std::string& id, int code, const std::string& reason, bool clean);
  void heartbeat(sim::Task& task, const std::string& id);

  sim::World& world_;
  sim::Node& node_;
  SocketTiming timing_;
  std::map<std::string, Socket> sockets_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// The host node of a socket id (ids are "ws-<node>.<incarnation>-<n>"), or kNoNode.
sim::NodeId socket_host(std::string_view socket);

}  // namespace objects
