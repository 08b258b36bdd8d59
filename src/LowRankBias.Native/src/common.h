// Shared helpers of the native bridge: handle conversion and exception-to-status translation.
#pragma once
#include <ATen/ATen.h>
#include <string>

#include "lrb.h"

namespace lrb {

void set_error(std::string message);

inline at::Tensor& T(lrb_tensor* t) { return *reinterpret_cast<at::Tensor*>(t); }
inline lrb_tensor* wrap(at::Tensor t) { return reinterpret_cast<lrb_tensor*>(new at::Tensor(std::move(t))); }

}  // namespace lrb

// Every fallible entry point runs its body inside LRB_GUARD so that no C++ exception crosses the ABI.
#define LRB_GUARD(...)                                             \
  try {                                                            \
    __VA_ARGS__;                                                       \
    return 0;                                                      \
  } catch (const c10::Error& e) {                                  \
    lrb::set_error(e.what_without_backtrace());                    \
  } catch (const std::exception& e) {                              \
    lrb::set_error(e.what());                                      \
  } catch (...) {                                                  \
    lrb::set_error("unknown native exception");                    \
  }                                                                \
  return 1;
