#include "sim/wire.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace sim {
namespace {

std::string encode(std::uint64_t a, const std::string& s, const std::optional<std::string>& o,
                   const std::optional<Time>& t, double d,
                   const std::vector<std::pair<std::string, std::string>>& p) {
  return WireWriter()
      .u8(7)
      .u32(static_cast<std::uint32_t>(a))
      .u64(a)
      .str(s)
      .opt_str(o)
      .opt_time(t)
      .f64(d)
      .pairs(p)
      .boolean(true)
      .take();
}

RC_GTEST_PROP(Wire, WhatIsWrittenReadsBackAndNothingElse,
              (std::uint64_t a, std::string s, std::string o_text, bool has_o, std::int64_t t,
               bool has_t, std::vector<std::pair<std::string, std::string>> p)) {
  const std::optional<std::string> o = has_o ? std::optional(o_text) : std::nullopt;
  const std::optional<Time> time = has_t ? std::optional<Time>(t) : std::nullopt;
  const double d = static_cast<double>(a) / 3.0;
  const std::string bytes = encode(a, s, o, time, d, p);
  WireReader r(bytes);
  RC_ASSERT(r.u8() == 7);
  RC_ASSERT(r.u32() == static_cast<std::uint32_t>(a));
  RC_ASSERT(r.u64() == a);
  RC_ASSERT(r.str() == s);
  RC_ASSERT(r.opt_str() == o);
  RC_ASSERT(r.opt_time() == time);
  RC_ASSERT(r.f64() == d);
  RC_ASSERT(r.pairs() == p);
  RC_ASSERT(r.boolean());
  RC_ASSERT(r.done());
}

RC_GTEST_PROP(Wire, EveryTruncationFailsWithoutReadingPastTheEnd,
              (std::string s, std::vector<std::pair<std::string, std::string>> p)) {
  const std::string bytes = encode(42, s, s, 5, 1.5, p);
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
  WireReader r(std::string_view(bytes).substr(0, cut));
  (void)r.u8();
  (void)r.u32();
  (void)r.u64();
  (void)r.str();
  (void)r.opt_str();
  (void)r.opt_time();
  (void)r.f64();
  (void)r.pairs();
  (void)r.boolean();
  RC_ASSERT_FALSE(r.done());
}

TEST(Wire, AHostilePairCountIsRefusedBeforeAllocating) {
  const std::string bytes = WireWriter().u64(~std::uint64_t{0}).take();
  WireReader r(bytes);
  EXPECT_TRUE(r.pairs().empty());
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace sim
