// The typed trace events (sim/events.proto, the one registry of event kinds) and how they print.
//
// Emitting (World::emit runs `fill` only while some sink listens, so a run without sinks pays
// nothing for its events):
//   world.emit(node.id(), [&](sim::ev::Body& b) {
//     auto& e = *b.mutable_net_send();
//     e.set_to(dst);
//     e.set_msg(id);
//   });
// A kind's name is its oneof field's name with the first '_' read as '.': "net.send".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/events.pb.h"

namespace sim {

// "net.send" for a body that holds net_send; "" for an empty body.
std::string_view event_kind(const ev::Body& body);
// The name of a oneof case (a field number of ev::Body); "" when there is none.
std::string_view event_kind_name(int kind_case);
// The oneof case of a kind name, or 0 when no such kind exists.
int event_kind_case(std::string_view kind);
// Every kind, in field-number order.
std::vector<std::string_view> event_kinds();

// How a node id prints: its name, or "" to print "node <id>".
using NodeNamer = std::function<std::string(NodeId)>;

// The event's fields on one line, "to=iad port=rpc msg=17 bytes=200", in declaration order:
// numbers always, strings and bytes when not empty (control bytes escaped), booleans when true,
// optional fields when set; nodes by name, times in seconds, durations with their unit, enum
// values in lower case without their prefix (OP_UNKNOWN: "unknown").
std::string event_details(const ev::Body& body, const NodeNamer& names = {});

}  // namespace sim
