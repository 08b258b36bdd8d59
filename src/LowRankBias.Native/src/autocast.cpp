// Autocast state: which device types run eligible ops in a lower-precision dtype on this thread. Enabling a device
// type includes its Autocast dispatch key in the thread's key set, so every op (boxed or typed) picks up the casts.
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "common.h"

// PyTorch 2.4 replaced the per-device functions (set_cpu_enabled, set_autocast_gpu_dtype, …) by ones taking the
// device type; the old names remain as deprecated wrappers for CUDA only.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LRB_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace {

c10::DeviceType autocast_device(int32_t device_type) {
  auto type = static_cast<c10::DeviceType>(device_type);
  TORCH_CHECK(type == c10::DeviceType::CPU || type == c10::DeviceType::CUDA,
              "autocast supports the device types cpu and cuda, not ", type);
  return type;
}

}  // namespace

extern "C" {

int32_t lrb_autocast_set(int32_t device_type, int32_t enabled, int32_t dtype) {
  LRB_GUARD({
    c10::DeviceType type = autocast_device(device_type);
    auto scalar_type = static_cast<at::ScalarType>(dtype);
#ifdef LRB_AUTOCAST_BY_DEVICE_TYPE
    at::autocast::set_autocast_enabled(type, enabled != 0);
    at::autocast::set_autocast_dtype(type, scalar_type);
#else
    if (type == c10::DeviceType::CPU) {
      at::autocast::set_cpu_enabled(enabled != 0);
      at::autocast::set_autocast_cpu_dtype(scalar_type);
    } else {
      at::autocast::set_enabled(enabled != 0);
      at::autocast::set_autocast_gpu_dtype(scalar_type);
    }
#endif
  });
}

int32_t lrb_autocast_get(int32_t device_type, int32_t* enabled, int32_t* dtype) {
  LRB_GUARD({
    c10::DeviceType type = autocast_device(device_type);
#ifdef LRB_AUTOCAST_BY_DEVICE_TYPE
    *enabled = at::autocast::is_autocast_enabled(type) ? 1 : 0;
    *dtype = static_cast<int32_t>(at::autocast::get_autocast_dtype(type));
#else
    bool cpu = type == c10::DeviceType::CPU;
    *enabled = (cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled()) ? 1 : 0;
    *dtype = static_cast<int32_t>(cpu ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype());
#endif
  });
}

int32_t lrb_autocast_increment_nesting(void) { return at::autocast::increment_nesting(); }
int32_t lrb_autocast_decrement_nesting(void) { return at::autocast::decrement_nesting(); }
void lrb_autocast_clear_cache(void) { at::autocast::clear_cache(); }

}  // extern "C"
