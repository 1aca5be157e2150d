#include "platform/bindings/d1_binding.h"

#include <cmath>
#include <deque>
#include <nlohmann/json.hpp>
#include <utility>

namespace bindings {

namespace {

using json = nlohmann::json;

// A bound value as the runtime sends it: a number (an integer within 2^53 binds as INTEGER),
// a string, null, or an array of bytes (a BLOB).
bool param(const json& v, std::string* blob, sim::SqlDb::Param* out) {
  if (v.is_null()) {
    *out = std::monostate{};
  } else if (v.is_string()) {
    *out = v.get<std::string>();
  } else if (v.is_number_integer()) {
    *out = v.get<std::int64_t>();
  } else if (v.is_number()) {
    const double d = v.get<double>();
    if (std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
      *out = static_cast<std::int64_t>(d);
    } else {
      *out = d;
    }
  } else if (v.is_array()) {
    for (const json& b : v) {
      if (!b.is_number_integer() || b.get<int>() < 0 || b.get<int>() > 255) return false;
      blob->push_back(static_cast<char>(b.get<int>()));
    }
    *out = sim::SqlDb::Blob{*blob};
  } else {
    return false;
  }
  return true;
}

json cell(const sim::SqlDb::Cell& c) {
  using T = sim::SqlDb::Cell::Type;
  switch (c.type) {
    case T::kInteger:
      return c.integer;
    case T::kReal:
      return std::isfinite(c.real) ? json(c.real) : json(nullptr);
    case T::kText:
      return json(c.bytes);
    case T::kBlob: {
      json bytes = json::array();
      for (char b : c.bytes) bytes.push_back(static_cast<unsigned char>(b));
      return bytes;
    }
    case T::kNull:
      break;
  }
  return nullptr;
}

}  // namespace

js::CallReply D1Binding::call(sim::Task& task, const js::CallRequest& request) {
  if (request.method != "query") {
    return js::CallReply::failure("TypeError", "D1: unknown method " + request.method);
  }
  // {"session": "...", "exec": false, "statements": [{"sql": "...", "params": [...]}]}
  const json args = json::parse(request.json, nullptr, /*allow_exceptions=*/false);
  if (!args.is_object() || !args.contains("statements") || !args["statements"].is_array()) {
    return js::CallReply::failure("TypeError", "D1: malformed arguments");
  }
  services::D1Request q;
  q.database = database_;
  q.session = args.value("session", "");
  q.exec = args.value("exec", false);
  std::deque<std::string> blobs;  // BLOB params point into these (a deque never moves them)
  for (const json& s : args["statements"]) {
    services::D1Statement st;
    st.sql = s.value("sql", "");
    if (s.contains("params") && s["params"].is_array()) {
      for (const json& v : s["params"]) {
        sim::SqlDb::Param p;
        if (!param(v, &blobs.emplace_back(), &p)) {
          return js::CallReply::failure("Error",
                                        "D1_TYPE_ERROR: Type '" + std::string(v.type_name()) +
                                            "' not supported for value '" + v.dump() + "'");
        }
        st.params.push_back(std::move(p));
      }
    }
    q.statements.push_back(std::move(st));
  }
  sim::Result<services::D1Response> r = client_.query(task, q);
  if (!r.ok()) {
    js::CallReply out = js::CallReply::failure("Error", r.error().kind == sim::ErrorKind::kInvalid
                                                            ? "D1_ERROR: " + r.error().message
                                                            : "D1_ERROR: Network connection lost.");
    out.retryable = r.error().kind != sim::ErrorKind::kInvalid;
    return out;
  }
  json results = json::array();
  for (const services::D1StatementResult& s : r->results) {
    json rows = json::array();
    for (const auto& row : s.rows) {
      json out = json::array();
      for (const sim::SqlDb::Cell& c : row) out.push_back(cell(c));
      rows.push_back(std::move(out));
    }
    results.push_back({{"ok", s.ok},
                       {"error", s.error},
                       {"columns", s.columns},
                       {"rows", std::move(rows)},
                       {"changes", s.changes},
                       {"last_row_id", s.last_row_id},
                       {"rows_read", s.rows_read},
                       {"rows_written", s.rows_written},
                       {"duration", s.duration_ms}});
  }
  js::CallReply reply;
  reply.json = json{{"bookmark", r->bookmark},
                    {"served_by", r->served_by},
                    {"served_by_region", r->served_by_region},
                    {"served_by_primary", r->served_by_primary},
                    {"changed_db", r->changed_db},
                    {"size_after", r->size_after},
                    {"results", std::move(results)}}
                   .dump();
  return reply;
}

}  // namespace bindings
