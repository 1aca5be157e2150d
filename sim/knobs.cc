#include "sim/knobs.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/text.h"

namespace sim::knobs_internal {

Status bad_value(std::string_view name, std::string_view value, std::string_view expected) {
  return Error{ErrorKind::kInvalid, "knob " + std::string(name) + ": bad value " + quote(value) +
                                        " (expected " + std::string(expected) + ")"};
}

bool parse_int(std::string_view text, std::int64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_decimal(std::string_view text, double* out) {
  if (text.empty() || text.size() > 64) return false;
  const std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

bool parse_flag(std::string_view text, bool* out) {
  if (text == "on" || text == "true") {
    *out = true;
  } else if (text == "off" || text == "false") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

std::string format_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string suggest(std::string_view name, const std::vector<std::string>& known) {
  return did_you_mean(name, known);
}

}  // namespace sim::knobs_internal
