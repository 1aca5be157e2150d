// sim::Knobs<C>: the named knobs of a config struct C, each with its type, range and one line of
// documentation. A service's config owns its table (`static const Knobs<Config>& knobs()`); the
// platform lifts them into one table with prefixes ("do.lease_duration", "kv.cache_ttl_min"),
// which sets knobs from a scenario and which `edgesim knobs` prints with the defaults.
//
//   static const sim::Knobs<MyConfig>& knobs() {
//     static const auto* t = &(*new sim::Knobs<MyConfig>())
//         .duration("timeout", &MyConfig::timeout, "how long a call waits")
//         .integer("retries_max", &MyConfig::retries_max, 0, 100, "retries before giving up")
//         .flag("sync", &MyConfig::sync, "sync before acknowledging (off: a mutant)");
//     return *t;
//   }
//
// Values: durations with a unit ("250ms", "10s"), integers and decimals in their range, flags
// "on" or "off" (also "true" or "false"). Errors (kInvalid) name the knob, the value and what was
// expected; an unknown name lists the nearest known ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/result.h"
#include "sim/time.h"

namespace sim {

// One knob as `edgesim knobs` prints it.
struct KnobInfo {
  std::string name;
  std::string value;  // the current (default) value, as it would be written
  std::string type;   // "duration", "integer 0..100", "decimal", "on|off", ...
  std::string doc;
};

namespace knobs_internal {
Status bad_value(std::string_view name, std::string_view value, std::string_view expected);
bool parse_int(std::string_view text, std::int64_t* out);
bool parse_decimal(std::string_view text, double* out);
bool parse_flag(std::string_view text, bool* out);
std::string format_decimal(double v);
// The names among `known` nearest to `name`, for "did you mean".
std::string suggest(std::string_view name, const std::vector<std::string>& known);
}  // namespace knobs_internal

template <typename C>
class Knobs {
 public:
  using Setter = std::function<Status(C&, std::string_view value)>;
  using Getter = std::function<std::string(const C&)>;

  Knobs& duration(std::string name, Duration C::*field, std::string doc, Duration min = 0) {
    const std::string n = name;
    return custom(
        std::move(name), "duration", std::move(doc),
        [field, min, n](C& c, std::string_view v) -> Status {
          Duration d = 0;
          if (!parse_duration(v, &d) || d < min) {
            return knobs_internal::bad_value(
                n, v, "a duration like 250ms or 10s, at least " + format_duration(min));
          }
          c.*field = d;
          return Status::Ok();
        },
        [field](const C& c) { return format_duration(c.*field); });
  }

  template <typename Int>
  Knobs& integer(std::string name, Int C::*field, std::int64_t min, std::int64_t max,
                 std::string doc) {
    const std::string n = name;
    const std::string type = "integer " + std::to_string(min) + ".." + std::to_string(max);
    return custom(
        std::move(name), type, std::move(doc),
        [field, min, max, n, type](C& c, std::string_view v) -> Status {
          std::int64_t x = 0;
          if (!knobs_internal::parse_int(v, &x) || x < min || x > max) {
            return knobs_internal::bad_value(n, v, "an " + type);
          }
          c.*field = static_cast<Int>(x);
          return Status::Ok();
        },
        [field](const C& c) { return std::to_string(c.*field); });
  }

  Knobs& decimal(std::string name, double C::*field, double min, double max, std::string doc) {
    const std::string n = name;
    const std::string type = "decimal " + knobs_internal::format_decimal(min) + ".." +
                             knobs_internal::format_decimal(max);
    return custom(
        std::move(name), type, std::move(doc),
        [field, min, max, n, type](C& c, std::string_view v) -> Status {
          double x = 0;
          if (!knobs_internal::parse_decimal(v, &x) || x < min || x > max) {
            return knobs_internal::bad_value(n, v, "a " + type);
          }
          c.*field = x;
          return Status::Ok();
        },
        [field](const C& c) { return knobs_internal::format_decimal(c.*field); });
  }

  Knobs& flag(std::string name, bool C::*field, std::string doc) {
    const std::string n = name;
    return custom(
        std::move(name), "on|off", std::move(doc),
        [field, n](C& c, std::string_view v) -> Status {
          bool x = false;
          if (!knobs_internal::parse_flag(v, &x))
            return knobs_internal::bad_value(n, v, "on or off");
          c.*field = x;
          return Status::Ok();
        },
        [field](const C& c) { return std::string(c.*field ? "on" : "off"); });
  }

  // A knob with its own parsing (a value that sets several fields, a distribution, ...).
  Knobs& custom(std::string name, std::string type, std::string doc, Setter set, Getter get) {
    order_.push_back(name);
    knobs_[std::move(name)] = Knob{std::move(type), std::move(doc), std::move(set), std::move(get)};
    return *this;
  }

  // The knobs of a part of C (a member of type S), named "<prefix><their name>".
  template <typename S>
  Knobs& include(std::string_view prefix, S C::*member, const Knobs<S>& part) {
    for (const std::string& name : part.names()) {
      const auto& k = part.knob(name);
      const std::string full = std::string(prefix) + name;
      custom(
          full, k.type, k.doc,
          [member, set = k.set, name, full](C& c, std::string_view v) -> Status {
            Status s = set(c.*member, v);
            if (s.ok()) return s;
            // The part names its knob without the prefix: say it as the user wrote it.
            std::string message = s.error().message;
            const std::string short_name = "knob " + name + ":";
            if (message.starts_with(short_name)) {
              message = "knob " + full + ":" + message.substr(short_name.size());
            }
            return Error{s.error().kind, message};
          },
          [member, get = k.get](const C& c) { return get(c.*member); });
    }
    return *this;
  }

  // Sets knob `name` of `config`. Errors (kInvalid): an unknown knob, a bad value.
  Status set(C& config, std::string_view name, std::string_view value) const {
    auto it = knobs_.find(std::string(name));
    if (it == knobs_.end()) {
      return Error{ErrorKind::kInvalid, "unknown knob " + std::string(name) +
                                            knobs_internal::suggest(name, order_) +
                                            " (edgesim knobs lists them all)"};
    }
    return it->second.set(config, value);
  }
  bool has(std::string_view name) const { return knobs_.count(std::string(name)) != 0; }

  // Every knob, in the order added, with its value in `config`.
  std::vector<KnobInfo> list(const C& config) const {
    std::vector<KnobInfo> out;
    for (const std::string& name : order_) {
      const Knob& k = knobs_.at(name);
      out.push_back(KnobInfo{name, k.get(config), k.type, k.doc});
    }
    return out;
  }

  struct Knob {
    std::string type;
    std::string doc;
    Setter set;
    Getter get;
  };
  const std::vector<std::string>& names() const { return order_; }
  const Knob& knob(const std::string& name) const { return knobs_.at(name); }

 private:
  std::map<std::string, Knob> knobs_;
  std::vector<std::string> order_;
};

}  // namespace sim
