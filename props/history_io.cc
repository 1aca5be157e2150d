#include "props/history_io.h"

#include <charconv>
#include <memory>
#include <string_view>

#include "traces/reader.h"

namespace props {
namespace {

// Splits "a=1 b=x y c=z" by the fixed field names; the last field takes the rest.
bool split_fields(std::string_view details, std::initializer_list<std::string_view> names,
                  std::vector<std::string_view>* values, std::string* missing) {
  values->clear();
  std::size_t pos = 0;
  auto name = names.begin();
  if (details.substr(0, name->size() + 1) != std::string(*name) + "=") {
    *missing = std::string(*name) + "=";
    return false;
  }
  while (true) {
    std::size_t start = pos + name->size() + 1;
    auto next = name + 1;
    if (next == names.end()) {
      values->push_back(details.substr(start));
      return true;
    }
    std::string marker = " " + std::string(*next) + "=";
    std::size_t at = details.find(marker, start);
    if (at == std::string_view::npos) {
      *missing = marker.substr(1);
      return false;
    }
    values->push_back(details.substr(start, at - start));
    pos = at + 1;
    name = next;
  }
}

bool parse_u64(std::string_view text, std::uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_status(std::string_view text, sim::OpStatus* out) {
  if (text == "ok") {
    *out = sim::OpStatus::kOk;
  } else if (text == "fail") {
    *out = sim::OpStatus::kFail;
  } else if (text == "unknown") {
    *out = sim::OpStatus::kUnknown;
  } else {
    return false;
  }
  return true;
}

std::string clip(std::string_view s) {
  constexpr std::size_t kShownBytesMax = 120;
  std::string out = traces::escape_text(s.substr(0, kShownBytesMax));
  if (s.size() > kShownBytesMax) out += "...";
  return out;
}

}  // namespace

sim::Status HistoryBuilder::add(const traces::RecordedEvent& event) {
  const std::string& kind = event.kind;
  if (kind != "op.invoke" && kind != "op.complete" && kind != "op.effect") return sim::Status::Ok();
  auto bad = [&](const std::string& why) {
    return sim::Error{sim::ErrorKind::kInvalid, "event #" + std::to_string(event.index) + " (" +
                                                    kind + " at " + sim::format_time(event.time) +
                                                    "): " + why + " in details \"" +
                                                    clip(event.details) + "\""};
  };
  std::vector<std::string_view> v;
  std::string missing;
  std::uint64_t id = 0;
  if (kind == "op.invoke") {
    if (!split_fields(event.details, {"op", "client", "object", "key", "kind", "input"}, &v,
                      &missing)) {
      return bad("missing \"" + missing + "\"");
    }
    if (!parse_u64(v[0], &id) || id == 0) return bad("op id is not a positive number");
    if (ops_.count(id) != 0) return bad("op " + std::to_string(id) + " was already invoked");
    sim::Operation op;
    op.id = id;
    op.node = event.node;
    op.client = std::string(v[1]);
    op.object = std::string(v[2]);
    op.key = std::string(v[3]);
    op.kind = std::string(v[4]);
    op.input = std::string(v[5]);
    op.invoke = event.time;
    ops_.emplace(id, std::move(op));
    return sim::Status::Ok();
  }
  if (kind == "op.complete") {
    if (!split_fields(event.details, {"op", "status", "output"}, &v, &missing)) {
      return bad("missing \"" + missing + "\"");
    }
    sim::OpStatus status;
    if (!parse_u64(v[0], &id)) return bad("op id is not a number");
    if (!parse_status(v[1], &status)) {
      return bad("unknown status \"" + std::string(v[1]) + "\" (ok, fail or unknown)");
    }
    auto it = ops_.find(id);
    if (it == ops_.end()) return bad("op " + std::to_string(id) + " was never invoked");
    sim::Operation& op = it->second;
    if (op.status != sim::OpStatus::kPending) {
      return bad("op " + std::to_string(id) + " was already completed");
    }
    if (event.time < op.invoke) return bad("completion before the invoke");
    op.status = status;
    op.output = std::string(v[2]);
    op.complete = status == sim::OpStatus::kUnknown ? sim::kTimeMax : event.time;
    return sim::Status::Ok();
  }
  // op.effect
  if (!split_fields(event.details, {"op", "seq"}, &v, &missing)) {
    return bad("missing \"" + missing + "\"");
  }
  std::uint64_t seq = 0;
  if (!parse_u64(v[0], &id)) return bad("op id is not a number");
  if (!parse_u64(v[1], &seq) || seq == 0) return bad("seq is not a positive number");
  auto it = ops_.find(id);
  if (it == ops_.end()) return bad("op " + std::to_string(id) + " was never invoked");
  if (it->second.effect_seq != 0) {
    return bad("op " + std::to_string(id) + " already took effect");
  }
  it->second.effect_seq = seq;
  return sim::Status::Ok();
}

std::vector<sim::Operation> HistoryBuilder::take() {
  std::vector<sim::Operation> out;
  out.reserve(ops_.size());
  for (auto& [id, op] : ops_) out.push_back(std::move(op));
  ops_.clear();
  return out;
}

sim::Result<std::vector<sim::Operation>> history_from_events(
    const std::vector<traces::RecordedEvent>& events) {
  HistoryBuilder b;
  for (const traces::RecordedEvent& e : events) {
    sim::Status s = b.add(e);
    if (!s.ok()) return s.error();
  }
  return b.take();
}

sim::Result<std::vector<sim::Operation>> history_from_trace_file(const std::string& path) {
  auto reader = traces::TraceReader::open(path);
  if (!reader.ok()) return reader.error();
  HistoryBuilder b;
  while (true) {
    auto event = (*reader)->next();
    if (!event.ok()) return event.error();
    if (*event == nullptr) break;
    sim::Status s = b.add(**event);
    if (!s.ok()) {
      return sim::Error{s.error().kind, (*reader)->name() + ": " + s.error().message};
    }
  }
  return b.take();
}

}  // namespace props
