#include "sim/time.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sim {

std::string format_duration(Duration d) {
  char buf[48];
  const char* sign = d < 0 ? "-" : "";
  std::uint64_t a =
      d < 0 ? static_cast<std::uint64_t>(-(d + 1)) + 1 : static_cast<std::uint64_t>(d);
  if (a >= static_cast<std::uint64_t>(kSecond)) {
    std::snprintf(buf, sizeof buf, "%s%.3fs", sign, static_cast<double>(a) / kSecond);
  } else if (a >= static_cast<std::uint64_t>(kMillisecond)) {
    std::snprintf(buf, sizeof buf, "%s%.3fms", sign, static_cast<double>(a) / kMillisecond);
  } else if (a >= static_cast<std::uint64_t>(kMicrosecond)) {
    std::snprintf(buf, sizeof buf, "%s%.3fus", sign, static_cast<double>(a) / kMicrosecond);
  } else {
    std::snprintf(buf, sizeof buf, "%s%lluns", sign, static_cast<unsigned long long>(a));
  }
  return buf;
}

std::string format_time(Time t) {
  char buf[48];
  const char* sign = t < 0 ? "-" : "";
  std::uint64_t a =
      t < 0 ? static_cast<std::uint64_t>(-(t + 1)) + 1 : static_cast<std::uint64_t>(t);
  std::snprintf(buf, sizeof buf, "%s%llu.%06llus", sign,
                static_cast<unsigned long long>(a / kSecond),
                static_cast<unsigned long long>((a % kSecond) / kMicrosecond));
  return buf;
}

bool parse_duration(std::string_view text, Duration* out) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return false;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i) return false;
  std::string_view unit = text.substr(i);
  double scale;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = kMicrosecond;
  } else if (unit == "ms") {
    scale = kMillisecond;
  } else if (unit == "s") {
    scale = kSecond;
  } else if (unit == "m" || unit == "min") {
    scale = kMinute;
  } else if (unit == "h") {
    scale = kHour;
  } else {
    return false;
  }
  double ns = value * scale;
  if (!std::isfinite(ns) || ns > 9.2e18) return false;
  *out = static_cast<Duration>(std::llround(ns));
  return true;
}

}  // namespace sim
