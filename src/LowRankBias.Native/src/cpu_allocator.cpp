// A caching allocator for CPU tensors of 128 KiB and more. glibc hands such blocks back to the kernel when they are
// freed (or frees whole per-thread heaps), so every training step faulted its activations in again as fresh zeroed
// pages; and the blocks it does keep in its heap stay pinned there by any small object allocated after them (a kept
// loss's autograd nodes fragmented the heap by ~1.7 MiB a training step; PyTorch 1.13 grows alike). Freed blocks are
// kept by rounded size (at most 25% unused) and handed out again; like CUDA's caching allocator it holds up to the
// peak working set, at most kMaxIdle bytes of it idle, and lrb_cpu_empty_cache returns the idle blocks to the system.
// Smaller tensors go straight to libtorch's allocation. Every block handed out, small or cached, is counted while in
// use (lrb_cpu_memory_allocated): the .NET side lets these bytes drive garbage collections, since an undisposed
// handle can keep far more alive than its own storage (a loss whose graph was retained keeps its activations).
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <malloc.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace {

constexpr size_t kMinCached = size_t{128} << 10;
constexpr size_t kMaxIdle = size_t{4} << 30;

size_t Rounded(size_t n) {
  size_t power = kMinCached;
  while (power < n) power <<= 1;
  size_t step = power / 8;
  return (n + step - 1) / step * step;
}

// No `override` below: libtorch 1.13 declares allocate const, PyTorch 2.x non-const and adds copy_data; whichever
// the base declares is overridden, the other is a plain member.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) { return Allocate(n); }
  c10::DataPtr allocate(size_t n) const { return Allocate(n); }
  c10::DeleterFnPtr raw_deleter() const { return &Release; }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  static CachingCpuAllocator& Instance() {
    static auto* instance = new CachingCpuAllocator();  // never destroyed: tensors may be freed during exit
    return *instance;
  }

  void EmptyCache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : idle_)
      for (void* block : blocks) c10::free_cpu(block);
    reserved_ -= idle_bytes_;
    idle_bytes_ = 0;
    idle_.clear();
  }

  int64_t Allocated() const { return allocated_.load(std::memory_order_relaxed); }

  void Stats(int64_t* reserved, int64_t* idle) {
    std::lock_guard<std::mutex> lock(mutex_);
    *reserved = static_cast<int64_t>(reserved_);
    *idle = static_cast<int64_t>(idle_bytes_);
  }

 private:
  static c10::DataPtr Allocate(size_t n) {
    if (n < kMinCached) {
      void* small = c10::alloc_cpu(n);
      Instance().allocated_.fetch_add(malloc_usable_size(small), std::memory_order_relaxed);
      return {small, small, &ReleaseSmall, c10::Device(c10::DeviceType::CPU)};
    }
    void* data = Instance().Take(Rounded(n));
    return {data, data, &Release, c10::Device(c10::DeviceType::CPU)};
  }

  void* Take(size_t size) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = idle_.find(size);
      if (found != idle_.end() && !found->second.empty()) {
        void* block = found->second.back();
        found->second.pop_back();
        idle_bytes_ -= size;
        live_.emplace(block, size);
        allocated_.fetch_add(size, std::memory_order_relaxed);
        return block;
      }
    }
    void* block = c10::alloc_cpu(size);  // throws on failure, outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    live_.emplace(block, size);
    reserved_ += size;
    allocated_.fetch_add(size, std::memory_order_relaxed);
    return block;
  }

  // Small blocks are c10::alloc_cpu's (posix_memalign): their usable size is known from the block itself.
  static void ReleaseSmall(void* block) {
    Instance().allocated_.fetch_sub(malloc_usable_size(block), std::memory_order_relaxed);
    c10::free_cpu(block);
  }

  static void Release(void* block) {
    auto& self = Instance();
    size_t size = 0;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      auto found = self.live_.find(block);
      if (found != self.live_.end()) {
        size = found->second;
        self.live_.erase(found);
        self.allocated_.fetch_sub(size, std::memory_order_relaxed);
        if (self.idle_bytes_ + size <= kMaxIdle) {
          self.idle_[size].push_back(block);
          self.idle_bytes_ += size;
          return;
        }
        self.reserved_ -= size;
      }
    }
    if (size == 0)
      ReleaseSmall(block);  // a small block handed out by raw_allocate
    else
      c10::free_cpu(block);
  }

  std::mutex mutex_;
  std::unordered_map<void*, size_t> live_;
  std::unordered_map<size_t, std::vector<void*>> idle_;
  size_t reserved_ = 0, idle_bytes_ = 0;
  std::atomic<int64_t> allocated_{0};
};

}  // namespace

extern "C" {

// Priority 1 outranks libtorch's default CPU allocator (0); tensors allocated before keep their own deleter.
void lrb_cpu_use_caching_allocator(void) { c10::SetCPUAllocator(&CachingCpuAllocator::Instance(), 1); }
void lrb_cpu_empty_cache(void) { CachingCpuAllocator::Instance().EmptyCache(); }
void lrb_cpu_memory_stats(int64_t* reserved, int64_t* idle) { CachingCpuAllocator::Instance().Stats(reserved, idle); }
int64_t lrb_cpu_memory_allocated(void) { return CachingCpuAllocator::Instance().Allocated(); }

}  // extern "C"
