#include "sim/text.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>

namespace sim {
namespace {

// The shortest UTF-8 form of a code point (also of a surrogate, which is then ill-formed).
std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return out;
}

bool is_scalar(std::uint32_t cp) { return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff); }

RC_GTEST_PROP(Utf8, AStringOfScalarValuesIsWellFormed, ()) {
  const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(
      rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(0, 0x110000), is_scalar));
  std::string s;
  for (std::uint32_t cp : cps) s += encode(cp);
  RC_ASSERT(is_utf8(s));
}

RC_GTEST_PROP(Utf8, CuttingAMultiByteSequenceShortMakesItIllFormed, ()) {
  const std::uint32_t cp =
      *rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(0x80, 0x110000), is_scalar);
  const std::string whole = encode(cp);
  const std::size_t keep = *rc::gen::inRange<std::size_t>(1, whole.size());
  RC_ASSERT(!is_utf8("a" + whole.substr(0, keep)));
  RC_ASSERT(!is_utf8(whole.substr(0, keep) + "a"));
}

TEST(Utf8, RefusesSurrogatesOverlongFormsAndCodePointsPastTheEnd) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_utf8(encode(0xd800)));  // a surrogate
  EXPECT_FALSE(is_utf8(encode(0xdfff)));
  EXPECT_FALSE(is_utf8("\xc0\xaf"));  // overlong '/'
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));
  EXPECT_FALSE(is_utf8("\xf0\x80\x80\xaf"));
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_utf8("\xff"));
  EXPECT_FALSE(is_utf8("\x80"));  // a lone continuation byte
}

TEST(Text, QuoteEscapesAndDidYouMeanSuggestsCloseNames) {
  EXPECT_EQ(quote("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(did_you_mean("do.lease_duraton", {"do.lease_duration", "kv.write_timeout"}),
            " (did you mean \"do.lease_duration\"?)");
  EXPECT_EQ(did_you_mean("zzz", {"do.lease_duration"}), "");
}

}  // namespace
}  // namespace sim
