#include "props/broadcast.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "sim/assert.h"

namespace props {
namespace {

using MsgIndex = std::uint32_t;
using ConnIndex = std::uint32_t;

enum class End { kOpen, kLeave, kRejoin };

struct Connection {
  std::string client;
  std::size_t number = 0;  // 1-based, per client
  sim::Time start = 0;     // the join's completion
  sim::Time end = 0;       // close, rejoin, or the end of the history
  End end_kind = End::kOpen;
  std::string close_reason;                            // the leave's input
  std::vector<std::pair<MsgIndex, sim::Time>> recvs;   // every recv, in order
  std::vector<std::pair<MsgIndex, sim::Time>> seq;     // first receipts, in order
  std::vector<std::pair<MsgIndex, std::uint32_t>> at;  // (message, index in seq), sorted

  std::optional<std::uint32_t> position(MsgIndex m) const {
    auto it = std::lower_bound(at.begin(), at.end(), std::make_pair(m, std::uint32_t{0}));
    if (it == at.end() || it->first != m) return std::nullopt;
    return it->second;
  }
};

struct Message {
  const sim::Operation* ok_post = nullptr;  // the earliest ok post, by invoke
  const sim::Operation* any_post = nullptr;
  std::size_t posts = 0;
};

struct Edge {
  MsgIndex to = 0;
  ConnIndex conn = 0;
};

// What the rooms found, capped per kind.
struct Findings {
  std::size_t cap = 0;
  std::vector<std::string> missing, phantom, duplicate, order, warnings;
  void add(std::vector<std::string>& to, const std::string& prefix, std::string text) const {
    if (to.size() < cap) to.push_back(prefix + std::move(text));
  }
};

sim::Time op_time(const sim::Operation& op) { return op.kind == "join" ? op.complete : op.invoke; }

int rank(const sim::Operation& op) {
  if (op.kind == "join") return 0;
  if (op.kind == "recv") return 1;
  return 2;
}

std::string conn_name(const Connection& c) {
  return c.client + "'s connection #" + std::to_string(c.number);
}

std::string conn_detail(const Connection& c) {
  std::string s = conn_name(c) + " (joined " + sim::format_time(c.start) + ", ";
  switch (c.end_kind) {
    case End::kOpen:
      s += "open until the end at " + sim::format_time(c.end);
      break;
    case End::kLeave:
      s += "closed at " + sim::format_time(c.end);
      if (!c.close_reason.empty()) s += ": " + c.close_reason;
      break;
    case End::kRejoin:
      s += "until the client joined again at " + sim::format_time(c.end);
      break;
  }
  return s + ")";
}

std::string post_detail(const std::string& id, const sim::Operation& p) {
  return "post " + id + " by " + p.client + " (ok at " + sim::format_time(p.complete) + ")";
}

// Tarjan's strongly connected components, iterative. Returns the component of each node and
// sets *count.
std::vector<std::uint32_t> components(const std::vector<std::vector<Edge>>& adj,
                                      std::uint32_t* count) {
  constexpr std::uint32_t kNone = UINT32_MAX;
  std::size_t n = adj.size();
  std::vector<std::uint32_t> index(n, kNone), low(n, 0), comp(n, kNone);
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;
  std::vector<std::pair<std::uint32_t, std::size_t>> calls;  // (node, next edge)
  std::uint32_t next_index = 0;
  *count = 0;
  for (std::uint32_t s = 0; s < n; ++s) {
    if (index[s] != kNone) continue;
    calls.push_back({s, 0});
    index[s] = low[s] = next_index++;
    stack.push_back(s);
    on_stack[s] = true;
    while (!calls.empty()) {
      auto& [v, e] = calls.back();
      if (e < adj[v].size()) {
        std::uint32_t w = adj[v][e++].to;
        if (index[w] == kNone) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = true;
          calls.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      std::uint32_t done = v;
      calls.pop_back();
      if (!calls.empty()) {
        std::uint32_t parent = calls.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
      if (low[done] == index[done]) {
        std::uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = *count;
        } while (w != done);
        ++*count;
      }
    }
  }
  // Every message ended up in exactly one component.
  SIM_ASSERT(stack.empty());
  for (std::uint32_t c : comp) SIM_ASSERT(c < *count);
  return comp;
}

class Room {
 public:
  Room(std::string prefix, sim::Time history_end, const BroadcastOptions& options,
       BroadcastResult& r, Findings& f)
      : prefix_(std::move(prefix)), end_(history_end), options_(options), r_(r), f_(f) {}

  void check(const std::vector<const sim::Operation*>& ops) {
    intern(ops);
    build_connections(ops);
    check_missing();
    check_order();
  }

 private:
  MsgIndex msg(const std::string& id) const {
    return static_cast<MsgIndex>(std::lower_bound(ids_.begin(), ids_.end(), id) - ids_.begin());
  }

  void intern(const std::vector<const sim::Operation*>& ops) {
    for (const sim::Operation* op : ops) {
      if (op->kind == "post" || op->kind == "recv") ids_.push_back(op->input);
    }
    std::sort(ids_.begin(), ids_.end());
    ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
    messages_.resize(ids_.size());
    for (const sim::Operation* op : ops) {
      if (op->kind != "post") continue;
      ++r_.posts;
      Message& m = messages_[msg(op->input)];
      ++m.posts;
      if (m.any_post == nullptr) m.any_post = op;
      if (op->status != sim::OpStatus::kOk) continue;
      ++r_.posts_ok;
      if (m.ok_post == nullptr || op->invoke < m.ok_post->invoke) m.ok_post = op;
    }
    for (MsgIndex i = 0; i < messages_.size(); ++i) {
      if (messages_[i].posts > 1) {
        f_.add(f_.warnings, prefix_,
               "message " + ids_[i] + " was posted " + std::to_string(messages_[i].posts) +
                   " times (ids should be unique); the earliest ok post is the one checked");
      }
    }
  }

  void build_connections(const std::vector<const sim::Operation*>& ops) {
    for (const auto& [client, events] : events_by_client(ops)) follow_client(client, events, ops);
    r_.connections += conns_.size();
    for (Connection& c : conns_) mark_first_receipts(c);
  }

  // Each client's joins (ok ones), recvs and leaves, as indices into `ops`, in the order of the
  // header (see there for ties).
  std::map<std::string, std::vector<std::size_t>> events_by_client(
      const std::vector<const sim::Operation*>& ops) const {
    std::map<std::string, std::vector<std::size_t>> by_client;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const sim::Operation& op = *ops[i];
      if (op.kind == "join" && op.status != sim::OpStatus::kOk) continue;
      if (op.kind == "post") continue;
      by_client[op.client].push_back(i);
    }
    for (auto& [client, events] : by_client) {
      std::stable_sort(events.begin(), events.end(), [&](std::size_t a, std::size_t b) {
        sim::Time ta = op_time(*ops[a]), tb = op_time(*ops[b]);
        if (ta != tb) return ta < tb;
        return rank(*ops[a]) < rank(*ops[b]);
      });
    }
    return by_client;
  }

  // Opens and closes the client's connections along its events, and files each recv.
  void follow_client(const std::string& client, const std::vector<std::size_t>& events,
                     const std::vector<const sim::Operation*>& ops) {
    std::optional<ConnIndex> current;
    std::size_t number = 0;
    for (std::size_t i : events) {
      const sim::Operation& op = *ops[i];
      sim::Time t = op_time(op);
      if (op.kind == "join") {
        if (current) end_connection(*current, t, End::kRejoin);
        Connection c;
        c.client = client;
        c.number = ++number;
        c.start = t;
        current = static_cast<ConnIndex>(conns_.size());
        conns_.push_back(std::move(c));
      } else if (op.kind == "leave") {
        if (current) {
          end_connection(*current, t, End::kLeave);
          conns_[*current].close_reason = op.input;
          current.reset();
        }
      } else {
        receive(client, op, t, current);
      }
    }
    if (current) end_connection(*current, std::max(end_, conns_[*current].start), End::kOpen);
  }

  void end_connection(ConnIndex c, sim::Time t, End kind) {
    // Events are in time order, so a connection never ends before it starts.
    SIM_ASSERT(conns_[c].start <= t);
    conns_[c].end = t;
    conns_[c].end_kind = kind;
  }

  // A recv of `op.input` by `client` at `t`, on its connection `current` if it has one.
  void receive(const std::string& client, const sim::Operation& op, sim::Time t,
               std::optional<ConnIndex> current) {
    ++r_.deliveries;
    MsgIndex m = msg(op.input);
    bool phantom = messages_[m].posts == 0;
    if (phantom) ++r_.phantoms;
    if (!current) {
      ++r_.stray;
      f_.add(f_.warnings, prefix_,
             client + " received " + op.input + " at " + sim::format_time(t) +
                 " while it had no open connection (stray)");
      if (phantom) {
        f_.add(f_.phantom, prefix_,
               client + " received " + op.input + " at " + sim::format_time(t) +
                   " (outside any connection) but " + op.input + " was never posted");
      }
      return;
    }
    if (phantom) {
      f_.add(f_.phantom, prefix_,
             conn_name(conns_[*current]) + " received " + op.input + " at " + sim::format_time(t) +
                 " but " + op.input + " was never posted");
    }
    conns_[*current].recvs.push_back({m, t});
  }

  // Splits c's recvs into first receipts (seq, at) and duplicates.
  void mark_first_receipts(Connection& c) {
    std::vector<std::pair<MsgIndex, std::uint32_t>> all;  // (message, index in recvs)
    all.reserve(c.recvs.size());
    for (std::uint32_t i = 0; i < c.recvs.size(); ++i) all.push_back({c.recvs[i].first, i});
    std::sort(all.begin(), all.end());
    std::vector<bool> first(c.recvs.size(), true);
    for (std::size_t i = 1; i < all.size(); ++i) {
      if (all[i].first != all[i - 1].first) continue;
      first[all[i].second] = false;
      ++r_.duplicates;
      std::size_t j = i;  // the first receipt of this message
      while (j > 0 && all[j - 1].first == all[i].first) --j;
      f_.add(f_.duplicate, prefix_,
             conn_name(c) + " received " + ids_[all[i].first] + " again at " +
                 sim::format_time(c.recvs[all[i].second].second) + " (first at " +
                 sim::format_time(c.recvs[all[j].second].second) + ")");
    }
    for (std::uint32_t i = 0; i < c.recvs.size(); ++i) {
      if (!first[i]) continue;
      c.at.push_back({c.recvs[i].first, static_cast<std::uint32_t>(c.seq.size())});
      c.seq.push_back(c.recvs[i]);
    }
    std::sort(c.at.begin(), c.at.end());
    // position() needs each message at most once among the first receipts.
    for (std::size_t i = 1; i < c.at.size(); ++i) SIM_ASSERT(c.at[i - 1].first != c.at[i].first);
  }

  // Sweep ok posts by invoke time over connections by start; the connections that joined by
  // then are kept ordered by end, so each post visits only those that had to receive it.
  void check_missing() {
    sim::Duration grace = std::max<sim::Duration>(0, options_.grace);
    std::vector<MsgIndex> posts;
    for (MsgIndex i = 0; i < messages_.size(); ++i) {
      const sim::Operation* p = messages_[i].ok_post;
      if (p != nullptr && p->complete != sim::kTimeMax) posts.push_back(i);
    }
    std::stable_sort(posts.begin(), posts.end(), [&](MsgIndex a, MsgIndex b) {
      return messages_[a].ok_post->invoke < messages_[b].ok_post->invoke;
    });
    std::vector<ConnIndex> by_start(conns_.size());
    for (ConnIndex i = 0; i < conns_.size(); ++i) by_start[i] = i;
    std::stable_sort(by_start.begin(), by_start.end(),
                     [&](ConnIndex a, ConnIndex b) { return conns_[a].start < conns_[b].start; });
    std::set<std::pair<sim::Time, ConnIndex>> open;  // (end, connection)
    std::size_t next = 0;
    std::vector<ConnIndex> missed;
    for (MsgIndex m : posts) {
      const sim::Operation& p = *messages_[m].ok_post;
      while (next < by_start.size() && conns_[by_start[next]].start <= p.invoke) {
        open.insert({conns_[by_start[next]].end, by_start[next]});
        ++next;
      }
      // Ended before this post began: ended before every later one too (grace >= 0).
      while (!open.empty() && open.begin()->first < p.invoke) open.erase(open.begin());
      sim::Time done = std::max(p.invoke, p.complete);
      sim::Time need = done > sim::kTimeMax - grace ? sim::kTimeMax : done + grace;
      missed.clear();
      for (auto it = open.lower_bound({need, 0}); it != open.end(); ++it) {
        ++r_.required;
        if (!conns_[it->second].position(m)) missed.push_back(it->second);
      }
      r_.missing += missed.size();
      std::sort(missed.begin(), missed.end());
      for (ConnIndex c : missed) {
        f_.add(f_.missing, prefix_,
               post_detail(ids_[m], p) + " never reached " + conn_detail(conns_[c]));
      }
    }
  }

  void check_order() {
    std::vector<std::vector<Edge>> adj(ids_.size());
    for (ConnIndex c = 0; c < conns_.size(); ++c) {
      const auto& seq = conns_[c].seq;
      for (std::size_t i = 1; i < seq.size(); ++i)
        adj[seq[i - 1].first].push_back({seq[i].first, c});
    }
    std::uint32_t count = 0;
    std::vector<std::uint32_t> comp = components(adj, &count);
    // Components of more than one message, each named by its smallest message index.
    std::vector<std::uint32_t> size(count, 0);
    for (std::uint32_t x : comp) ++size[x];
    std::vector<MsgIndex> roots;
    std::vector<bool> seen(count, false);
    for (MsgIndex v = 0; v < comp.size(); ++v) {
      if (size[comp[v]] > 1 && !seen[comp[v]]) {
        seen[comp[v]] = true;
        roots.push_back(v);
      }
    }
    r_.order_violations += roots.size();
    for (MsgIndex s : roots) {
      if (f_.order.size() >= f_.cap) break;
      f_.add(f_.order, prefix_, explain_cycle(adj, comp, s));
    }
  }

  // The shortest cycle through s within its component (breadth first), told as two connections
  // that disagree on a pair of its messages when there are such, else as the cycle.
  std::string explain_cycle(const std::vector<std::vector<Edge>>& adj,
                            const std::vector<std::uint32_t>& comp, MsgIndex s) const {
    std::map<MsgIndex, std::pair<MsgIndex, ConnIndex>> parent;  // node -> (previous, via)
    std::deque<MsgIndex> queue{s};
    std::optional<std::pair<MsgIndex, ConnIndex>> closing;  // the edge back into s
    while (!queue.empty() && !closing) {
      MsgIndex v = queue.front();
      queue.pop_front();
      for (const Edge& e : adj[v]) {
        if (comp[e.to] != comp[s]) continue;
        if (e.to == s) {
          closing = {{v, e.conn}};
          break;
        }
        if (parent.try_emplace(e.to, v, e.conn).second) queue.push_back(e.to);
      }
    }
    if (!closing) return "messages " + ids_[s] + ", ...: no single order explains them";
    // cycle[i] -> cycle[i + 1] via via[i] (indices modulo the size).
    std::vector<MsgIndex> cycle;
    std::vector<ConnIndex> via;
    via.push_back(closing->second);
    for (MsgIndex v = closing->first; v != s; v = parent.at(v).first) {
      cycle.push_back(v);
      via.push_back(parent.at(v).second);
    }
    cycle.push_back(s);
    std::reverse(cycle.begin(), cycle.end());
    std::reverse(via.begin(), via.end());
    // One connection per edge; first receipts are distinct, so no message follows itself.
    SIM_ASSERT(via.size() == cycle.size());
    SIM_ASSERT(cycle.size() >= 2);
    std::set<ConnIndex> witnesses(via.begin(), via.end());
    constexpr std::size_t kPairSearchMax = 16;
    if (cycle.size() <= kPairSearchMax) {
      for (std::size_t i = 0; i < cycle.size(); ++i) {
        for (std::size_t j = i + 1; j < cycle.size(); ++j) {
          for (ConnIndex x : witnesses) {
            auto xa = conns_[x].position(cycle[i]), xb = conns_[x].position(cycle[j]);
            if (!xa || !xb) continue;
            for (ConnIndex y : witnesses) {
              auto ya = y == x ? std::nullopt : conns_[y].position(cycle[i]);
              auto yb = y == x ? std::nullopt : conns_[y].position(cycle[j]);
              if (!ya || !yb || (*xa < *xb) == (*ya < *yb)) continue;
              return pair_text(x, y, cycle[i], cycle[j]);
            }
          }
        }
      }
    }
    constexpr std::size_t kStepsMax = 8;
    std::string names, steps;
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      names += (i > 0 ? ", " : "") + ids_[cycle[i]];
      if (i < kStepsMax) {
        steps += (i > 0 ? ", " : "") + conn_name(conns_[via[i]]) + " received " + ids_[cycle[i]] +
                 " before " + ids_[cycle[(i + 1) % cycle.size()]];
      }
    }
    if (cycle.size() > kStepsMax) steps += ", ...";
    return "no single order of the room explains messages " + names + ": " + steps;
  }

  // x and y received a and b in opposite orders.
  std::string pair_text(ConnIndex x, ConnIndex y, MsgIndex a, MsgIndex b) const {
    auto when = [&](ConnIndex c, MsgIndex m) {
      return sim::format_time(conns_[c].seq[*conns_[c].position(m)].second);
    };
    bool x_first = *conns_[x].position(a) < *conns_[x].position(b);
    if (!x_first) std::swap(a, b);
    return conn_name(conns_[x]) + " received " + ids_[a] + " before " + ids_[b] + " (at " +
           when(x, a) + " and " + when(x, b) + "), but " + conn_name(conns_[y]) + " received " +
           ids_[b] + " before " + ids_[a] + " (at " + when(y, b) + " and " + when(y, a) +
           "): no single order of the room explains both";
  }

  std::string prefix_;
  sim::Time end_;
  const BroadcastOptions& options_;
  BroadcastResult& r_;
  Findings& f_;
  std::vector<std::string> ids_;  // sorted message ids; a MsgIndex indexes them
  std::vector<Message> messages_;
  std::vector<Connection> conns_;
};

bool relevant(const std::string& kind) {
  return kind == "join" || kind == "post" || kind == "recv" || kind == "leave";
}

}  // namespace

BroadcastResult check_broadcast(const std::vector<sim::Operation>& ops,
                                const BroadcastOptions& options) {
  BroadcastResult r;
  sim::Time end = 0;
  std::map<std::string, std::vector<const sim::Operation*>> rooms;
  for (const sim::Operation& op : ops) {
    end = std::max(end, op.invoke);
    if (op.complete != sim::kTimeMax) end = std::max(end, op.complete);
    if (!relevant(op.kind)) continue;
    if (!options.object.empty() && op.object != options.object) continue;
    rooms[op.object].push_back(&op);
  }
  r.rooms = rooms.size();
  Findings f;
  f.cap = options.examples_max;
  for (const auto& [object, room_ops] : rooms) {
    Room room(rooms.size() > 1 ? "room " + object + ": " : "", end, options, r, f);
    room.check(room_ops);
  }
  bool violated = r.missing > 0 || r.phantoms > 0 || r.duplicates > 0 || r.order_violations > 0;
  r.verdict = violated ? Verdict::kViolated : Verdict::kOk;
  for (auto* list : {&f.missing, &f.phantom, &f.duplicate, &f.order, &f.warnings}) {
    r.findings.insert(r.findings.end(), list->begin(), list->end());
  }
  return r;
}

std::string BroadcastResult::report() const {
  std::string out = std::string("broadcast: ") + verdict_name(verdict) + "\n";
  out += "  rooms " + std::to_string(rooms) + ", posts " + std::to_string(posts) + " (" +
         std::to_string(posts_ok) + " ok), connections " + std::to_string(connections) +
         ", deliveries " + std::to_string(deliveries) + ", required deliveries " +
         std::to_string(required) + "\n";
  out += "  missing " + std::to_string(missing) + ", phantoms " + std::to_string(phantoms) +
         ", duplicates " + std::to_string(duplicates) + ", order violations " +
         std::to_string(order_violations) + ", stray " + std::to_string(stray) + "\n";
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
