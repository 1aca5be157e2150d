// resolve(): runs the passes over a Resolution, in order. Also what every pass shares: Loc (where
// a field was written), Errors, the checks of durations, file references, locations, entries,
// hostnames and methods, and the scenario's header (name, summary, expected, duration).

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"
#include "sim/assert.h"
#include "sim/location.h"

namespace scenarios::spec::loader_internal {
namespace {

std::vector<std::string> location_codes() {
  std::vector<std::string> codes;
  for (const auto& l : sim::known_locations()) codes.push_back(l.code);
  return codes;
}

bool is_knob_name(const std::string& key) {
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

// The scenario's name, summary, expected outcome and times, with the variant's summary and
// expected outcome over the scenario's.
void resolve_header(Resolution& r) {
  LoadedScenario& out = r.out;
  out.name = r.spec.name();
  if (out.name.empty()) {
    const std::size_t slash = r.source.find_last_of('/');
    out.name = slash == std::string::npos ? r.source : r.source.substr(slash + 1);
    if (out.name.empty() || out.name == "." || out.name == "..") out.name = "scenario";
  }
  if (!is_valid_name(out.name)) {
    r.errors.at(r.root("name"),
                "bad name " + quote(out.name) + " (letters, digits, '-', '_', '.')");
  }
  out.summary = r.spec.summary();
  const std::string base_expected = r.spec.expected().empty() ? "pass" : r.spec.expected();
  out.expected = base_expected;
  if (r.variant != nullptr) {
    if (!r.variant->summary().empty()) out.summary = r.variant->summary();
    if (!r.variant->expected().empty()) out.expected = r.variant->expected();
  }
  for (const auto& v : r.spec.variant()) {
    out.variants.push_back({v.name(), v.summary().empty() ? r.spec.summary() : v.summary(),
                            v.expected().empty() ? base_expected : v.expected()});
  }
  out.duration = duration(r, r.root("duration"), r.spec.duration(), 60 * sim::kSecond);
  if (out.duration <= 0) {
    r.errors.at(r.root("duration"), "must be positive");
    out.duration = 60 * sim::kSecond;
  }
  out.quiet_after = duration(r, r.root("quiet_after"), r.spec.quiet_after(), out.duration / 4 * 3);
  if (out.quiet_after > out.duration) {
    r.errors.at(r.root("quiet_after"), sim::format_duration(out.quiet_after) +
                                           " is after the end of the run (duration " +
                                           sim::format_duration(out.duration) + ")");
  }
}

}  // namespace

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_module_path(std::string_view path) {
  return has_suffix(path, ".js") || has_suffix(path, ".mjs");
}

Loc Loc::operator()(std::string_view name, int index) const {
  const google::protobuf::FieldDescriptor* fd = desc_->FindFieldByName(std::string(name));
  SIM_ASSERT(fd != nullptr);
  SIM_ASSERT(fd->is_repeated() == (index >= 0));
  Loc child = *this;
  child.path_ = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  if (index >= 0) child.path_ += "[" + std::to_string(index) + "]";
  child.tree_ = nullptr;
  child.desc_ = fd->message_type();
  if (tree_ != nullptr) {
    const auto at = tree_->GetLocation(fd, index);
    if (at.line >= 0) {
      child.line_ = at.line + 1;
      child.column_ = at.column + 1;
    }
    if (fd->message_type() != nullptr) child.tree_ = tree_->GetTreeForNested(fd, index);
  }
  return child;
}

std::string Loc::where() const {
  if (line_ < 0) return *file_;
  return *file_ + ":" + std::to_string(line_) + ":" + std::to_string(column_);
}

void Errors::add(std::string line) {
  if (static_cast<int>(lines_.size()) < kScenarioErrorsMax) {
    lines_.push_back(std::move(line));
  } else {
    truncated_ = true;
  }
}

void Errors::at(const Loc& loc, const std::string& message) {
  add(loc.where() + ": " + (loc.path().empty() ? "" : loc.path() + ": ") + message);
}

void Errors::add_lines(const std::string& message) {
  std::size_t i = 0;
  while (i <= message.size()) {
    std::size_t nl = message.find('\n', i);
    if (nl == std::string::npos) nl = message.size();
    if (nl > i) add(message.substr(i, nl - i));
    i = nl + 1;
  }
}

sim::Error Errors::error() const {
  std::string out = join(lines_, "\n");
  if (truncated_) out += "\n(more errors not shown)";
  return invalid(out);
}

Resolution::Resolution(const ScenarioFiles& files, std::string source, std::string variant,
                       const pb::Scenario& spec,
                       const google::protobuf::TextFormat::ParseInfoTree& tree)
    : files(files),
      source(std::move(source)),
      spec_file(this->source.empty() ? std::string(kSpecFile)
                                     : this->source + "/" + std::string(kSpecFile)),
      spec(spec),
      root(&spec_file, &tree, pb::Scenario::descriptor()) {
  out.source = this->source;
  out.variant = std::move(variant);
  out.files = files;
  out.fingerprint = fingerprint_files(files);
}

sim::Result<LoadedScenario> resolve(const ScenarioFiles& files, std::string source,
                                    std::string variant, const pb::Scenario& spec,
                                    const google::protobuf::TextFormat::ParseInfoTree& tree) {
  Resolution r(files, std::move(source), std::move(variant), spec, tree);
  select_variant(r);
  if (!r.errors.ok()) return r.errors.error();
  resolve_header(r);
  resolve_topology(r);
  resolve_workers(r);
  add_default_services(r);
  resolve_clients(r);
  resolve_faults(r);
  resolve_knobs(r);
  resolve_properties(r);
  check_expectations(r);
  if (!r.errors.ok()) return r.errors.error();
  return std::move(r.out);
}

std::string display(const Resolution& r, const std::string& rel) {
  return r.source.empty() ? rel : r.source + "/" + rel;
}

sim::Duration duration(Resolution& r, const Loc& loc, const std::string& text,
                       sim::Duration fallback) {
  if (text.empty()) return fallback;
  sim::Duration d = 0;
  if (!sim::parse_duration(text, &d) || d < 0) {
    r.errors.at(loc, "bad duration " + quote(text) + " (write e.g. \"60s\", \"250ms\", \"2m\")");
    return fallback;
  }
  return d;
}

std::string file_ref(Resolution& r, const Loc& loc, const std::string& written,
                     std::string_view what) {
  const auto path = normalize_path("", written);
  if (!path) {
    r.errors.at(loc, "bad path " + quote(written) +
                         " (relative to the scenario folder, '/'-separated, inside it)");
    return "";
  }
  if (r.files.count(*path) == 0) {
    r.errors.at(loc, std::string(what) + " " + quote(*path) + " not found in the scenario folder");
    return "";
  }
  return *path;
}

std::string location(Resolution& r, const Loc& loc, const std::string& code) {
  if (code.empty()) {
    r.errors.at(loc, "a location (IATA code) is required");
  } else if (!sim::find_location(code)) {
    const std::vector<std::string> codes = location_codes();
    r.errors.at(loc, "unknown location " + quote(code) + did_you_mean(code, codes) +
                         " (known: " + join(codes, " ") + ")");
  }
  return code;
}

std::map<std::string, std::string> entries(Resolution& r, const Loc& loc, std::string_view field,
                                           const google::protobuf::RepeatedPtrField<pb::Entry>& es,
                                           bool knob_keys) {
  std::map<std::string, std::string> out;
  for (int i = 0; i < es.size(); ++i) {
    const Loc at = loc(field, i);
    const std::string& key = es[i].key();
    if (key.empty()) {
      r.errors.at(at, "an entry needs a key");
      continue;
    }
    if (knob_keys && !is_knob_name(key)) {
      r.errors.at(at, "bad knob name " + quote(key) +
                          " (lowercase letters, digits, '_', '-' and '.', like \"do.fencing\")");
      continue;
    }
    if (!out.emplace(key, es[i].value()).second) {
      r.errors.at(at, "key " + quote(key) + " is given twice");
    }
  }
  return out;
}

void check_hostname(Resolution& r, const Loc& loc, const std::string& host) {
  const bool ok = !host.empty() && host.size() <= 253 && host.front() != '.' &&
                  host.back() != '.' && host.find("..") == std::string::npos &&
                  std::all_of(host.begin(), host.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
                  });
  if (!ok) {
    r.errors.at(loc, host.empty() ? "a hostname is required"
                                  : "bad hostname " + quote(host) +
                                        " (lowercase letters, digits, '-' and '.')");
  } else if (!r.hostnames.insert(host).second) {
    r.errors.at(loc, "hostname " + quote(host) + " is served twice");
  }
}

void check_method(Resolution& r, const Loc& loc, const std::string& method) {
  const bool ok =
      !method.empty() && method.size() <= 16 &&
      std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) r.errors.at(loc, "bad HTTP method " + quote(method) + " (uppercase, like \"POST\")");
}

}  // namespace scenarios::spec::loader_internal
