// MemoCache: the bounded set of search configurations known to fail (internal to props/).
//
// The linearizability search memoizes (set of linearized operations, model state) pairs as
// 128-bit fingerprints. The set holds at most `entries_max` keys; inserting into a full set
// evicts the least recently used key (exact LRU), so memory stays bounded whatever the history.
// Forgetting a key only costs time (the search may revisit a configuration), never soundness.
//
// Layout: nodes in one vector, linked in recency order through 32-bit indices (node 0 is the
// list's sentinel), found through an open-addressing index (linear probing, load <= 1/2,
// backward-shift deletion) whose slots also hold 32 bits of the key, so a probe that misses
// rarely touches a node. About 40 bytes per key. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace props {

struct MemoKey {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  bool operator==(const MemoKey&) const = default;
};

class MemoCache {
 public:
  // REQUIRES: entries_max >= 1
  explicit MemoCache(std::size_t entries_max);

  // True if `key` is present; it becomes the most recently used.
  bool contains(const MemoKey& key);
  // Inserts `key` unless present (one probe). Returns false, marking it most recently used,
  // if it was present. Evicts the least recently used key when full.
  bool insert(const MemoKey& key);

  std::size_t size() const { return size_; }
  std::size_t entries_max() const { return entries_max_; }
  std::uint64_t evictions() const { return evictions_; }
  // Bytes held by the tables (what the bound is about).
  std::size_t bytes() const;

 private:
  struct Node {
    MemoKey key;
    std::uint32_t prev = 0;
    std::uint32_t next = 0;
  };

  struct Slot {
    std::uint32_t node = 0;  // 0: empty
    std::uint32_t tag = 0;   // the high half of key.b
  };
  static std::uint32_t tag_of(const MemoKey& key) {
    return static_cast<std::uint32_t>(key.b >> 32);
  }
  // Slot of `key` in index_, or npos; `*empty` (if not null) receives the first empty slot of
  // its probe run when the key is absent.
  std::size_t find(const MemoKey& key, std::size_t* empty = nullptr) const;
  void unlink(std::uint32_t n);
  void push_front(std::uint32_t n);
  void erase_slot(std::size_t slot);
  void grow();
  std::size_t home(const MemoKey& key) const { return static_cast<std::size_t>(key.a) & mask_; }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::size_t entries_max_;
  std::size_t size_ = 0;
  std::uint64_t evictions_ = 0;
  std::vector<Node> nodes_;  // nodes_[0]: sentinel; next = most recent
  std::vector<Slot> index_;
  std::size_t mask_ = 0;
};

}  // namespace props
