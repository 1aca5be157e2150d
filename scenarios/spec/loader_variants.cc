// Variants: choosing the one to load (select_variant, the first pass), and at the end checking
// every `expected` and what can be checked of the variants not chosen, so that a suite finds a
// broken variant before anyone runs it. Applying a variant is the business of each topic's pass
// (its main and config in loader_workers.cc, faults and knobs in loader_faults.cc).

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

// `expected` is "pass" or the name of a property.
void check_expected(Resolution& r, const Loc& loc, const std::string& expected) {
  if (expected.empty() || expected == "pass") return;
  std::vector<std::string> names;
  for (const auto& p : r.spec.property()) names.push_back(p.name());
  if (std::find(names.begin(), names.end(), expected) == names.end()) {
    r.errors.at(loc, "expected " + quote(expected) + " is neither \"pass\" nor a property" +
                         did_you_mean(expected, names) + " (properties: " + join(names) + ")");
  }
}

// What can be checked of a variant without applying it.
void check_unselected_variant(Resolution& r, const Loc& loc, const pb::Variant& v) {
  if (!v.main().empty()) {
    const std::string path = file_ref(r, loc("main"), v.main(), "main module");
    if (!path.empty() && !is_module_path(path)) {
      r.errors.at(loc("main"), "the main module must be an ES module (.js or .mjs)");
    }
  }
  if (!v.config().empty()) (void)file_ref(r, loc("config"), v.config(), "wrangler configuration");
  (void)entries(r, loc, "knobs", v.knobs(), true);
  if (v.has_faults()) {
    FaultSpec ignored;
    resolve_fault_plan(r, loc("faults"), v.faults(), &ignored);
  }
  if (!v.worker().empty() && r.out.find_worker(v.worker()) == nullptr) {
    r.errors.at(loc("worker"), "no Worker named " + quote(v.worker()));
  }
}

}  // namespace

void select_variant(Resolution& r) {
  std::set<std::string> names;
  for (int i = 0; i < r.spec.variant_size(); ++i) {
    const pb::Variant& v = r.spec.variant(i);
    const Loc loc = r.root("variant", i);
    if (!is_valid_name(v.name())) {
      r.errors.at(loc("name"), v.name().empty() ? "a variant needs a name"
                                                : "bad name " + quote(v.name()) +
                                                      " (letters, digits, '-', '_', '.')");
    } else if (!names.insert(v.name()).second) {
      r.errors.at(loc("name"), "variant " + quote(v.name()) + " is declared twice");
    }
    if (r.out.variant == v.name()) {
      r.variant = &v;
      r.variant_loc.emplace(loc);
    }
  }
  if (!r.out.variant.empty() && r.variant == nullptr && r.errors.ok()) {
    std::vector<std::string> declared(names.begin(), names.end());
    r.errors.add(r.spec_file + ": variant " + quote(r.out.variant) + " not found" +
                 did_you_mean(r.out.variant, declared) +
                 (declared.empty() ? " (the scenario declares no variants)"
                                   : " (variants: " + join(declared) + ")"));
  }
}

void check_expectations(Resolution& r) {
  check_expected(r, r.root("expected"), r.spec.expected());
  for (int i = 0; i < r.spec.variant_size(); ++i) {
    check_expected(r, r.root("variant", i)("expected"), r.spec.variant(i).expected());
  }
  for (int i = 0; i < r.spec.variant_size(); ++i) {
    const pb::Variant& v = r.spec.variant(i);
    if (&v != r.variant) check_unselected_variant(r, r.root("variant", i), v);
  }
}

}  // namespace scenarios::spec::loader_internal
