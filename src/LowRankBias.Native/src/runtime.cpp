// Process-wide runtime controls: errors, threads, seeds, grad mode, CUDA queries and RNG state.
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#include "common.h"

#ifdef LRB_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace lrb {
static thread_local std::string last_error;
void set_error(std::string message) { last_error = std::move(message); }
}  // namespace lrb

extern "C" {

const char* lrb_last_error(void) { return lrb::last_error.c_str(); }
const char* lrb_torch_version(void) { return TORCH_VERSION; }
int32_t lrb_get_num_threads(void) { return at::get_num_threads(); }
void lrb_set_num_threads(int32_t n) { at::set_num_threads(n); }
int32_t lrb_manual_seed(uint64_t seed) { LRB_GUARD(torch::manual_seed(seed)); }
int32_t lrb_set_grad_enabled(int32_t enabled) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled != 0);
  return previous ? 1 : 0;
}
int32_t lrb_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
int32_t lrb_cuda_is_available(void) { return torch::cuda::is_available() ? 1 : 0; }
int32_t lrb_cuda_device_count(void) { return static_cast<int32_t>(torch::cuda::device_count()); }
int32_t lrb_cuda_synchronize(int32_t device) { LRB_GUARD(torch::cuda::synchronize(device)); }

int32_t lrb_cuda_memory_stats(int32_t device, int64_t* stats4) {
#ifdef LRB_WITH_CUDA
  LRB_GUARD({
    using namespace c10::cuda::CUDACachingAllocator;
    auto stats = getDeviceStats(device);
    auto aggregate = static_cast<size_t>(StatType::AGGREGATE);
    stats4[0] = stats.allocated_bytes[aggregate].current;
    stats4[1] = stats.allocated_bytes[aggregate].peak;
    stats4[2] = stats.reserved_bytes[aggregate].current;
    stats4[3] = stats.reserved_bytes[aggregate].peak;
  });
#else
  (void)device;
  (void)stats4;
  lrb::set_error("memory statistics need CUDA: this native library was built against a CPU-only libtorch");
  return 1;
#endif
}

int32_t lrb_cuda_reset_peak_memory_stats(int32_t device) {
#ifdef LRB_WITH_CUDA
  LRB_GUARD(c10::cuda::CUDACachingAllocator::resetPeakStats(device));
#else
  (void)device;
  lrb::set_error("memory statistics need CUDA: this native library was built against a CPU-only libtorch");
  return 1;
#endif
}

int32_t lrb_rng_get_state(lrb_tensor** out) {
  LRB_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = lrb::wrap(gen.get_state());
  });
}

int32_t lrb_rng_set_state(lrb_tensor* state) {
  LRB_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(lrb::T(state));
  });
}

int32_t lrb_generator_create(uint64_t seed, lrb_generator** out) {
  LRB_GUARD(*out = reinterpret_cast<lrb_generator*>(new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed))));
}

void lrb_generator_free(lrb_generator* generator) { delete reinterpret_cast<at::Generator*>(generator); }

}  // extern "C"
