#include "scenarios/spec/wrangler.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "platform/services/cron/cron_expr.h"
#include "scenarios/spec/jsonc.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec {
namespace {

using nlohmann::json;

// A place in the document: its JSON pointer (to find its offset) and how messages show it
// ("durable_objects.bindings[0].class_name").
struct KeyPath {
  std::string pointer;
  std::string display;

  KeyPath key(std::string_view k) const {
    return {pointer + "/" + JsoncIndex::escape(k),
            display.empty() ? std::string(k) : display + "." + std::string(k)};
  }
  KeyPath at(std::size_t i) const {
    return {pointer + "/" + std::to_string(i), display + "[" + std::to_string(i) + "]"};
  }
};

const std::vector<std::string> kTopKeys = {
    "name",     "main",          "compatibility_date", "compatibility_flags",
    "vars",     "kv_namespaces", "durable_objects",    "migrations",
    "queues",   "d1_databases",  "r2_buckets",         "workflows",
    "triggers", "limits",
};
const std::vector<std::string> kIgnoredKeys = {
    "$schema", "account_id", "workers_dev", "observability", "upload_source_maps", "preview_urls",
};

class Validator {
 public:
  Validator(std::string_view text, std::string_view file, const JsoncIndex& index)
      : text_(text), file_(file), index_(index) {}

  // "file:line:column" of a place: its own offset, or the nearest enclosing one that the scan
  // recorded, or just the file.
  std::string where(const KeyPath& p) const {
    std::string pointer = p.pointer;
    while (true) {
      if (auto off = index_.offset(pointer)) {
        const LineCol lc = line_col(text_, *off);
        return file_ + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
      }
      if (pointer.empty()) return file_;
      pointer.resize(pointer.rfind('/'));
    }
  }

  void error_at(const std::string& where, std::string message) {
    if (static_cast<int>(errors_.size()) < kWranglerErrorsMax) {
      errors_.push_back(where + ": " + std::move(message));
    } else {
      truncated_ = true;
    }
  }
  // An error about the value at `p`, named by its key path.
  void error(const KeyPath& p, const std::string& message) {
    error_at(where(p), p.display.empty() ? message : p.display + ": " + message);
  }

  bool ok() const { return errors_.empty(); }
  std::string message() const {
    std::string out = join(errors_, "\n");
    if (truncated_) out += "\n(more errors not shown)";
    return out;
  }

  // Checks that `v` is an object whose keys are all in `allowed` (or `ignored`, which are
  // recorded). False when `v` is not an object.
  bool object(const json& v, const KeyPath& p, const std::vector<std::string>& allowed,
              const std::vector<std::string>& ignored = {},
              std::vector<std::string>* ignored_seen = nullptr) {
    if (!v.is_object()) {
      error(p, "expected an object, got " + std::string(v.type_name()));
      return false;
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      if (std::find(ignored.begin(), ignored.end(), k) != ignored.end()) {
        if (ignored_seen != nullptr) ignored_seen->push_back(k);
        continue;
      }
      const std::string prefix = p.display.empty() ? "" : p.display + ": ";
      error_at(where(p.key(k)), prefix + "unknown key " + quote(k) + did_you_mean(k, allowed));
    }
    return true;
  }

  // Checks that `v` is an array. The caller walks its elements.
  bool array(const json& v, const KeyPath& p) {
    if (!v.is_array()) {
      error(p, "expected an array, got " + std::string(v.type_name()));
      return false;
    }
    return true;
  }

  const json* member(const json& obj, std::string_view key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  // The string at obj[key]; empty and an error when required and missing, or not a string.
  std::string string(const json& obj, const KeyPath& p, std::string_view key, bool required) {
    const json* v = member(obj, key);
    if (v == nullptr) {
      if (required) missing(p, key);
      return "";
    }
    if (!v->is_string()) {
      error(p.key(key), "expected a string, got " + std::string(v->type_name()));
      return "";
    }
    std::string s = v->get<std::string>();
    if (s.empty() && required) error(p.key(key), "must not be empty");
    return s;
  }

  void missing(const KeyPath& p, std::string_view key) { error(p, "missing key " + quote(key)); }

  std::vector<std::string> strings(const json& obj, const KeyPath& p, std::string_view key) {
    std::vector<std::string> out;
    const json* v = member(obj, key);
    if (v == nullptr || !array(*v, p.key(key))) return out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (!e.is_string() || e.get<std::string>().empty()) {
        error(p.key(key).at(i), "expected a non-empty string, got " +
                                    (e.is_string() ? std::string("\"\"") : e.type_name()));
        continue;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  std::optional<std::int64_t> integer(const json& obj, const KeyPath& p, std::string_view key,
                                      std::int64_t lo, std::int64_t hi) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string range = " from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!v->is_number_integer()) {
      error(p.key(key), "expected an integer" + range + ", got " +
                            (v->is_number() ? v->dump() : std::string(v->type_name())));
      return std::nullopt;
    }
    // nlohmann stores non-negative integers as unsigned: compare in the matching type.
    const bool in_range =
        v->is_number_unsigned()
            ? v->get<std::uint64_t>() <= static_cast<std::uint64_t>(hi) &&
                  (lo <= 0 || v->get<std::uint64_t>() >= static_cast<std::uint64_t>(lo))
            : v->get<std::int64_t>() >= lo && v->get<std::int64_t>() <= hi;
    if (!in_range) {
      error(p.key(key), "expected an integer" + range + ", got " + v->dump());
      return std::nullopt;
    }
    return v->get<std::int64_t>();
  }

  // A number of seconds (wrangler's unit for queue timings), as a Duration.
  std::optional<sim::Duration> seconds(const json& obj, const KeyPath& p, std::string_view key,
                                       double hi) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    const double d = v->is_number() ? v->get<double>() : -1;
    if (!v->is_number() || !std::isfinite(d) || d < 0 || d > hi) {
      error(p.key(key), "expected a number of seconds from 0 to " +
                            std::to_string(static_cast<std::int64_t>(hi)) + ", got " +
                            (v->is_number() ? v->dump() : std::string(v->type_name())));
      return std::nullopt;
    }
    return static_cast<sim::Duration>(std::llround(d * 1e9));
  }

  // Records an env name; a second binding of the same name is an error.
  void bind(const std::string& name, const KeyPath& p) {
    auto [it, fresh] = env_.emplace(name, p.display);
    if (!fresh) error(p, quote(name) + " is already bound by " + it->second);
  }
  void identifier(const std::string& name, const KeyPath& p) {
    if (!name.empty() && !is_js_identifier(name)) {
      error(p, quote(name) + " is not a valid JavaScript identifier");
    }
  }

 private:
  std::string_view text_;
  std::string file_;
  const JsoncIndex& index_;
  std::vector<std::string> errors_;
  bool truncated_ = false;
  std::map<std::string, std::string> env_;  // env name -> key path of its binding
};

bool valid_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  const int year = std::stoi(std::string(d.substr(0, 4)));
  const int month = (d[5] - '0') * 10 + (d[6] - '0');
  const int day = (d[8] - '0') * 10 + (d[9] - '0');
  if (month < 1 || month > 12 || day < 1) return false;
  // A calendar date: "2025-02-30" is refused (the platform refuses it too).
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}

// "file:line:column" of a byte offset.
std::string place(std::string_view text, const std::string& file, std::size_t offset) {
  const LineCol lc = line_col(text, offset);
  return file + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

// What nlohmann says is wrong, without its position (the caller computes a better one).
std::string parse_error_detail(const json::parse_error& e) {
  // what(): "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error
  // while parsing value - invalid literal; last read: 'x'". Keep the part after the position.
  const std::string what = e.what();
  const std::size_t colon = what.find(": ", what.find("column"));
  std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
  // nlohmann's "last read" echoes raw input (newlines, whitespace before the token): the
  // position says more.
  if (const std::size_t last = detail.find("; last read: "); last != std::string::npos) {
    detail.resize(last);
  }
  return detail;
}

// The document as JSON. Its problems as JSONC (syntax, nesting, duplicate keys) are errors with
// the place they are at; nothing about the keys and values yet.
sim::Status parse_document(std::string_view text, const std::string& name, const JsoncIndex& index,
                           json* root) {
  if (index.syntax_issue()) {
    return invalid(place(text, name, index.syntax_issue()->offset) + ": " +
                   index.syntax_issue()->message);
  }
  int depth_max = 0;
  try {
    // The callback only measures nesting (nlohmann parses iteratively, but dump() and our walk
    // recurse).
    *root = json::parse(
        text.begin(), text.end(),
        [&depth_max](int depth, json::parse_event_t, json&) {
          depth_max = std::max(depth_max, depth);
          return true;
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the last byte read.
    const std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    return invalid(place(text, name, offset) + ": " + parse_error_detail(e));
  } catch (const json::exception& e) {
    // A number too large for a double ("[json.exception.out_of_range.406] number overflow
    // parsing '1e400'"): nlohmann gives no position, so find the number it quotes.
    const std::string what = e.what();
    const std::size_t open = what.find('\'');
    const std::size_t close = open == std::string::npos ? open : what.find('\'', open + 1);
    const std::string token =
        close == std::string::npos ? std::string() : what.substr(open + 1, close - open - 1);
    const std::size_t at = token.empty() ? std::string_view::npos : text.find(token);
    const std::string where = at == std::string_view::npos ? name : place(text, name, at);
    return invalid(where + ": " +
                   (e.id == 406 ? "the number " + token + " is out of range"
                                : std::string(what.substr(what.find(']') + 2))));
  }
  if (depth_max > JsoncIndex::kDepthMax) {
    return invalid(name + ": nested deeper than " + std::to_string(JsoncIndex::kDepthMax) +
                   " levels");
  }
  if (!index.duplicate_keys().empty()) {
    const JsoncIssue& dup = index.duplicate_keys().front();
    return invalid(place(text, name, dup.offset) + ": " + dup.message);
  }
  return sim::Status::Ok();
}

// The Worker itself: its name, entry point and compatibility settings.
void parse_worker(Validator& v, const json& root, WranglerConfig& c) {
  c.name = v.string(root, KeyPath{}, "name", false);
  if (!c.name.empty() && !is_valid_name(c.name)) {
    v.error(KeyPath{}.key("name"),
            quote(c.name) + " is not a valid Worker name (letters, digits, '-', '_', '.')");
  }
  c.main = v.string(root, KeyPath{}, "main", false);
  c.main_where = v.where(KeyPath{}.key("main"));
  c.compatibility_date = v.string(root, KeyPath{}, "compatibility_date", false);
  if (!c.compatibility_date.empty() && !valid_date(c.compatibility_date)) {
    v.error(KeyPath{}.key("compatibility_date"),
            "expected a date \"YYYY-MM-DD\", got " + quote(c.compatibility_date));
  }
  c.compatibility_flags = v.strings(root, KeyPath{}, "compatibility_flags");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < c.compatibility_flags.size(); ++i) {
    if (!seen.insert(c.compatibility_flags[i]).second) {
      v.error(KeyPath{}.key("compatibility_flags").at(i),
              "flag " + quote(c.compatibility_flags[i]) + " is given twice");
    }
  }
}

// Vars are bindings too: a var and a binding of the same name are an error.
void parse_vars(Validator& v, const json& root, WranglerConfig& c) {
  const json* vars = v.member(root, "vars");
  if (vars == nullptr) return;
  const KeyPath p = KeyPath{}.key("vars");
  if (!vars->is_object()) {
    v.error(p, "expected an object, got " + std::string(vars->type_name()));
    return;
  }
  for (auto it = vars->begin(); it != vars->end(); ++it) {
    const KeyPath e = p.key(it.key());
    if (it.key().empty()) {
      v.error(e, "a var needs a name");
      continue;
    }
    WranglerVar var;
    var.json = !it->is_string();
    var.value = it->is_string() ? it->get<std::string>() : it->dump();
    v.bind(it.key(), e);
    c.vars.emplace(it.key(), std::move(var));
  }
}

// Where the keys are, for the errors that a later stage finds (a binding the platform does not
// simulate): those name the place in the file too.
void record_places(const Validator& v, const json& root, WranglerConfig& c) {
  for (const std::string& key : kTopKeys) {
    if (v.member(root, key) != nullptr) c.where[key] = v.where(KeyPath{}.key(key));
  }
  for (const auto& [section, key] :
       {std::pair<std::string, std::string>{"triggers", "crons"}, {"limits", "cpu_ms"}}) {
    const json* outer = v.member(root, section);
    if (outer != nullptr && v.member(*outer, key) != nullptr) {
      c.where[section + "." + key] = v.where(KeyPath{}.key(section).key(key));
    }
  }
  for (std::size_t i = 0; i < c.compatibility_flags.size(); ++i) {
    c.where["compatibility_flags[" + std::to_string(i) + "]"] =
        v.where(KeyPath{}.key("compatibility_flags").at(i));
  }
}

void parse_kv(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("kv_namespaces");
  const json* list = v.member(root, "kv_namespaces");
  if (list == nullptr || !v.array(*list, p)) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = p.at(i);
    if (!v.object((*list)[i], e, {"binding", "id", "preview_id"})) continue;
    KvNamespace kv;
    kv.binding = v.string((*list)[i], e, "binding", true);
    kv.id = v.string((*list)[i], e, "id", false);
    (void)v.string((*list)[i], e, "preview_id", false);
    if (kv.id.empty()) kv.id = kv.binding;
    v.identifier(kv.binding, e.key("binding"));
    if (!kv.binding.empty()) v.bind(kv.binding, e.key("binding"));
    c.kv_namespaces.push_back(std::move(kv));
  }
}

void parse_migrations(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("migrations");
  const json* list = v.member(root, "migrations");
  if (list == nullptr || !v.array(*list, p)) return;
  std::set<std::string> tags;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = p.at(i);
    const json& m = (*list)[i];
    if (!v.object(
            m, e,
            {"tag", "new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes"})) {
      continue;
    }
    Migration mig;
    mig.tag = v.string(m, e, "tag", true);
    if (!mig.tag.empty() && !tags.insert(mig.tag).second) {
      v.error(e.key("tag"), "tag " + quote(mig.tag) + " is used by an earlier migration");
    }
    auto add = [&](std::string_view key, bool sqlite, std::vector<std::string>* out) {
      *out = v.strings(m, e, key);
      for (std::size_t j = 0; j < out->size(); ++j) {
        const std::string& cls = (*out)[j];
        const KeyPath at = e.key(key).at(j);
        v.identifier(cls, at);
        if (!c.durable_object_classes.emplace(cls, sqlite).second) {
          v.error(at, "class " + quote(cls) + " already exists");
        }
      }
    };
    add("new_classes", false, &mig.new_classes);
    add("new_sqlite_classes", true, &mig.new_sqlite_classes);
    if (const json* renamed = v.member(m, "renamed_classes");
        renamed != nullptr && v.array(*renamed, e.key("renamed_classes"))) {
      for (std::size_t j = 0; j < renamed->size(); ++j) {
        const KeyPath at = e.key("renamed_classes").at(j);
        if (!v.object((*renamed)[j], at, {"from", "to"})) continue;
        std::string from = v.string((*renamed)[j], at, "from", true);
        std::string to = v.string((*renamed)[j], at, "to", true);
        if (from.empty() || to.empty()) continue;
        v.identifier(to, at.key("to"));
        auto it = c.durable_object_classes.find(from);
        if (it == c.durable_object_classes.end()) {
          v.error(at.key("from"), "class " + quote(from) + " does not exist");
        } else if (c.durable_object_classes.count(to) > 0) {
          v.error(at.key("to"), "class " + quote(to) + " already exists");
        } else {
          const bool sqlite = it->second;
          c.durable_object_classes.erase(it);
          c.durable_object_classes.emplace(to, sqlite);
        }
        mig.renamed_classes.emplace_back(std::move(from), std::move(to));
      }
    }
    mig.deleted_classes = v.strings(m, e, "deleted_classes");
    for (std::size_t j = 0; j < mig.deleted_classes.size(); ++j) {
      if (c.durable_object_classes.erase(mig.deleted_classes[j]) == 0) {
        v.error(e.key("deleted_classes").at(j),
                "class " + quote(mig.deleted_classes[j]) + " does not exist");
      }
    }
    c.migrations.push_back(std::move(mig));
  }
}

void parse_durable_objects(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("durable_objects");
  const json* dobj = v.member(root, "durable_objects");
  if (dobj == nullptr || !v.object(*dobj, p, {"bindings"})) return;
  const KeyPath bp = p.key("bindings");
  const json* list = v.member(*dobj, "bindings");
  if (list == nullptr || !v.array(*list, bp)) return;
  std::vector<std::string> classes;
  for (const auto& [cls, sqlite] : c.durable_object_classes) classes.push_back(cls);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = bp.at(i);
    const json& b = (*list)[i];
    if (!v.object(b, e, {"name", "class_name", "script_name"})) continue;
    DurableObjectBinding d;
    d.name = v.string(b, e, "name", true);
    d.class_name = v.string(b, e, "class_name", true);
    d.script_name = v.string(b, e, "script_name", false);
    d.where = v.where(e);
    v.identifier(d.name, e.key("name"));
    v.identifier(d.class_name, e.key("class_name"));
    if (!d.name.empty()) v.bind(d.name, e.key("name"));
    const bool here = d.script_name.empty() || d.script_name == c.name;
    if (here && !d.class_name.empty() && c.durable_object_classes.count(d.class_name) == 0) {
      v.error(e.key("class_name"),
              "class " + quote(d.class_name) +
                  " is not declared by a migration (new_classes or new_sqlite_classes)" +
                  did_you_mean(d.class_name, classes));
    }
    c.durable_objects.push_back(std::move(d));
  }
}

void parse_queues(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("queues");
  const json* queues = v.member(root, "queues");
  if (queues == nullptr || !v.object(*queues, p, {"producers", "consumers"})) return;
  constexpr double kDelaySecondsMax = 24 * 3600;  // raised from 12 h in 2026
  if (const json* list = v.member(*queues, "producers");
      list != nullptr && v.array(*list, p.key("producers"))) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const KeyPath e = p.key("producers").at(i);
      const json& q = (*list)[i];
      if (!v.object(q, e, {"binding", "queue", "delivery_delay"})) continue;
      QueueProducer prod;
      prod.binding = v.string(q, e, "binding", true);
      prod.queue = v.string(q, e, "queue", true);
      prod.delivery_delay = v.seconds(q, e, "delivery_delay", kDelaySecondsMax);
      prod.where = v.where(e);
      v.identifier(prod.binding, e.key("binding"));
      if (!prod.binding.empty()) v.bind(prod.binding, e.key("binding"));
      if (!prod.queue.empty() && !is_valid_name(prod.queue)) {
        v.error(e.key("queue"), quote(prod.queue) + " is not a valid queue name");
      }
      c.queue_producers.push_back(std::move(prod));
    }
  }
  if (const json* list = v.member(*queues, "consumers");
      list != nullptr && v.array(*list, p.key("consumers"))) {
    std::set<std::string> consumed;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const KeyPath e = p.key("consumers").at(i);
      const json& q = (*list)[i];
      if (!v.object(q, e,
                    {"queue", "type", "max_batch_size", "max_batch_timeout", "max_retries",
                     "dead_letter_queue", "retry_delay", "max_concurrency"})) {
        continue;
      }
      QueueConsumer con;
      con.queue = v.string(q, e, "queue", true);
      con.where = v.where(e);
      if (const std::string type = v.string(q, e, "type", false);
          !type.empty() && type != "worker") {
        v.error(e.key("type"), "has an invalid value " + quote(type) +
                                   ". Only \"worker\" consumers can be configured");
      }
      if (auto n = v.integer(q, e, "max_batch_size", 1, 100)) con.max_batch_size = int(*n);
      con.max_batch_timeout = v.seconds(q, e, "max_batch_timeout", 60);
      if (auto n = v.integer(q, e, "max_retries", 0, 100)) con.max_retries = int(*n);
      con.dead_letter_queue = v.string(q, e, "dead_letter_queue", false);
      con.retry_delay = v.seconds(q, e, "retry_delay", kDelaySecondsMax);
      if (auto n = v.integer(q, e, "max_concurrency", 1, 250)) con.max_concurrency = int(*n);
      if (!con.queue.empty() && !consumed.insert(con.queue).second) {
        v.error(e.key("queue"), "queue " + quote(con.queue) + " already has a consumer");
      }
      if (!con.dead_letter_queue.empty() && con.dead_letter_queue == con.queue) {
        v.error(e.key("dead_letter_queue"), "a queue cannot be its own dead-letter queue");
      }
      c.queue_consumers.push_back(std::move(con));
    }
  }
}

void parse_d1(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("d1_databases");
  const json* list = v.member(root, "d1_databases");
  if (list == nullptr || !v.array(*list, p)) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = p.at(i);
    const json& d = (*list)[i];
    if (!v.object(d, e,
                  {"binding", "database_name", "database_id", "preview_database_id",
                   "migrations_dir", "migrations_table"})) {
      continue;
    }
    D1Database db;
    db.binding = v.string(d, e, "binding", true);
    db.database_name = v.string(d, e, "database_name", false);
    db.database_id = v.string(d, e, "database_id", false);
    (void)v.string(d, e, "preview_database_id", false);
    db.migrations_dir = v.string(d, e, "migrations_dir", false);
    (void)v.string(d, e, "migrations_table", false);
    if (db.database_name.empty()) db.database_name = db.binding;
    v.identifier(db.binding, e.key("binding"));
    if (!db.binding.empty()) v.bind(db.binding, e.key("binding"));
    c.d1_databases.push_back(std::move(db));
  }
}

void parse_r2(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("r2_buckets");
  const json* list = v.member(root, "r2_buckets");
  if (list == nullptr || !v.array(*list, p)) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = p.at(i);
    const json& r = (*list)[i];
    if (!v.object(r, e, {"binding", "bucket_name", "preview_bucket_name", "jurisdiction"})) {
      continue;
    }
    R2Bucket b;
    b.binding = v.string(r, e, "binding", true);
    b.bucket_name = v.string(r, e, "bucket_name", true);
    (void)v.string(r, e, "preview_bucket_name", false);
    (void)v.string(r, e, "jurisdiction", false);
    v.identifier(b.binding, e.key("binding"));
    if (!b.binding.empty()) v.bind(b.binding, e.key("binding"));
    c.r2_buckets.push_back(std::move(b));
  }
}

void parse_workflows(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath p = KeyPath{}.key("workflows");
  const json* list = v.member(root, "workflows");
  if (list == nullptr || !v.array(*list, p)) return;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const KeyPath e = p.at(i);
    const json& w = (*list)[i];
    if (!v.object(w, e, {"binding", "name", "class_name", "script_name"})) continue;
    WorkflowBinding wf;
    wf.binding = v.string(w, e, "binding", true);
    wf.name = v.string(w, e, "name", true);
    wf.class_name = v.string(w, e, "class_name", true);
    wf.script_name = v.string(w, e, "script_name", false);
    wf.where = v.where(e);
    v.identifier(wf.binding, e.key("binding"));
    v.identifier(wf.class_name, e.key("class_name"));
    if (!wf.binding.empty()) v.bind(wf.binding, e.key("binding"));
    if (!wf.name.empty() && !is_valid_name(wf.name)) {
      v.error(e.key("name"), quote(wf.name) + " is not a valid workflow name");
    } else if (!wf.name.empty() && !names.insert(wf.name).second) {
      v.error(e.key("name"), "workflow " + quote(wf.name) + " is declared twice");
    }
    c.workflows.push_back(std::move(wf));
  }
}

void parse_triggers_and_limits(Validator& v, const json& root, WranglerConfig& c) {
  const KeyPath tp = KeyPath{}.key("triggers");
  if (const json* t = v.member(root, "triggers"); t != nullptr && v.object(*t, tp, {"crons"})) {
    c.crons = v.strings(*t, tp, "crons");
    for (std::size_t i = 0; i < c.crons.size(); ++i) {
      std::string problem = check_cron(c.crons[i]);
      if (problem.empty() &&
          std::find(c.crons.begin(), c.crons.begin() + static_cast<std::ptrdiff_t>(i),
                    c.crons[i]) != c.crons.begin() + static_cast<std::ptrdiff_t>(i)) {
        problem = "cron " + quote(c.crons[i]) + " is listed twice";
      }
      if (!problem.empty()) v.error(tp.key("crons").at(i), problem);
    }
  }
  const KeyPath lp = KeyPath{}.key("limits");
  if (const json* l = v.member(root, "limits"); l != nullptr && v.object(*l, lp, {"cpu_ms"})) {
    c.cpu_ms = v.integer(*l, lp, "cpu_ms", 1, 300'000);
  }
}

}  // namespace

std::string check_cron(std::string_view expression) {
  sim::Result<services::CronExpr> parsed = services::CronExpr::parse(expression);
  return parsed.ok() ? "" : "cron " + quote(expression) + ": " + parsed.error().message;
}

std::vector<std::string> WranglerConfig::env_names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k);
  for (const auto& b : kv_namespaces) out.push_back(b.binding);
  for (const auto& b : durable_objects) out.push_back(b.name);
  for (const auto& b : queue_producers) out.push_back(b.binding);
  for (const auto& b : d1_databases) out.push_back(b.binding);
  for (const auto& b : r2_buckets) out.push_back(b.binding);
  for (const auto& b : workflows) out.push_back(b.binding);
  std::sort(out.begin(), out.end());
  return out;
}

sim::Result<WranglerConfig> parse_wrangler(std::string_view text, std::string_view file) {
  const std::string name(file);
  if (text.size() > kWranglerBytesMax) {
    return invalid(name + ": larger than " + std::to_string(kWranglerBytesMax) + " bytes");
  }
  const JsoncIndex index = JsoncIndex::scan(text);
  json root;
  if (sim::Status s = parse_document(text, name, index, &root); !s.ok()) return s.error();

  Validator v(text, name, index);
  WranglerConfig c;
  c.file = name;
  if (!v.object(root, KeyPath{}, kTopKeys, kIgnoredKeys, &c.ignored_keys)) {
    return invalid(v.message());
  }
  parse_worker(v, root, c);
  parse_vars(v, root, c);
  parse_kv(v, root, c);
  parse_migrations(v, root, c);
  parse_durable_objects(v, root, c);
  parse_queues(v, root, c);
  parse_d1(v, root, c);
  parse_r2(v, root, c);
  parse_workflows(v, root, c);
  parse_triggers_and_limits(v, root, c);
  if (!v.ok()) return invalid(v.message());
  record_places(v, root, c);
  return c;
}

}  // namespace scenarios::spec
