#include "props/memo_cache.h"

#include <algorithm>

#include "sim/assert.h"

namespace props {

namespace {
constexpr std::size_t kIndexSlotsMin = 1024;
// Node indices are 32-bit; node 0 is the sentinel.
constexpr std::size_t kEntriesLimit = (std::size_t{1} << 31) - 1;
}  // namespace

MemoCache::MemoCache(std::size_t entries_max) : entries_max_(std::min(entries_max, kEntriesLimit)) {
  SIM_REQUIRE(entries_max >= 1);
  nodes_.resize(1);
  index_.assign(kIndexSlotsMin, Slot{});
  mask_ = kIndexSlotsMin - 1;
}

std::size_t MemoCache::bytes() const {
  return nodes_.capacity() * sizeof(Node) + index_.capacity() * sizeof(Slot);
}

std::size_t MemoCache::find(const MemoKey& key, std::size_t* empty) const {
  std::size_t slot = home(key);
  std::uint32_t tag = tag_of(key);
  while (true) {
    const Slot& s = index_[slot];
    if (s.node == 0) {
      if (empty != nullptr) *empty = slot;
      return npos;
    }
    if (s.tag == tag && nodes_[s.node].key == key) return slot;
    slot = (slot + 1) & mask_;
  }
}

void MemoCache::unlink(std::uint32_t n) {
  Node& node = nodes_[n];
  nodes_[node.prev].next = node.next;
  nodes_[node.next].prev = node.prev;
}

void MemoCache::push_front(std::uint32_t n) {
  Node& node = nodes_[n];
  node.prev = 0;
  node.next = nodes_[0].next;
  nodes_[node.next].prev = n;
  nodes_[0].next = n;
}

bool MemoCache::contains(const MemoKey& key) {
  std::size_t slot = find(key);
  if (slot == npos) return false;
  std::uint32_t n = index_[slot].node;
  if (nodes_[0].next != n) {
    unlink(n);
    push_front(n);
  }
  return true;
}

void MemoCache::erase_slot(std::size_t slot) {
  // Backward-shift deletion: pull later entries of the probe run into the hole when their home
  // slot does not lie cyclically in (hole, their slot].
  std::size_t hole = slot;
  std::size_t j = slot;
  while (true) {
    j = (j + 1) & mask_;
    Slot s = index_[j];
    if (s.node == 0) break;
    std::size_t h = home(nodes_[s.node].key);
    bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (!stays) {
      index_[hole] = s;
      hole = j;
    }
  }
  index_[hole] = Slot{};
}

void MemoCache::grow() {
  std::size_t slots = index_.size() * 2;
  index_.assign(slots, Slot{});
  mask_ = slots - 1;
  for (std::uint32_t n = 1; n < nodes_.size(); ++n) {
    std::size_t slot = home(nodes_[n].key);
    while (index_[slot].node != 0) slot = (slot + 1) & mask_;
    index_[slot] = Slot{n, tag_of(nodes_[n].key)};
  }
}

bool MemoCache::insert(const MemoKey& key) {
  std::size_t empty = npos;
  std::size_t found = find(key, &empty);
  if (found != npos) {
    std::uint32_t n = index_[found].node;
    if (nodes_[0].next != n) {
      unlink(n);
      push_front(n);
    }
    return false;
  }
  std::uint32_t n;
  if (size_ == entries_max_) {
    n = nodes_[0].prev;  // least recently used
    SIM_ASSERT(n != 0);
    std::size_t slot = find(nodes_[n].key);
    SIM_ASSERT(slot != npos);
    erase_slot(slot);
    unlink(n);
    ++evictions_;
    empty = npos;  // the deletion may have moved the run
  } else {
    if ((size_ + 1) * 2 > index_.size()) {
      grow();
      empty = npos;
    }
    n = static_cast<std::uint32_t>(nodes_.size());
    if (nodes_.size() == nodes_.capacity() && nodes_.capacity() * 2 > entries_max_ + 1) {
      nodes_.reserve(entries_max_ + 1);  // not past the bound: doubling could overshoot it
    }
    nodes_.emplace_back();
    ++size_;
  }
  nodes_[n].key = key;
  push_front(n);
  if (empty == npos) {
    empty = home(key);
    while (index_[empty].node != 0) empty = (empty + 1) & mask_;
  }
  index_[empty] = Slot{n, tag_of(key)};
  return true;
}

}  // namespace props
