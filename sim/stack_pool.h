// Fiber stacks, pooled by size. Every stack has a PROT_NONE guard page below it, so an overflow
// faults at once instead of corrupting a neighbour; pooling makes that protection free after the
// first allocation of each stack.
#pragma once

#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <map>
#include <vector>

namespace sim {

class StackPool {
 public:
  explicit StackPool(std::size_t pooled_max = 4096) : pooled_max_(pooled_max) {}
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();

  boost::context::stack_context allocate(std::size_t size);
  void deallocate(boost::context::stack_context& sc);

  std::size_t mapped() const { return mapped_; }

 private:
  std::size_t pooled_max_;
  std::size_t pooled_ = 0;
  std::size_t mapped_ = 0;
  std::map<std::size_t, std::vector<void*>> free_;  // usable size -> stack tops
};

// The allocator handed to boost::context::fiber. Copyable, as Boost requires.
struct PooledStack {
  StackPool* pool;
  std::size_t size;
  boost::context::stack_context* out = nullptr;  // receives the stack's bounds (for ASan)
  boost::context::stack_context allocate() {
    boost::context::stack_context sc = pool->allocate(size);
    if (out != nullptr) *out = sc;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) noexcept { pool->deallocate(sc); }
};

}  // namespace sim
