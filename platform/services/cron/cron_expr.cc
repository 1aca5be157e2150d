#include "platform/services/cron/cron_expr.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <utility>
#include <vector>

#include "sim/text.h"

namespace services {

namespace {

constexpr int64_t kMinutesPerDay = 1440;
constexpr int64_t kCycleDays = 146097;  // 400 Gregorian years: dates and weekdays repeat
// next_after's domain is [-kMaxMinute, kMaxMinute): far enough from the int64 edges that
// day * 1440 plus a whole cycle cannot overflow.
constexpr int64_t kMaxMinute = std::numeric_limits<int64_t>::max() / 2;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in_month(int64_t y, int m) {
  static constexpr std::array<int, 13> kDays = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m];
}

// Hinnant's civil_from_days: eras of 400 years keep the division exact for negative days too.
void civil_from_days(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - (kCycleDays - 1)) / kCycleDays;
  const int64_t doe = z - era * kCycleDays;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

// Where a field's grammar differs: its range, its names (value lo + i), its whole-field forms.
struct Field {
  const char* name;
  int lo, hi;
  const char* const* names;  // hi - lo + 1 of them, or none
  const char* special;       // letters that only whole-field forms use
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
const Field kMinute{"minute", 0, 59, nullptr, ""};
const Field kHour{"hour", 0, 23, nullptr, ""};
const Field kDom{"day-of-month", 1, 31, nullptr, "LW"};
const Field kMonth{"month", 1, 12, kMonthNames, ""};
const Field kDow{"day-of-week", 1, 7, kDayNames, "L#"};

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}
sim::Error bad(const Field& f, const std::string& why) {
  return invalid(std::string(f.name) + " field: " + why);
}

std::string range_text(const Field& f) {
  std::string s = std::to_string(f.lo) + ".." + std::to_string(f.hi);
  if (f.names != nullptr) s += std::string(" or ") + f.names[0] + ".." + f.names[f.hi - f.lo];
  if (&f == &kDow) s += ", 1 = SUN";
  return s;
}

// Digits only, as saffron; nullopt when not a plain number. Long numbers saturate (out of range).
std::optional<int> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min(n * 10 + (c - '0'), 1000);
  }
  return n;
}

bool equals_upper(std::string_view s, const char* name) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (name[i] == '\0' || (s[i] & ~0x20) != name[i]) return false;
  }
  return name[s.size()] == '\0';
}

sim::Result<int> value(const Field& f, std::string_view tok) {
  if (std::optional<int> n = number(tok)) {
    if (*n < f.lo || *n > f.hi)
      return bad(f, sim::quote(tok) + " is out of range (" + range_text(f) + ")");
    return *n;
  }
  for (int i = 0; f.names != nullptr && i <= f.hi - f.lo; ++i) {
    if (equals_upper(tok, f.names[i])) return f.lo + i;
  }
  const char* what = &f == &kMonth ? " is not a month ("
                     : &f == &kDow ? " is not a day of the week ("
                                   : " is not a number (";
  return bad(f, sim::quote(tok) + what + range_text(f) + ")");
}

// `*` or a comma list of N, A-B, A/S, A-B/S, */S, as a bit set over lo..hi.
sim::Result<uint64_t> parse_list(const Field& f, std::string_view text) {
  if (text == "*") return ((uint64_t{1} << (f.hi + 1)) - 1) >> f.lo << f.lo;
  uint64_t bits = 0;
  size_t begin = 0;
  for (int index = 0;; ++index) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string_view item = text.substr(begin, comma - begin);
    if (item.empty()) return bad(f, "empty item in the list " + sim::quote(text));
    if (item.find_first_of(f.special) != std::string_view::npos) {
      return bad(f, sim::quote(item) + ": L, W and # forms must be the whole field (" +
                        sim::quote(text) + ")");
    }
    const size_t slash = item.find('/');
    const std::string_view range = item.substr(0, slash);
    const size_t dash = range.find('-');
    const std::string_view first = range.substr(0, dash);
    int start = f.lo;
    if (first == "*") {
      // Saffron: a first item may be `*` only as `*/S`; later ones read `*` as the minimum.
      if (index == 0 && (dash != std::string_view::npos || slash == std::string_view::npos)) {
        return bad(f, sim::quote(item) + ": `*` stands alone or as */S (" + sim::quote(text) + ")");
      }
    } else {
      sim::Result<int> v = value(f, first);
      if (!v.ok()) return v.error();
      start = *v;
    }
    int end = slash == std::string_view::npos ? start : f.hi;
    if (dash != std::string_view::npos) {
      sim::Result<int> v = value(f, range.substr(dash + 1));
      if (!v.ok()) return v.error();
      end = *v;
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view s = item.substr(slash + 1);
      const std::optional<int> n = number(s);
      if (!n || *n < 1 || *n > f.hi - f.lo) {
        return bad(f, "step " + sim::quote(s) + " in " + sim::quote(item) + " is not 1.." +
                          std::to_string(f.hi - f.lo));
      }
      step = *n;
    }
    // Wrapped ranges (start > end) run on past the maximum back to the minimum.
    const int width = f.hi - f.lo + 1;
    const int span = (end - start + width) % width;
    for (int k = 0; k <= span; k += step)
      bits |= uint64_t{1} << (f.lo + (start - f.lo + k) % width);
    if (comma == text.size()) return bits;
    begin = comma + 1;
  }
}

}  // namespace

sim::Result<CronExpr> CronExpr::parse(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  // Saffron's parser is all-consuming: whitespace only between fields.
  if (!text.empty() && space(text.front())) {
    return invalid("starts with whitespace");
  }
  if (!text.empty() && space(text.back())) {
    return invalid("ends with whitespace");
  }
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && !space(text[j])) ++j;
    fields.push_back(text.substr(i, j - i));
    while (j < text.size() && space(text[j])) ++j;
    i = j;
  }
  if (fields.size() != 5) {
    return invalid("needs 5 fields (minute hour day-of-month month day-of-week), has " +
                   std::to_string(fields.size()));
  }
  CronExpr e;
  e.text_ = std::string(text);
  sim::Result<uint64_t> minutes = parse_list(kMinute, fields[0]);
  if (!minutes.ok()) return minutes.error();
  e.minutes_ = *minutes;
  sim::Result<uint64_t> hours = parse_list(kHour, fields[1]);
  if (!hours.ok()) return hours.error();
  e.hours_ = static_cast<uint32_t>(*hours);

  const std::string_view dom = fields[2];
  if (dom == "*") {
    e.dom_kind_ = DomKind::kAny;
  } else if (dom[0] == 'L') {
    // L, LW, L-N, L-NW.
    const bool weekday = dom.size() > 1 && dom.back() == 'W';
    const std::string_view rest = dom.substr(1, dom.size() - 1 - weekday);
    e.dom_kind_ = weekday ? DomKind::kLastWeekday : DomKind::kLast;
    if (!rest.empty()) {
      const std::optional<int> n = rest[0] == '-' ? number(rest.substr(1)) : std::nullopt;
      if (!n) return bad(kDom, sim::quote(dom) + " is not L, LW, L-N or L-NW");
      if (*n < 1 || *n > 30) return bad(kDom, "offset in " + sim::quote(dom) + " is not 1..30");
      e.dom_n_ = *n;
    }
  } else if (dom.back() == 'W' && number(dom.substr(0, dom.size() - 1))) {
    const int n = *number(dom.substr(0, dom.size() - 1));
    if (n < 1 || n > 31) return bad(kDom, "day in " + sim::quote(dom) + " is not 1..31");
    e.dom_kind_ = DomKind::kNearestWeekday;
    e.dom_n_ = n;
  } else {
    sim::Result<uint64_t> days = parse_list(kDom, dom);
    if (!days.ok()) return days.error();
    e.dom_kind_ = DomKind::kSet;
    e.dom_days_ = static_cast<uint32_t>(*days);
  }
  sim::Result<uint64_t> months = parse_list(kMonth, fields[3]);
  if (!months.ok()) return months.error();
  e.months_ = static_cast<uint16_t>(*months);

  const std::string_view dow = fields[4];
  const size_t hash = dow.find('#');
  if (dow == "*") {
    e.dow_kind_ = DowKind::kAny;
  } else if (dow == "L") {
    e.dow_kind_ = DowKind::kSet;  // saffron: Saturday, a plain restriction
    e.dow_days_ = 1 << 6;
  } else if (dow.find(',') == std::string_view::npos &&
             (hash != std::string_view::npos || dow.back() == 'L')) {
    sim::Result<int> day =
        value(kDow, dow.substr(0, hash != std::string_view::npos ? hash : dow.size() - 1));
    if (!day.ok()) return day.error();
    e.dow_day_ = *day - 1;
    e.dow_kind_ = DowKind::kLast;
    if (hash != std::string_view::npos) {
      const std::optional<int> n = number(dow.substr(hash + 1));
      if (!n || *n < 1 || *n > 5) return bad(kDow, "the N of " + sim::quote(dow) + " is not 1..5");
      e.dow_kind_ = DowKind::kNth;
      e.dow_nth_ = *n;
    }
  } else {
    sim::Result<uint64_t> days = parse_list(kDow, dow);  // bit 1 = SUN
    if (!days.ok()) return days.error();
    e.dow_kind_ = DowKind::kSet;
    e.dow_days_ = static_cast<uint8_t>(*days >> 1);
  }

  // From 1970 the walk covers a whole 400-year cycle, so no answer means no day ever matches.
  if (!e.next_after(-1)) {
    return invalid("never fires: no date matches day-of-month " + sim::quote(dom) + ", month " +
                   sim::quote(fields[3]) + " and day-of-week " + sim::quote(dow) + " together");
  }
  return e;
}

bool CronExpr::dom_matches(const Date& c) const {
  int target = dom_n_;
  switch (dom_kind_) {
    case DomKind::kAny:
      return true;
    case DomKind::kSet:
      return (dom_days_ >> c.day & 1) != 0;
    case DomKind::kLast:
      return c.day + dom_n_ == c.days_in_month;
    case DomKind::kLastWeekday:
      target = c.days_in_month - dom_n_;
      break;
    case DomKind::kNearestWeekday:
      break;
  }
  if (target < 1 || target > c.days_in_month) return false;
  const int target_weekday = ((c.weekday + target - c.day) % 7 + 7) % 7;
  int want = target;
  if (target_weekday == 6) want = target == 1 ? 3 : target - 1;                         // Saturday
  if (target_weekday == 0) want = target == c.days_in_month ? target - 2 : target + 1;  // Sunday
  return c.day == want;
}

bool CronExpr::dow_matches(const Date& c) const {
  switch (dow_kind_) {
    case DowKind::kAny:
      return true;
    case DowKind::kSet:
      return (dow_days_ >> c.weekday & 1) != 0;
    case DowKind::kLast:
      return c.weekday == dow_day_ && c.day + 7 > c.days_in_month;
    case DowKind::kNth:
      return c.weekday == dow_day_ && (c.day - 1) / 7 + 1 == dow_nth_;
  }
  return false;
}

bool CronExpr::day_matches(const Date& c) const {
  if ((months_ >> c.month & 1) == 0) return false;
  if (dom_kind_ == DomKind::kAny) return dow_matches(c);
  if (dow_kind_ == DowKind::kAny) return dom_matches(c);
  return dom_matches(c) || dow_matches(c);
}

// The first matching minute of the day at or after `minute_of_day`.
std::optional<int> CronExpr::first_time_from(int minute_of_day) const {
  const int h = minute_of_day / 60, m = minute_of_day % 60;
  if ((hours_ >> h & 1) != 0 && (minutes_ >> m) != 0) {
    return h * 60 + std::countr_zero(minutes_ >> m << m);
  }
  const uint32_t later = hours_ >> (h + 1) << (h + 1);
  if (later == 0) return std::nullopt;
  return std::countr_zero(later) * 60 + std::countr_zero(minutes_);
}

CronExpr::Date CronExpr::date_of(int64_t day) {
  Date c;
  civil_from_days(day, &c.year, &c.month, &c.day);
  c.days_in_month = days_in_month(c.year, c.month);
  c.weekday = static_cast<int>(day + 4 - floor_div(day + 4, 7) * 7);  // 1970-01-01: Thursday
  return c;
}

bool CronExpr::matches(int64_t unix_minute) const {
  const int64_t t = (unix_minute % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
  if ((hours_ >> (t / 60) & 1) == 0 || (minutes_ >> (t % 60) & 1) == 0) return false;
  return day_matches(date_of(floor_div(unix_minute, kMinutesPerDay)));
}

std::optional<int64_t> CronExpr::next_after(int64_t unix_minute) const {
  if (unix_minute < -kMaxMinute || unix_minute >= kMaxMinute) return std::nullopt;
  const int64_t from = unix_minute + 1;
  int64_t day = floor_div(from, kMinutesPerDay);
  Date c = date_of(day);
  if (day_matches(c)) {
    if (std::optional<int> t = first_time_from(static_cast<int>(from - day * kMinutesPerDay))) {
      return day * kMinutesPerDay + *t;
    }
  }
  const int64_t last = day + kCycleDays;
  int advance = 1;
  while (true) {
    // Move `advance` days forward, never past the end of the month.
    day += advance;
    c.weekday = (c.weekday + advance) % 7;
    c.day += advance;
    if (c.day > c.days_in_month) {
      c.day = 1;
      if (++c.month > 12) {
        c.month = 1;
        ++c.year;
      }
      c.days_in_month = days_in_month(c.year, c.month);
    }
    if (day > last) return std::nullopt;
    if ((months_ >> c.month & 1) == 0) {
      advance = c.days_in_month - c.day + 1;  // skip the rest of an excluded month
      continue;
    }
    if (day_matches(c)) return day * kMinutesPerDay + *first_time_from(0);
    advance = 1;
  }
}

}  // namespace services
