#include "sim/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include "sim/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace sim {

namespace {
// A stack handed out again (from the pool, or mapped where an old one was) may still carry the
// ASan poison of frames that never returned (a fiber dropped while suspended): clear it, or the
// next task trips over stale redzones.
void unpoison(void* top, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
  __asan_unpoison_memory_region(static_cast<char*>(top) - size, size);
#else
  (void)top;
  (void)size;
#endif
}

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}
std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
}  // namespace

StackPool::~StackPool() {
  const std::size_t page = page_size();
  for (auto& [size, tops] : free_) {
    for (void* top : tops) {
      char* base = static_cast<char*>(top) - size - page;
      ::munmap(base, size + page);
    }
  }
}

boost::context::stack_context StackPool::allocate(std::size_t size) {
  const std::size_t page = page_size();
  size = round_up(size < 4 * page ? 4 * page : size, page);
  boost::context::stack_context sc;
  sc.size = size;
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    sc.sp = it->second.back();
    it->second.pop_back();
    --pooled_;
    unpoison(sc.sp, size);
    return sc;
  }
  void* base =
      ::mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  // The guard page sits at the low end: stacks grow down.
  SIM_ASSERT(::mprotect(base, page, PROT_NONE) == 0);
  mapped_ += size + page;
  sc.sp = static_cast<char*>(base) + page + size;
  unpoison(sc.sp, size);
  return sc;
}

void StackPool::deallocate(boost::context::stack_context& sc) {
  const std::size_t page = page_size();
  if (pooled_ < pooled_max_) {
    free_[sc.size].push_back(sc.sp);
    ++pooled_;
    return;
  }
  char* base = static_cast<char*>(sc.sp) - sc.size - page;
  unpoison(sc.sp, sc.size);
  ::munmap(base, sc.size + page);
  mapped_ -= sc.size + page;
}

}  // namespace sim
