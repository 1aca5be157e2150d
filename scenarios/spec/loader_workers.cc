// The Workers: each `worker` of the spec (or the implicit one, wrangler.jsonc, when there is none)
// with its wrangler file parsed, the variant's main module or wrangler file applied, its name,
// main module and hostnames resolved; then what one Worker's configuration says of another
// (script_name references, one consumer per queue).

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"
#include "scenarios/spec/wrangler.h"

namespace scenarios::spec::loader_internal {
namespace {

// A Worker as written. Drafting all of them first gives the names a variant may refer to.
struct WorkerDraft {
  pb::Worker w;  // the implicit Worker when the spec declares none
  bool declared = false;
  std::optional<Loc> loc;
  std::optional<Loc> config_loc;
  std::string config_written;
  std::optional<WranglerConfig> config;
  std::string name;
};

// Reads and parses one wrangler file; nullopt after reporting why not.
std::optional<WranglerConfig> read_wrangler(Resolution& r, const Loc& loc,
                                            const std::string& written) {
  const std::string path =
      file_ref(r, loc, written.empty() ? "wrangler.jsonc" : written, "wrangler configuration");
  if (path.empty()) return std::nullopt;
  if (!has_suffix(path, ".jsonc") && !has_suffix(path, ".json")) {
    r.errors.at(loc,
                "a wrangler configuration is a .jsonc or .json file (wrangler.toml is not "
                "supported)");
    return std::nullopt;
  }
  auto parsed = parse_wrangler(r.files.at(path), display(r, path));
  if (!parsed.ok()) {
    r.errors.add_lines(parsed.error().message);
    return std::nullopt;
  }
  return std::move(parsed).value();
}

std::vector<WorkerDraft> draft_workers(Resolution& r, int count) {
  std::vector<WorkerDraft> drafts(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    WorkerDraft& d = drafts[static_cast<std::size_t>(i)];
    d.declared = r.spec.worker_size() > 0;
    if (d.declared) d.w = r.spec.worker(i);
    d.loc.emplace(d.declared ? r.root("worker", i) : r.root);
    d.config_loc.emplace(d.declared ? (*d.loc)("config") : r.root);
    d.config_written = d.w.config().empty() ? "wrangler.jsonc" : d.w.config();
    d.config = read_wrangler(r, *d.config_loc, d.config_written);
    d.name = d.w.name().empty() && d.config ? d.config->name : d.w.name();
  }
  return drafts;
}

// The index of the Worker the selected variant changes (the one it names, else the entry
// Worker), with the variant's wrangler file read in place of its own; -1 when there is none.
int apply_variant_config(Resolution& r, std::vector<WorkerDraft>* drafts) {
  if (r.variant == nullptr) return -1;
  int target = -1;
  if (r.variant->worker().empty()) {
    target = 0;
  } else {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < drafts->size(); ++i) {
      names.push_back((*drafts)[i].name);
      if ((*drafts)[i].name == r.variant->worker()) target = static_cast<int>(i);
    }
    if (target < 0) {
      r.errors.at((*r.variant_loc)("worker"), "no Worker named " + quote(r.variant->worker()) +
                                                  did_you_mean(r.variant->worker(), names));
    }
  }
  if (target >= 0 && !r.variant->config().empty()) {
    WorkerDraft& d = (*drafts)[static_cast<std::size_t>(target)];
    d.config_loc.emplace((*r.variant_loc)("config"));
    d.config_written = r.variant->config();
    d.config = read_wrangler(r, *d.config_loc, d.config_written);
  }
  return target;
}

// The spec's name, else wrangler's; unique among the Workers (`names`).
void resolve_worker_name(Resolution& r, const WorkerDraft& d, WorkerSpec* ws,
                         std::set<std::string>* names) {
  const Loc& loc = *d.loc;
  ws->name = d.w.name().empty() ? d.config->name : d.w.name();
  if (ws->name.empty()) {
    r.errors.add(d.config->file + ": missing key \"name\" (or name the Worker in " + r.spec_file +
                 ")");
  } else if (d.declared && !d.w.name().empty() && !is_valid_name(ws->name)) {
    r.errors.at(loc("name"), "bad Worker name " + quote(ws->name));
  } else if (!names->insert(ws->name).second) {
    r.errors.at(d.w.name().empty() ? loc : loc("name"),
                "Worker " + quote(ws->name) + " is declared twice");
  }
}

// The main module: the variant's or the spec's (folder-relative), or wrangler's (relative to the
// configuration's directory, and reported there). `variant_main`: the variant replaces it.
void resolve_main(Resolution& r, const WorkerDraft& d, bool variant_main, WorkerSpec* ws) {
  std::string written;
  std::optional<std::string> main;
  std::optional<Loc> main_loc;
  std::string main_where;
  if (variant_main) {
    written = r.variant->main();
    main = normalize_path("", written);
    main_loc.emplace((*r.variant_loc)("main"));
  } else if (!d.w.main().empty()) {
    written = d.w.main();
    main = normalize_path("", written);
    main_loc.emplace((*d.loc)("main"));
  } else {
    written = d.config->main;
    main = normalize_path(parent_dir(ws->config_path), written);
    main_where = d.config->main_where + ": main";
  }
  auto main_error = [&](const std::string& message) {
    main_loc ? r.errors.at(*main_loc, message) : r.errors.add(main_where + ": " + message);
  };
  if (written.empty()) {
    r.errors.add(d.config->file + ": missing key \"main\" (the Worker's main module)");
  } else if (!main) {
    main_error("bad module path " + quote(written));
  } else if (r.files.count(*main) == 0) {
    main_error("main module " + quote(*main) + " not found in the scenario folder");
  } else if (!is_module_path(*main)) {
    main_error("the main module must be an ES module (.js or .mjs), got " + quote(*main));
  } else {
    ws->main = *main;
  }
}

// The hostnames written, else NAME.test (lowercase, '_' as '-').
void resolve_hostnames(Resolution& r, const WorkerDraft& d, WorkerSpec* ws) {
  const Loc& loc = *d.loc;
  for (int h = 0; h < d.w.hostname_size(); ++h) {
    check_hostname(r, loc("hostname", h), d.w.hostname(h));
    ws->hostnames.push_back(d.w.hostname(h));
  }
  if (ws->hostnames.empty() && !ws->name.empty()) {
    std::string host = ws->name + ".test";
    std::transform(host.begin(), host.end(), host.begin(), [](char c) {
      return c >= 'A' && c <= 'Z' ? char(c + 32) : c == '_' ? '-' : c;
    });
    check_hostname(r, d.w.name().empty() ? loc : loc("name"), host);
    ws->hostnames.push_back(host);
  }
}

// A Worker whose wrangler file parsed.
WorkerSpec resolve_worker(Resolution& r, WorkerDraft& d, bool variant_main,
                          std::set<std::string>* names) {
  WorkerSpec ws;
  ws.config_path = normalize_path("", d.config_written).value_or(d.config_written);
  resolve_worker_name(r, d, &ws, names);
  resolve_main(r, d, variant_main, &ws);
  ws.compatibility_date =
      d.w.compatibility_date().empty() ? d.config->compatibility_date : d.w.compatibility_date();
  resolve_hostnames(r, d, &ws);
  ws.config = std::move(*d.config);
  return ws;
}

void check_script_names(Resolution& r, const WorkerSpec& w) {
  const auto& dos = w.config.durable_objects;
  for (std::size_t i = 0; i < dos.size(); ++i) {
    const auto& b = dos[i];
    const std::string at = b.where + ": durable_objects.bindings[" + std::to_string(i) + "]: ";
    if (b.script_name.empty() || b.script_name == w.name) continue;
    const WorkerSpec* owner = r.out.find_worker(b.script_name);
    if (owner == nullptr) {
      r.errors.add(at + "script_name " + quote(b.script_name) +
                   " is not a Worker of this scenario");
    } else if (owner->config.durable_object_classes.count(b.class_name) == 0) {
      r.errors.add(at + "class " + quote(b.class_name) +
                   " is not declared by a migration of Worker " + quote(owner->name));
    }
  }
  const auto& wfs = w.config.workflows;
  for (std::size_t i = 0; i < wfs.size(); ++i) {
    if (!wfs[i].script_name.empty() && r.out.find_worker(wfs[i].script_name) == nullptr) {
      r.errors.add(wfs[i].where + ": workflows[" + std::to_string(i) + "]: script_name " +
                   quote(wfs[i].script_name) + " is not a Worker of this scenario");
    }
  }
}

void cross_worker_checks(Resolution& r) {
  std::map<std::string, std::string> consumers;  // queue -> where its consumer is
  // queue -> the delivery delay its producers set, and where (a queue has one delivery delay).
  std::map<std::string, std::pair<std::optional<sim::Duration>, std::string>> delays;
  for (const auto& w : r.out.workers) {
    check_script_names(r, w);
    const auto& prods = w.config.queue_producers;
    for (std::size_t i = 0; i < prods.size(); ++i) {
      if (!prods[i].delivery_delay.has_value()) continue;
      auto [it, fresh] =
          delays.emplace(prods[i].queue, std::make_pair(prods[i].delivery_delay, prods[i].where));
      if (!fresh && it->second.first != prods[i].delivery_delay) {
        r.errors.add(prods[i].where + ": queues.producers[" + std::to_string(i) +
                     "]: delivery_delay: queue " + quote(prods[i].queue) +
                     " already has another delivery delay (" + it->second.second +
                     "); a queue has one");
      }
    }
    const auto& cons = w.config.queue_consumers;
    for (std::size_t i = 0; i < cons.size(); ++i) {
      auto [it, fresh] = consumers.emplace(cons[i].queue, cons[i].where);
      if (!fresh) {
        r.errors.add(cons[i].where + ": queues.consumers[" + std::to_string(i) + "]: queue " +
                     quote(cons[i].queue) + " already has a consumer (" + it->second + ")");
      }
    }
  }
}

}  // namespace

void resolve_workers(Resolution& r) {
  const int count = std::max(1, r.spec.worker_size());
  if (count > kWorkersMax) {
    r.errors.at(r.root("worker", kWorkersMax),
                "more than " + std::to_string(kWorkersMax) + " Workers");
    return;
  }
  std::vector<WorkerDraft> drafts = draft_workers(r, count);
  const int target = apply_variant_config(r, &drafts);
  std::set<std::string> names;
  for (int i = 0; i < count; ++i) {
    WorkerDraft& d = drafts[static_cast<std::size_t>(i)];
    if (!d.config) continue;
    const bool variant_main = i == target && !r.variant->main().empty();
    r.out.workers.push_back(resolve_worker(r, d, variant_main, &names));
  }
  cross_worker_checks(r);
}

}  // namespace scenarios::spec::loader_internal
