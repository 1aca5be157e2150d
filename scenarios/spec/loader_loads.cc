// HTTP loads: their pacing, their requests (method, URL and body templates, headers, weights)
// and the history operation a request may record (kind, object, key, input, which part of the
// response is the output). Where the clients are is resolved by loader_clients.cc.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/template.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

std::optional<Template> resolve_template(Resolution& r, const Loc& loc, const std::string& text,
                                         Template::Use use) {
  auto t = Template::parse(text, use);
  if (!t.ok()) {
    r.errors.at(loc, t.error().message);
    return std::nullopt;
  }
  return std::move(t).value();
}

// `output` of a record: "body" (or empty), "status", "none", "json:/pointer" or "header:NAME".
// False when it is none of these.
bool record_output(const std::string& o, RecordSpec* rs) {
  if (o.empty() || o == "body") {
    rs->output = RecordSpec::Output::kBody;
  } else if (o == "status") {
    rs->output = RecordSpec::Output::kStatus;
  } else if (o == "none") {
    rs->output = RecordSpec::Output::kNone;
  } else if (o.rfind("json:", 0) == 0 && (o.size() == 5 || o[5] == '/')) {
    rs->output = RecordSpec::Output::kJsonPointer;
    rs->output_arg = o.substr(5);
  } else if (o.rfind("header:", 0) == 0 && o.size() > 7) {
    rs->output = RecordSpec::Output::kHeader;
    rs->output_arg = o.substr(7);
  } else {
    return false;
  }
  return true;
}

RecordSpec resolve_record(Resolution& r, const Loc& loc, const pb::Record& rec) {
  RecordSpec rs;
  rs.kind = rec.kind();
  if (rs.kind.empty()) r.errors.at(loc("kind"), "an operation kind (\"increment\") is required");
  if (rec.object().empty()) {
    r.errors.at(loc("object"), "the object operated on (\"counter\") is required");
  }
  auto object = resolve_template(r, loc("object"), rec.object(), Template::Use::kRecord);
  auto key = resolve_template(r, loc("key"), rec.key(), Template::Use::kRecord);
  auto input = resolve_template(r, loc("input"), rec.input().empty() ? "${body}" : rec.input(),
                                Template::Use::kRecord);
  if (object) rs.object = *object;
  if (key) rs.key = *key;
  if (input) rs.input = *input;
  if (!record_output(rec.output(), &rs)) {
    r.errors.at(loc("output"),
                "expected \"body\", \"status\", \"none\", \"json:/pointer\" or "
                "\"header:NAME\", got " +
                    quote(rec.output()));
  }
  for (int k = 0; k < rec.fail_status_size(); ++k) {
    if (rec.fail_status(k) < 100 || rec.fail_status(k) > 599) {
      r.errors.at(loc("fail_status", k), "expected an HTTP status from 100 to 599");
    }
    rs.fail_status.push_back(rec.fail_status(k));
  }
  return rs;
}

void resolve_request_headers(Resolution& r, const Loc& loc, const pb::Request& in,
                             RequestSpec* out) {
  for (int h = 0; h < in.headers_size(); ++h) {
    const Loc hl = loc("headers", h);
    if (in.headers(h).key().empty()) {
      r.errors.at(hl, "a header needs a name");
      continue;
    }
    if (auto v = resolve_template(r, hl, in.headers(h).value(), Template::Use::kRequest)) {
      out->headers.emplace_back(in.headers(h).key(), *v);
    }
  }
}

// nullopt when the URL or body template is bad (reported).
std::optional<RequestSpec> resolve_request(Resolution& r, const Loc& loc, const pb::Request& in) {
  RequestSpec out;
  if (!in.method().empty()) {
    check_method(r, loc("method"), in.method());
    out.method = in.method();
  }
  if (in.path().empty()) {
    r.errors.at(loc("path"), "a path (\"/increment\") or URL is required");
  } else if (in.path()[0] != '/' && in.path().rfind("https://", 0) != 0 &&
             in.path().rfind("http://", 0) != 0) {
    r.errors.at(loc("path"),
                "expected a path starting with '/' or an http(s):// URL, got " + quote(in.path()));
  }
  auto url = resolve_template(r, loc("path"), in.path(), Template::Use::kRequest);
  auto body = resolve_template(r, loc("body"), in.body(), Template::Use::kRequest);
  if (!in.body().empty() && (out.method == "GET" || out.method == "HEAD")) {
    r.errors.at(loc("body"), "a " + out.method + " request cannot have a body (set method)");
  }
  if (in.weight() < 0 || in.weight() > kWeightMax) {
    r.errors.at(loc("weight"), "expected a weight from 1 to " + std::to_string(kWeightMax));
  }
  out.weight = in.weight() <= 0 ? 1 : static_cast<std::uint32_t>(in.weight());
  resolve_request_headers(r, loc, in, &out);
  if (in.has_record()) {
    out.record = resolve_record(r, loc("record"), in.record());
    r.records = true;
  }
  if (!url || !body) return std::nullopt;
  out.url = *url;
  out.body = *body;
  return out;
}

// Load `index` (0-based); nullopt when it has too many requests to resolve them.
std::optional<LoadSpec> resolve_load(Resolution& r, const Loc& loc, const pb::HttpLoad& l,
                                     int index) {
  LoadSpec load;
  load.name = l.name().empty() ? "load-" + std::to_string(index + 1) : l.name();
  claim_group_name(r, loc("name"), load.name);
  load.placement = resolve_placement(r, loc, l.clients(), l.location(), l.pop(), l.worker(),
                                     l.start(), l.stop());
  load.rate = l.rate();
  if (!std::isfinite(load.rate) || load.rate < 0 || load.rate > kRateMax) {
    r.errors.at(loc("rate"), "expected requests per second from 0 to 1e6");
    load.rate = 0;
  }
  load.think_time = duration(r, loc("think_time"), l.think_time(), 0);
  if (load.rate > 0 && !l.think_time().empty()) {
    r.errors.at(loc("think_time"), "give rate or think_time, not both");
  }
  if (l.requests_max() < 0) r.errors.at(loc("requests_max"), "must not be negative");
  load.requests_max = static_cast<std::uint64_t>(std::max(0, l.requests_max()));
  load.timeout = duration(r, loc("timeout"), l.timeout(), 10 * sim::kSecond);
  if (load.timeout <= 0) r.errors.at(loc("timeout"), "must be positive");
  if (l.request_size() == 0) r.errors.at(loc, "at least one request is required");
  if (l.request_size() > kRequestsPerLoadMax) {
    r.errors.at(loc("request", kRequestsPerLoadMax),
                "more than " + std::to_string(kRequestsPerLoadMax) + " requests");
    return std::nullopt;
  }
  for (int j = 0; j < l.request_size(); ++j) {
    if (auto req = resolve_request(r, loc("request", j), l.request(j))) {
      load.requests.push_back(*req);
    }
  }
  return load;
}

}  // namespace

void resolve_loads(Resolution& r) {
  for (int i = 0; i < r.spec.load_size(); ++i) {
    if (auto load = resolve_load(r, r.root("load", i), r.spec.load(i), i)) {
      r.out.loads.push_back(std::move(*load));
    }
  }
}

}  // namespace scenarios::spec::loader_internal
