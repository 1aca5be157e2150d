// services::CronExpr: one Cron Trigger schedule ("*/5 * * * *", "0 12 * * FRIL"), parsed once and
// asked when it fires next.
//
// What it is for. A Worker's `triggers.crons` run its scheduled() handler in UTC at every matching
// minute. The simulator needs, from virtual time alone, the next minute a schedule fires, and must
// refuse exactly what Cloudflare refuses. Cloudflare parses crons with its Rust crate saffron
// (github.com/cloudflare/saffron, parse.rs and lib.rs); the rules below were read from that source
// and say where we differ on purpose.
//
// Grammar. Exactly five fields separated by runs of spaces or tabs, nothing before the first or
// after the last (saffron's parser is all-consuming):
//   minute 0-59 | hour 0-23 | day-of-month 1-31 | month 1-12 or JAN..DEC | day-of-week 1-7 or
//   SUN..SAT, where 1 = SUN and 7 = SAT. 0 is not a day of the week (saffron rejects it; Unix
//   cron's 0 = Sunday would silently mean something else here).
// A field is `*`, or a comma list of items: N, A-B, A/S (A to the field's maximum), A-B/S, and */S
// (the field's whole range). Names are three letters, any case; L, W and # are upper case only, as
// in saffron. S runs from 1 to max - min (1-59 minutes, 1-23 hours, 1-30 days, 1-11 months, 1-6
// weekdays); saffron bounds steps that way, so `*/60` is an error, not "once an hour". A-B with
// A > B wraps past the maximum (22-2 = 22,23,0,1,2; FRI-MON = FRI,SAT,SUN,MON; with /S every S-th
// value of that sequence). Saffron accepts such ranges and means this (its comments say so), but
// its bit arithmetic also sets the value just before A (59-0 matches minute 58 too) and it
// mis-steps or panics on wrapped steps; we implement the meaning, not those slips.
// `*` is only allowed as the whole field or as `*/S` in the first item; in a later item saffron
// reads `*` as the field's minimum (`5,*` = 5 and 0), and so do we.
// Whole-field forms (saffron allows them only alone, never in a list or range):
//   day-of-month: L (last day), L-N (N days before it, N 1-30), LW (last Monday-Friday), NW (the
//     Monday-Friday nearest day N, not leaving the month: a Saturday 1st moves to Monday the 3rd, a
//     Sunday last day to the Friday before; no match in months without day N), L-NW (that rule
//     applied to day L-N).
//   day-of-week: DL (last D of the month: FRIL, 6L), D#N (the N-th D, N 1-5; #5 fires only in
//     months that have five), and L alone, which saffron reads as Saturday (a plain weekday set).
//
// Matching. Minute, hour and month must match. Day-of-month and day-of-week combine as in Vixie
// cron and saffron: when both are something other than the literal `*`, a day matches if EITHER
// does; when one is `*`, only the other counts. `*/1` and a day-of-week `L` are restrictions, not
// `*` (saffron tests for the literal star), so `0 0 */1 * MON` fires every day.
//
// Schedules that never fire (`0 0 30 2 *`, `0 0 31 4,6,9,11 *`, `0 0 30W 2 *`) are parse errors.
// Saffron parses them and its any() only catches some; Cloudflare then never runs them. A
// scenario holding one is surely a mistake, so we say so at load time.
//
// next_after's bound. It walks days (skipping months the expression excludes), then finds the
// first matching hour and minute of the matching day. The calendar repeats every 400 years
// (146097 days, a whole number of weeks), and whether a day matches depends only on its date and
// weekday, so a walk of 146097 days finds a match if one exists: nullopt means "never", which
// parse has already excluded. Real gaps are far shorter: the longest is about 40 years, for D#5 in
// February alone (`0 0 * 2 MON#5` fires on 2072-02-29 and then 2112-02-29), so shorter horizons
// such as "5 years" would be wrong.
//
// Pure values: no clock, no global state. Minutes count from 1970-01-01T00:00Z, UTC, no leap
// seconds; calendar arithmetic is proleptic Gregorian for any int64 minute.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/result.h"

namespace services {

class CronExpr {
 public:
  // Errors (ErrorKind::kInvalid) name the field and quote the offending token, e.g.
  // `day-of-week field: "FOO" is not a day of the week (1..7 or SUN..SAT, 1 = SUN)`.
  static sim::Result<CronExpr> parse(std::string_view text);

  bool matches(int64_t unix_minute) const;
  // The smallest matching minute strictly after `unix_minute`. nullopt only when |unix_minute| is
  // INT64_MAX / 2 or more (some 8.7e12 years from 1970), where the walk could overflow.
  std::optional<int64_t> next_after(int64_t unix_minute) const;
  const std::string& text() const { return text_; }

 private:
  enum class DomKind : uint8_t { kAny, kSet, kLast, kLastWeekday, kNearestWeekday };
  enum class DowKind : uint8_t { kAny, kSet, kLast, kNth };
  struct Date {
    int64_t year;
    int month, day, days_in_month, weekday;  // weekday 0 = Sunday
  };

  CronExpr() = default;
  static Date date_of(int64_t day);  // day 0 = 1970-01-01
  bool day_matches(const Date& date) const;
  bool dom_matches(const Date& date) const;
  bool dow_matches(const Date& date) const;
  std::optional<int> first_time_from(int minute_of_day) const;

  std::string text_;
  uint64_t minutes_ = 0;  // bit m: minute m
  uint32_t hours_ = 0;
  uint16_t months_ = 0;  // bit m: month m (1-12)
  DomKind dom_kind_ = DomKind::kAny;
  uint32_t dom_days_ = 0;  // kSet: bit d for day d
  int dom_n_ = 0;          // kLast, kLastWeekday: N of L-N (0 for L, LW); kNearestWeekday: N of NW
  DowKind dow_kind_ = DowKind::kAny;
  uint8_t dow_days_ = 0;  // kSet: bit w for weekday w (0 = Sunday)
  int dow_day_ = 0;       // kLast, kNth: the weekday (0 = Sunday)
  int dow_nth_ = 0;       // kNth: N
};

}  // namespace services
