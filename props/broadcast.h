// Broadcast in a chat room: every member connected through a post's whole life receives it, once,
// and all members see the room's posts in one order.
//
// A chat room is a Durable Object that accepts WebSockets and broadcasts each post to every
// connected member. Client scripts record sim::Operations on the room's object (`object`):
//   join   the client connects; invoke..complete spans the handshake. Only status kOk opens a
//          connection, from `complete`. A client may join again after leaving (a new connection,
//          numbered #1, #2, ... per client); an ok join while the client's previous connection is
//          still open ends that one at the new join's completion.
//   post   input = message id (unique per room). kOk: the sender was told the room accepted it
//          (at `complete`). kFail, kUnknown, kPending: not required to be delivered, but
//          receiving it is not a phantom.
//   recv   input = message id; an instant (invoke == complete) on the client's current
//          connection.
//   leave  the client saw its connection close (instant; input may hold a close code/reason).
// Other kinds are ignored. A connection never closed lasts until the end of the history: the
// latest invoke or completion time over ALL input operations (other objects included: the
// recording went on).
//
// The property, per room (each is a violation and makes the verdict kViolated):
//   missing    for an ok post p and a connection c whose interval [join complete, close or end]
//              covers [p.invoke, p.complete + grace], c has no recv of p. Counted per (post,
//              connection). A connection that closed, or a history that ended, less than `grace`
//              after the post completed is excused; so is one that joined after p was invoked.
//   phantom    a recv of a message id never posted in the room (each such recv counts once).
//   duplicate  a connection received the same id again (each extra recv counts once).
//   order      the connections' receive sequences (first receipts) are not all consistent with
//              one total order of messages. Counted as groups of messages whose relative order
//              the connections contradict (strongly connected components, of more than one
//              message, of "some connection received a right before b"). The evidence names two
//              connections that received two messages in opposite orders, else a cycle.
// Not violations (warnings in `findings`): recvs while the client had no open connection
// ("stray"; still checked for phantoms), and message ids posted more than once (the earliest
// ok post, by invoke time, is the one checked for missing deliveries).
//
// Events of one client are ordered by time (a join at its completion, recv and leave at their
// invoke); at equal times joins come first, then recvs, then leaves; remaining ties keep input
// order. Pure function of the input. Cost: O(n log n) plus one lookup per (ok post, connection
// that had to receive it).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/history.h"
#include "sim/time.h"

namespace props {

struct BroadcastOptions {
  // The room to check. Empty: every object in the input, each checked as its own room.
  std::string object;
  // How long after a post completes a connection may still be receiving it. Negative acts as 0.
  sim::Duration grace = sim::seconds(10);
  // Findings listed per kind (missing, phantom, duplicate, order, warnings); counts are complete.
  std::size_t examples_max = 5;
};

struct BroadcastResult {
  Verdict verdict = Verdict::kOk;
  std::size_t rooms = 0;  // objects with join, post, recv or leave operations
  std::size_t posts = 0;  // post operations, any status
  std::size_t posts_ok = 0;
  std::size_t connections = 0;       // ok joins
  std::size_t deliveries = 0;        // recv operations
  std::size_t required = 0;          // (ok post, connection) pairs that had to be delivered
  std::size_t missing = 0;           // required pairs never delivered
  std::size_t phantoms = 0;          // recvs of ids never posted
  std::size_t duplicates = 0;        // repeated recvs of an id on one connection
  std::size_t order_violations = 0;  // groups of messages received in contradictory orders
  std::size_t stray = 0;             // recvs while the client had no open connection
  // Plain language, violations first (missing, phantom, duplicate, order), then warnings, e.g.
  // "post m17 by alice (ok at 12.300000s) never reached bob's connection #2 (joined 3.100000s,
  // open until the end at 60.000000s)". Prefixed with "room <object>: " when several rooms.
  std::vector<std::string> findings;

  // Several lines: verdict, counts, findings.
  std::string report() const;
};

BroadcastResult check_broadcast(const std::vector<sim::Operation>& ops,
                                const BroadcastOptions& options = {});

}  // namespace props
