// Virtual time. A Time is nanoseconds since the run's epoch; a Duration is a signed span of
// nanoseconds. Nothing in sim/ or platform/ may read a host clock: time comes from World::now().
#pragma once

#include <cstdint>
#include <string>

namespace sim {

using Time = std::int64_t;
using Duration = std::int64_t;

inline constexpr Duration kNanosecond = 1;
inline constexpr Duration kMicrosecond = 1'000;
inline constexpr Duration kMillisecond = 1'000'000;
inline constexpr Duration kSecond = 1'000'000'000;
inline constexpr Duration kMinute = 60 * kSecond;
inline constexpr Duration kHour = 60 * kMinute;
inline constexpr Time kTimeMax = INT64_MAX;
// The Unix time (seconds) of virtual time 0: 2026-01-01T00:00:00Z, what Date.now() reads at the
// start of a run and where cron schedules count their minutes from.
inline constexpr std::int64_t kUnixSecondsAtTimeZero = 1767225600;

constexpr Duration micros(double us) { return static_cast<Duration>(us * kMicrosecond); }
constexpr Duration millis(double ms) { return static_cast<Duration>(ms * kMillisecond); }
constexpr Duration seconds(double s) { return static_cast<Duration>(s * kSecond); }

// "12.500s", "3.250ms", "17.000us", "250ns": short, exact enough for humans; traces keep raw
// nanoseconds.
std::string format_duration(Duration d);
// Seconds with microsecond precision: "12.500000s".
std::string format_time(Time t);
// Parses "12.5s", "200ms", "30us", "10ns", "2m", "1h". Returns false on bad input.
bool parse_duration(std::string_view text, Duration* out);

}  // namespace sim
