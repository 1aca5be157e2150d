#include "platform/services/cron/cron_expr.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace services {
namespace {

// A naive calendar: loops over years and months from 1970, no closed forms, so it shares nothing
// with the production arithmetic.
bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int year_len(int64_t y) { return leap(y) ? 366 : 365; }
int month_len(int64_t y, int m) {
  switch (m) {
    case 2:
      return leap(y) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    default:
      return 31;
  }
}

struct Civil {
  int64_t y;
  int m, d, h, mi, wd;  // wd 0 = Sunday
};

Civil naive_civil(int64_t minute) {
  int64_t days = minute / 1440, rem = minute % 1440;
  if (rem < 0) rem += 1440, --days;
  const int wd = static_cast<int>(((days - 3) % 7 + 7) % 7);  // 1970-01-04 was a Sunday
  int64_t y = 1970;
  while (days < 0) days += year_len(--y);
  while (days >= year_len(y)) days -= year_len(y++);
  int m = 1;
  while (days >= month_len(y, m)) days -= month_len(y, m++);
  return Civil{
      y, m, static_cast<int>(days) + 1, static_cast<int>(rem / 60), static_cast<int>(rem % 60), wd};
}

int64_t at(int64_t y, int m, int d, int h = 0, int mi = 0) {
  int64_t days = d - 1;
  for (int64_t yy = 1970; yy < y; ++yy) days += year_len(yy);
  for (int64_t yy = y; yy < 1970; ++yy) days -= year_len(yy);
  for (int mm = 1; mm < m; ++mm) days += month_len(y, mm);
  return days * 1440 + h * 60 + mi;
}

std::string show(int64_t minute) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  const Civil c = naive_civil(minute);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d %s", static_cast<long long>(c.y), c.m,
                c.d, c.h, c.mi, kDays[c.wd]);
  return buf;
}

// An expression as the generator builds it; the naive matcher reads this, never the text.
struct Item {
  bool star = false;  // `*` where a value would be
  int a = 0;
  std::optional<int> b;  // A-B
  int step = 0;          // /S
};
enum class Kind { kStar, kList, kLast, kLastWeekday, kNearest, kDowLast, kDowNth, kDowL };
struct FieldSpec {
  Kind kind = Kind::kStar;
  std::vector<Item> items;
  int n = 0;    // L-N offset, NW day, D#N's N
  int day = 0;  // DL, D#N: 1..7
};
struct Spec {
  FieldSpec f[5];  // minute hour dom month dow
};
constexpr int kLo[] = {0, 0, 1, 1, 1};
constexpr int kHi[] = {59, 23, 31, 12, 7};

bool item_has(const Item& it, int lo, int hi, int v) {
  const int start = it.star ? lo : it.a;
  if (!it.b && it.step == 0) return v == start;
  const int end = it.b ? *it.b : hi;
  const int step = it.step == 0 ? 1 : it.step;
  for (int k = 0, x = start;; ++k, x = x == hi ? lo : x + 1) {
    if (k % step == 0 && x == v) return true;
    if (x == end) return false;
  }
}

bool list_has(const FieldSpec& f, int field, int v) {
  if (f.kind == Kind::kStar) return true;
  for (const Item& it : f.items) {
    if (item_has(it, kLo[field], kHi[field], v)) return true;
  }
  return false;
}

// The Monday-Friday day of the month closest to `target`, by search.
int nearest_weekday(int target, int dim, int first_wd) {
  int best = -1;
  for (int e = 1; e <= dim; ++e) {
    const int wd = (first_wd + e - 1) % 7;
    if (wd == 0 || wd == 6) continue;
    if (best < 0 || std::abs(e - target) < std::abs(best - target)) best = e;
  }
  return best;
}

bool naive_day(const Spec& s, int64_t y, int m, int d, int wd) {
  if (!list_has(s.f[3], 3, m)) return false;
  const int dim = month_len(y, m);
  const int first_wd = ((wd - (d - 1)) % 7 + 7) % 7;
  const FieldSpec& dom = s.f[2];
  const FieldSpec& dow = s.f[4];
  bool dom_ok = false, dow_ok = false;
  switch (dom.kind) {
    case Kind::kLast:
      dom_ok = d == dim - dom.n;
      break;
    case Kind::kLastWeekday:
      dom_ok = dim - dom.n >= 1 && d == nearest_weekday(dim - dom.n, dim, first_wd);
      break;
    case Kind::kNearest:
      dom_ok = dom.n <= dim && d == nearest_weekday(dom.n, dim, first_wd);
      break;
    default:
      dom_ok = list_has(dom, 2, d);
  }
  switch (dow.kind) {
    case Kind::kDowL:
      dow_ok = wd == 6;
      break;
    case Kind::kDowLast:
      dow_ok = wd + 1 == dow.day;
      for (int e = d + 1; e <= dim; ++e) dow_ok = dow_ok && (first_wd + e - 1) % 7 != wd;
      break;
    case Kind::kDowNth: {
      int count = 0;
      for (int e = 1; e <= d; ++e) count += (first_wd + e - 1) % 7 == wd;
      dow_ok = wd + 1 == dow.day && count == dow.n;
      break;
    }
    default:
      dow_ok = list_has(dow, 4, wd + 1);
  }
  if (dom.kind == Kind::kStar) return dow_ok;
  if (dow.kind == Kind::kStar) return dom_ok;
  return dom_ok || dow_ok;
}

bool naive_matches(const Spec& s, int64_t minute) {
  const Civil c = naive_civil(minute);
  return list_has(s.f[0], 0, c.mi) && list_has(s.f[1], 1, c.h) && naive_day(s, c.y, c.m, c.d, c.wd);
}

// Over one whole 400-year cycle (2000-01-01 was a Saturday).
bool naive_ever_fires(const Spec& s) {
  int wd = 6;
  for (int64_t y = 2000; y < 2400; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= month_len(y, m); ++d, wd = (wd + 1) % 7) {
        if (naive_day(s, y, m, d, wd)) return true;
      }
    }
  }
  return false;
}

// --- Generating expressions: names in any case, ranges (wrapped too), steps, lists, L, W, #.

// Uniform in [lo, hi): plain inRange shrinks its range with RapidCheck's size, which would keep
// most cases near 1970 and away from the rare forms.
template <typename T>
T pick(T lo, T hi) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}
bool coin() { return pick(0, 2) == 1; }

std::string value_text(int field, int v) {
  static const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  if ((field == 3 || field == 4) && coin()) {
    std::string name = field == 3 ? kMonths[v - 1] : kDays[v - 1];
    for (char& c : name) {
      if (pick(0, 3) == 0) c = static_cast<char>(c + 32);
    }
    return name;
  }
  return std::to_string(v);
}

Item gen_item(int field, bool first) {
  const int lo = kLo[field], hi = kHi[field];
  const auto val = [&] { return pick(lo, hi + 1); };
  const auto step = [&] { return pick(1, hi - lo + 1); };
  Item it;
  switch (pick(0, first ? 5 : 7)) {
    case 0:
      it.a = val();
      break;
    case 1:
      it.a = val(), it.b = val();
      break;
    case 2:
      it.a = val(), it.step = step();
      break;
    case 3:
      it.a = val(), it.b = val(), it.step = step();
      break;
    case 4:
      it.star = true, it.step = step();
      break;
    case 5:
      it.star = true;  // a later `*` is the minimum (saffron)
      break;
    default:
      it.star = true, it.b = val();
  }
  return it;
}

// `forms`: only the day fields' whole-field forms (L, LW, L-N, L-NW, NW, L, DL, D#N).
FieldSpec gen_field(int field, bool forms = false) {
  FieldSpec f;
  const bool days = field == 2 || field == 4;
  const int kind = forms ? pick(3, 6) : pick(0, days ? 6 : 3);
  if (kind == 0) return f;
  if (kind <= 2) {
    f.kind = Kind::kList;
    const int count = pick(1, 4);
    for (int i = 0; i < count; ++i) f.items.push_back(gen_item(field, i == 0));
  } else if (field == 2) {
    f.kind = kind == 3 ? Kind::kLast : kind == 4 ? Kind::kLastWeekday : Kind::kNearest;
    // W is about month edges: bias N toward them.
    constexpr int kEdges[] = {0, 1, 2, 28, 29, 30, 31};
    const int edge = kEdges[pick(0, 7)];
    f.n = kind == 5 ? (edge != 0 ? edge : pick(1, 32)) : (coin() ? 0 : pick(1, 31));
  } else {
    f.kind = kind == 3 ? Kind::kDowL : kind == 4 ? Kind::kDowLast : Kind::kDowNth;
    f.day = pick(1, 8);
    f.n = pick(1, 6);
  }
  return f;
}

std::string render(const FieldSpec& f, int field) {
  switch (f.kind) {
    case Kind::kStar:
      return "*";
    case Kind::kLast:
      return f.n == 0 ? "L" : "L-" + std::to_string(f.n);
    case Kind::kLastWeekday:
      return f.n == 0 ? "LW" : "L-" + std::to_string(f.n) + "W";
    case Kind::kNearest:
      return std::to_string(f.n) + "W";
    case Kind::kDowL:
      return "L";
    case Kind::kDowLast:
      return value_text(4, f.day) + "L";
    case Kind::kDowNth:
      return value_text(4, f.day) + "#" + std::to_string(f.n);
    case Kind::kList:
      break;
  }
  std::string out;
  for (const Item& it : f.items) {
    if (!out.empty()) out += ",";
    out += it.star ? "*" : value_text(field, it.a);
    if (it.b) out += "-" + value_text(field, *it.b);
    if (it.step != 0) out += "/" + std::to_string(it.step);
  }
  return out;
}

// `day_forms`: the day-of-month is an L or W form, the day-of-week `*` or any form, so that the
// rare days those forms pick (a Saturday 1st for 1W) come up often.
Spec gen_spec(std::string* text, bool day_forms) {
  Spec s;
  text->clear();
  for (int i = 0; i < 5; ++i) {
    s.f[i] = !day_forms || (i != 2 && i != 4) ? gen_field(i)
             : i == 2                         ? gen_field(i, true)
             : coin()                         ? FieldSpec{}
                                              : gen_field(i, coin());
    *text += (i == 0 ? "" : coin() ? " " : " \t ") + render(s.f[i], i);
  }
  return s;
}

const int64_t kFrom = at(1970, 1, 1);
const int64_t kTo = at(2100, 1, 1);

void check_next_after(bool day_forms) {
  std::string text;
  const Spec spec = gen_spec(&text, day_forms);
  RC_LOG() << "cron: " << text << "\n";
  const sim::Result<CronExpr> parsed = CronExpr::parse(text);
  if (!parsed.ok()) {
    RC_LOG() << parsed.error().message << "\n";
    RC_ASSERT(parsed.error().message.find("never fires") != std::string::npos);
    RC_ASSERT(!naive_ever_fires(spec));
    return;
  }
  // A chain of firings, so that rare days (a Saturday 1st for 1W) come up.
  int64_t t = pick(kFrom, kTo);
  for (int i = 0; i < 8; ++i) {
    const std::optional<int64_t> next = parsed.value().next_after(t);
    RC_ASSERT(next.has_value());
    RC_LOG() << "after " << show(t) << ": " << show(*next) << "\n";
    RC_ASSERT(*next > t);
    RC_ASSERT(parsed.value().matches(*next));
    RC_ASSERT(naive_matches(spec, *next));
    // Nothing in between: minute by minute on the first and last day, whole days in the middle
    // (a day that matches has a matching minute, as no minute or hour list is empty).
    const int64_t first_day = t / 1440, last_day = *next / 1440;
    for (int64_t m = t + 1; m < *next && m < (first_day + 1) * 1440; ++m) {
      RC_ASSERT(!naive_matches(spec, m));
    }
    for (int64_t day = first_day + 1; day < last_day; ++day) {
      const Civil c = naive_civil(day * 1440);
      RC_ASSERT(!naive_day(spec, c.y, c.m, c.d, c.wd));
    }
    for (int64_t m = std::max(t + 1, last_day * 1440); m < *next; ++m) {
      RC_ASSERT(!naive_matches(spec, m));
    }
    t = *next;
  }
}

RC_GTEST_PROP(CronExprLaw, NextAfterIsTheFirstMatchingMinute, ()) { check_next_after(false); }
RC_GTEST_PROP(CronExprLaw, NextAfterIsTheFirstMatchingMinuteForDayForms, ()) {
  check_next_after(true);
}

Item one(int v) {
  Item it;
  it.a = v;
  return it;
}

RC_GTEST_PROP(CronExprLaw, RejectedExactlyWhenNoDayEverMatches, ()) {
  // One or two months and late days or day forms, so that impossible dates come up often.
  Spec spec;
  spec.f[3].kind = Kind::kList;
  for (int i = pick(1, 3); i > 0; --i) spec.f[3].items.push_back(one(pick(1, 13)));
  if (coin()) {
    spec.f[2] = gen_field(2, true);
  } else {
    spec.f[2].kind = Kind::kList;
    for (int i = pick(1, 3); i > 0; --i) spec.f[2].items.push_back(one(pick(27, 32)));
  }
  if (pick(0, 4) == 0) spec.f[4] = gen_field(4, true);
  std::string text;
  for (int i = 0; i < 5; ++i) text += (i == 0 ? "" : " ") + render(spec.f[i], i);
  RC_LOG() << "cron: " << text << "\n";
  RC_ASSERT(CronExpr::parse(text).ok() == naive_ever_fires(spec));
}

RC_GTEST_PROP(CronExprLaw, MatchesAgreesWithTheNaiveMatcher, ()) {
  std::string text;
  const Spec spec = gen_spec(&text, coin());
  RC_LOG() << "cron: " << text << "\n";
  const sim::Result<CronExpr> parsed = CronExpr::parse(text);
  RC_PRE(parsed.ok());
  const int64_t t = pick(at(1900, 1, 1), kTo);
  RC_ASSERT(parsed.value().matches(t) == naive_matches(spec, t));
  // Random minutes rarely match a sparse schedule: also look around the next firing.
  const int64_t next = *parsed.value().next_after(t);
  for (int64_t m : {next - 1, next, next + 1}) {
    RC_ASSERT(parsed.value().matches(m) == naive_matches(spec, m));
  }
}

RC_GTEST_PROP(CronExprLaw, GarbageIsAnErrorNamingItsPlaceOrAWorkingSchedule, ()) {
  // Random characters, or a valid expression with a few characters changed.
  const std::string alphabet = "0123456789*/-,#LW? \tMONFRIjanx";
  std::string text;
  if (coin()) {
    for (int i = pick(0, 30); i > 0; --i) text += alphabet[pick<size_t>(0, alphabet.size())];
  } else {
    gen_spec(&text, coin());
    for (int i = pick(1, 4); i > 0; --i) {
      const size_t at = pick<size_t>(0, text.size() + 1);
      const char c = alphabet[pick<size_t>(0, alphabet.size())];
      switch (pick(0, 3)) {
        case 0:
          text.insert(at, 1, c);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = c;
      }
    }
  }
  RC_LOG() << "cron: " << text << "\n";
  const sim::Result<CronExpr> parsed = CronExpr::parse(text);
  if (parsed.ok()) {
    const std::optional<int64_t> next = parsed.value().next_after(0);
    RC_ASSERT(next.has_value() && parsed.value().matches(*next));
    return;
  }
  const std::string& msg = parsed.error().message;
  RC_ASSERT(parsed.error().kind == sim::ErrorKind::kInvalid);
  // Whole-expression problems, or the field at fault.
  bool named = msg.rfind("needs 5 fields", 0) == 0 || msg.rfind("never fires", 0) == 0 ||
               msg.find("whitespace") != std::string::npos;
  for (const char* f : {"minute field: ", "hour field: ", "day-of-month field: ", "month field: ",
                        "day-of-week field: "}) {
    named = named || msg.rfind(f, 0) == 0;
  }
  RC_ASSERT(named);
}

// --- Pinned examples.

CronExpr cron(const std::string& text) {
  sim::Result<CronExpr> r = CronExpr::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

// The next `count` firings after `from`, as "YYYY-MM-DD HH:MM Day".
std::vector<std::string> fires(const std::string& text, int64_t from, int count) {
  const CronExpr c = cron(text);
  std::vector<std::string> out;
  for (int64_t t = from; count-- > 0;) {
    t = *c.next_after(t);
    out.push_back(show(t));
  }
  return out;
}
using V = std::vector<std::string>;

TEST(CronExpr, HourlyFiresOncePerHourForAYear) {
  const CronExpr c = cron("0 * * * *");
  for (auto [year, hours] : {std::pair{2023, 8760}, std::pair{2024, 8784}}) {
    int count = 0;
    for (int64_t t = *c.next_after(at(year, 1, 1) - 1); t < at(year + 1, 1, 1);
         t = *c.next_after(t)) {
      ++count;
    }
    EXPECT_EQ(count, hours) << year;
  }
}

TEST(CronExpr, Examples) {
  EXPECT_EQ(fires("*/15 * * * *", at(2024, 1, 1), 4),
            (V{"2024-01-01 00:15 Mon", "2024-01-01 00:30 Mon", "2024-01-01 00:45 Mon",
               "2024-01-01 01:00 Mon"}));
  EXPECT_EQ(fires("0 9 * * MON-FRI", at(2024, 5, 3, 9), 2),
            (V{"2024-05-06 09:00 Mon", "2024-05-07 09:00 Tue"}));
  EXPECT_EQ(fires("0 0 L * *", at(2024, 2, 1), 2),
            (V{"2024-02-29 00:00 Thu", "2024-03-31 00:00 Sun"}));
  EXPECT_EQ(fires("0 0 L * *", at(2023, 2, 1), 1), (V{"2023-02-28 00:00 Tue"}));
  EXPECT_EQ(fires("0 0 L-3 * *", at(2023, 2, 1), 1), (V{"2023-02-25 00:00 Sat"}));
  // The last day is a Sunday (March 2024), a Saturday (September 2023).
  EXPECT_EQ(fires("0 0 LW * *", at(2024, 3, 1), 1), (V{"2024-03-29 00:00 Fri"}));
  EXPECT_EQ(fires("0 0 LW * *", at(2023, 9, 1), 1), (V{"2023-09-29 00:00 Fri"}));
  // L-1W: the day before the last is a Saturday (June 2024), a Sunday (September 2024).
  EXPECT_EQ(fires("0 0 L-1W * *", at(2024, 6, 1), 1), (V{"2024-06-28 00:00 Fri"}));
  EXPECT_EQ(fires("0 0 L-1W * *", at(2024, 9, 1), 1), (V{"2024-09-30 00:00 Mon"}));
  // The 15th on a Saturday (April 2023), on a Sunday (October 2023).
  EXPECT_EQ(fires("0 0 15W * *", at(2023, 4, 1), 1), (V{"2023-04-14 00:00 Fri"}));
  EXPECT_EQ(fires("0 0 15W * *", at(2023, 10, 1), 1), (V{"2023-10-16 00:00 Mon"}));
  // April 1st 2023 is a Saturday: not back into March, forward to Monday the 3rd.
  EXPECT_EQ(fires("0 0 1W * *", at(2023, 3, 15), 1), (V{"2023-04-03 00:00 Mon"}));
  // March 31st 2024 is a Sunday: not into April, back to Friday the 29th; no 31st in April.
  EXPECT_EQ(fires("0 0 31W * *", at(2024, 3, 1), 2),
            (V{"2024-03-29 00:00 Fri", "2024-05-31 00:00 Fri"}));
  EXPECT_EQ(fires("0 12 * * 6L", at(2024, 5, 1), 2),
            (V{"2024-05-31 12:00 Fri", "2024-06-28 12:00 Fri"}));
  EXPECT_EQ(fires("0 12 * * FRIL", at(2024, 5, 1), 2), fires("0 12 * * 6L", at(2024, 5, 1), 2));
  EXPECT_EQ(fires("0 12 * * 2#1", at(2024, 6, 15), 2),
            (V{"2024-07-01 12:00 Mon", "2024-08-05 12:00 Mon"}));
  // Both day fields restricted: either one.
  EXPECT_EQ(fires("0 0 1 * MON", at(2024, 5, 1), 6),
            (V{"2024-05-06 00:00 Mon", "2024-05-13 00:00 Mon", "2024-05-20 00:00 Mon",
               "2024-05-27 00:00 Mon", "2024-06-01 00:00 Sat", "2024-06-03 00:00 Mon"}));
  EXPECT_EQ(fires("59 23 31 12 *", at(2024, 1, 1), 2),
            (V{"2024-12-31 23:59 Tue", "2025-12-31 23:59 Wed"}));
  EXPECT_EQ(fires("0 0 * * 1", at(2024, 6, 1), 1), (V{"2024-06-02 00:00 Sun"}));  // 1 = SUN
  EXPECT_EQ(fires("0 0 * * 7", at(2024, 6, 1), 1), (V{"2024-06-08 00:00 Sat"}));  // 7 = SAT
}

TEST(CronExpr, SaffronReadings) {
  // Names in any case.
  EXPECT_EQ(fires("0 0 1 jan,Feb,mAr *", at(2024, 1, 1), 3),
            fires("0 0 1 1-3 *", at(2024, 1, 1), 3));
  EXPECT_EQ(fires("0 0 * * sun-Sat", at(2024, 1, 1), 3), fires("0 0 * * *", at(2024, 1, 1), 3));
  // Wrapped ranges: 22-2 is 22,23,0,1,2; FRI-MON is FRI,SAT,SUN,MON; steps walk the wrap.
  EXPECT_EQ(fires("0 22-2 * * *", at(2024, 1, 1), 5),
            (V{"2024-01-01 01:00 Mon", "2024-01-01 02:00 Mon", "2024-01-01 22:00 Mon",
               "2024-01-01 23:00 Mon", "2024-01-02 00:00 Tue"}));
  EXPECT_EQ(fires("0 0 * * FRI-MON", at(2024, 1, 1), 4),
            (V{"2024-01-05 00:00 Fri", "2024-01-06 00:00 Sat", "2024-01-07 00:00 Sun",
               "2024-01-08 00:00 Mon"}));
  EXPECT_EQ(fires("0 22-3/2 * * *", at(2024, 1, 1), 3),
            (V{"2024-01-01 02:00 Mon", "2024-01-01 22:00 Mon", "2024-01-02 00:00 Tue"}));
  // A day-of-week L alone is Saturday; `*/1` restricts, so with a day-of-week it is OR'ed.
  EXPECT_EQ(fires("0 0 * * L", at(2024, 6, 1), 1), (V{"2024-06-08 00:00 Sat"}));
  EXPECT_EQ(fires("0 0 */1 * MON", at(2024, 6, 1), 2),
            (V{"2024-06-02 00:00 Sun", "2024-06-03 00:00 Mon"}));
  // A later `*` in a list is the field's minimum.
  EXPECT_EQ(fires("30,* * * * *", at(2024, 1, 1), 2),
            (V{"2024-01-01 00:30 Mon", "2024-01-01 01:00 Mon"}));
  // The fifth Monday of a February: 40 years apart around 2100, which is not a leap year.
  EXPECT_EQ(fires("0 0 * 2 MON#5", at(2072, 3, 1), 1), (V{"2112-02-29 00:00 Mon"}));
  // Before 1970 too.
  EXPECT_EQ(fires("0 0 29 2 *", at(1896, 3, 1), 1), (V{"1904-02-29 00:00 Mon"}));
  EXPECT_TRUE(cron("0 0 29 2 *").matches(at(1904, 2, 29)));
  EXPECT_EQ(cron("*/5  *\t* * *").text(), "*/5  *\t* * *");
}

TEST(CronExpr, ExtremeMinutesAreSafe) {
  const CronExpr c = cron("0 0 1 1 *");
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(c.matches(kMin));
  EXPECT_FALSE(c.matches(kMax));
  EXPECT_FALSE(c.next_after(kMin).has_value());
  EXPECT_FALSE(c.next_after(kMax).has_value());
  const std::optional<int64_t> far = c.next_after(-kMax / 2);
  ASSERT_TRUE(far.has_value());
  EXPECT_TRUE(c.matches(*far));
  EXPECT_TRUE(c.next_after(kMax / 2 - 1000 * 525960).has_value());
}

TEST(CronExpr, InvalidInputsNameTheFieldAndToken) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "needs 5 fields"},
      {"* * * *", "needs 5 fields (minute hour day-of-month month day-of-week), has 4"},
      {"* * * * * *", "has 6"},
      {" * * * * *", "starts with whitespace"},
      {"* * * * * ", "ends with whitespace"},
      {"60 * * * *", "minute field: \"60\" is out of range (0..59)"},
      {"* 24 * * *", "hour field: \"24\" is out of range (0..23)"},
      {"* * 0 * *", "day-of-month field: \"0\" is out of range (1..31)"},
      {"* * 32 * *", "day-of-month field: \"32\""},
      {"* * * 13 *", "month field: \"13\" is out of range (1..12 or JAN..DEC)"},
      {"* * * FOO *", "month field: \"FOO\" is not a month"},
      {"* * * JANUARY *", "month field: \"JANUARY\""},
      {"* * * * 0", "day-of-week field: \"0\" is out of range (1..7 or SUN..SAT, 1 = SUN)"},
      {"* * * * 8", "day-of-week field: \"8\""},
      {"* * * * FOO", "day-of-week field: \"FOO\" is not a day of the week"},
      {"*/0 * * * *", "minute field: step \"0\" in \"*/0\" is not 1..59"},
      {"*/60 * * * *", "minute field: step \"60\""},
      {"* */24 * * *", "hour field: step \"24\""},
      {"* * * * */7", "day-of-week field: step \"7\""},
      {"1,,2 * * * *", "minute field: empty item in the list \"1,,2\""},
      {"1, * * * *", "minute field: empty item"},
      {"*,5 * * * *", "minute field: \"*\""},
      {"*-5 * * * *", "minute field: \"*-5\""},
      {"a-b * * * *", "minute field: \"a\" is not a number"},
      {"1-2-3 * * * *", "minute field: \"2-3\""},
      {"5/x * * * *", "minute field: step \"x\""},
      {"* * ? * *", "day-of-month field: \"?\""},
      {"* * 1,L * *", "day-of-month field: \"L\": L, W and # forms must be the whole field"},
      {"* * L-31 * *", "day-of-month field: offset in \"L-31\" is not 1..30"},
      {"* * L-0 * *", "day-of-month field: offset"},
      {"* * LX * *", "day-of-month field: \"LX\" is not L, LW, L-N or L-NW"},
      {"* * 0W * *", "day-of-month field: day in \"0W\" is not 1..31"},
      {"* * lw * *", "day-of-month field: \"lw\""},
      {"* * * * 1#6", "day-of-week field: the N of \"1#6\" is not 1..5"},
      {"* * * * 1#0", "day-of-week field: the N of \"1#0\""},
      {"* * * * 0L", "day-of-week field: \"0\" is out of range"},
      {"* * * * 2L,3", "day-of-week field: \"2L\": L, W and # forms"},
      {"* * * * fril", "day-of-week field: \"fril\""},
      {"0 0 30 2 *", "never fires"},
      {"0 0 31 4,6,9,11 *", "never fires: no date matches day-of-month \"31\", month \"4,6,9,11\""},
      {"0 0 30W 2 *", "never fires"},
      {"0 0 L-29 2 *", "never fires"},
  };
  for (const auto& [text, want] : cases) {
    const sim::Result<CronExpr> r = CronExpr::parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().kind, sim::ErrorKind::kInvalid);
    EXPECT_NE(r.error().message.find(want), std::string::npos)
        << text << " gave: " << r.error().message;
  }
}

}  // namespace
}  // namespace services
