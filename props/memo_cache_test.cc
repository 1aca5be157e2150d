#include "props/memo_cache.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <list>

namespace props {
namespace {

// Against a plain LRU list: same membership after any sequence of lookups and inserts.
RC_GTEST_PROP(MemoCache, BehavesLikeAnLruSet, ()) {
  std::size_t cap = *rc::gen::inRange<std::size_t>(1, 40);
  // Few distinct keys, some sharing their low bits (same home slot), to exercise probing.
  auto ops = *rc::gen::container<std::vector<std::pair<bool, int>>>(
      rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 100)));
  MemoCache cache(cap);
  std::list<int> lru;  // front: most recent
  for (auto [insert, k] : ops) {
    MemoKey key{static_cast<std::uint64_t>(k % 7) << 40 | static_cast<std::uint64_t>(k % 3),
                static_cast<std::uint64_t>(k)};
    auto it = std::find(lru.begin(), lru.end(), k);
    bool present = it != lru.end();
    RC_ASSERT(cache.contains(key) == present);
    if (present) {
      lru.erase(it);
      lru.push_front(k);
    } else if (insert) {
      // (A named bool: RapidCheck's captor would keep a reference to the temporary.)
      const bool inserted = cache.insert(key);
      RC_ASSERT(inserted);
      lru.push_front(k);
      if (lru.size() > cap) lru.pop_back();
    }
    RC_ASSERT(cache.size() == lru.size());
  }
  for (int k = 0; k < 100; ++k) {
    MemoKey key{static_cast<std::uint64_t>(k % 7) << 40 | static_cast<std::uint64_t>(k % 3),
                static_cast<std::uint64_t>(k)};
    bool present = std::find(lru.begin(), lru.end(), k) != lru.end();
    if (!present) RC_ASSERT(!cache.contains(key));
  }
}

TEST(MemoCache, StaysWithinItsBound) {
  MemoCache cache(1000);
  for (std::uint64_t i = 0; i < 100'000; ++i) {
    MemoKey key{i * 0x9e3779b97f4a7c15ULL, i};
    ASSERT_FALSE(cache.contains(key));
    ASSERT_TRUE(cache.insert(key));
    ASSERT_FALSE(cache.insert(key));
  }
  EXPECT_EQ(cache.size(), 1000u);
  EXPECT_EQ(cache.evictions(), 99'000u);
  EXPECT_LT(cache.bytes(), 1000u * 64);
  EXPECT_GT(cache.bytes(), 1000u * 24);
  // The most recent keys are there, the oldest are gone.
  EXPECT_TRUE(cache.contains({99'999 * 0x9e3779b97f4a7c15ULL, 99'999}));
  EXPECT_FALSE(cache.contains({0, 0}));
}

}  // namespace
}  // namespace props
