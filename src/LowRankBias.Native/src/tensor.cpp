// Tensor lifetime, host transfer, metadata queries, autograd and the fast typed entries.
#include <torch/autograd.h>

#include <algorithm>

#include "common.h"

using lrb::T;
using lrb::wrap;

extern "C" {

void lrb_tensor_free(lrb_tensor* t) { delete reinterpret_cast<at::Tensor*>(t); }
lrb_tensor* lrb_tensor_alias(lrb_tensor* t) { return wrap(T(t)); }

int64_t lrb_tensor_owned_nbytes(lrb_tensor* t) {
  try {
    const at::Tensor& x = T(t);
    if (!x.defined() || x.use_count() > 1 || !x.has_storage()) return 0;
    const c10::Storage& storage = x.storage();
    return static_cast<int64_t>(storage.nbytes() / std::max<size_t>(storage.use_count(), 1));
  } catch (...) {
    return 0;  // tensor kinds whose storage cannot be accessed
  }
}

int32_t lrb_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                             int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad,
                             lrb_tensor** out) {
  LRB_GUARD({
    auto options = at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype));
    at::Tensor t = at::empty(at::IntArrayRef(shape, ndim), options);
    TORCH_CHECK(static_cast<int64_t>(t.nbytes()) == nbytes, "tensor of shape ", t.sizes(), " and dtype ",
                t.scalar_type(), " needs ", t.nbytes(), " bytes but ", nbytes, " were given");
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, nbytes);
    at::Device device(static_cast<c10::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index));
    if (device != t.device()) t = t.to(device);
    if (requires_grad) t.set_requires_grad(true);
    *out = wrap(std::move(t));
  });
}

int32_t lrb_tensor_to_host(lrb_tensor* t, void* dst, int64_t nbytes) {
  LRB_GUARD({
    at::NoGradGuard no_grad;
    const at::Tensor& x = T(t);
    at::Tensor host = (x.is_mkldnn() ? x.to_dense() : x.to(at::kCPU)).contiguous();
    TORCH_CHECK(static_cast<int64_t>(host.nbytes()) == nbytes, "tensor of shape ", host.sizes(),
                " and dtype ", host.scalar_type(), " holds ", host.nbytes(), " bytes but the destination has ",
                nbytes);
    if (nbytes > 0) std::memcpy(dst, host.data_ptr(), nbytes);
  });
}

int32_t lrb_tensor_dim(lrb_tensor* t) { return static_cast<int32_t>(T(t).dim()); }
void lrb_tensor_shape(lrb_tensor* t, int64_t* out) {
  auto sizes = T(t).sizes();
  std::copy(sizes.begin(), sizes.end(), out);
}
int64_t lrb_tensor_numel(lrb_tensor* t) { return T(t).numel(); }
int32_t lrb_tensor_dtype(lrb_tensor* t) { return static_cast<int32_t>(T(t).scalar_type()); }
void lrb_tensor_device(lrb_tensor* t, int32_t* type, int32_t* index) {
  auto device = T(t).device();
  *type = static_cast<int32_t>(device.type());
  *index = device.index();
}
int32_t lrb_tensor_requires_grad(lrb_tensor* t) { return T(t).requires_grad() ? 1 : 0; }
int32_t lrb_tensor_set_requires_grad(lrb_tensor* t, int32_t value) {
  LRB_GUARD(T(t).set_requires_grad(value != 0));
}
int32_t lrb_tensor_is_leaf(lrb_tensor* t) { return T(t).is_leaf() ? 1 : 0; }
// oneDNN (opaque) tensors have no strides: not contiguous in the strided sense.
int32_t lrb_tensor_is_contiguous(lrb_tensor* t) { return !T(t).is_mkldnn() && T(t).is_contiguous() ? 1 : 0; }
int32_t lrb_tensor_is_mkldnn(lrb_tensor* t) { return T(t).is_mkldnn() ? 1 : 0; }

int32_t lrb_tensor_backward(lrb_tensor* t, lrb_tensor* grad, int32_t retain_graph, int32_t create_graph) {
  LRB_GUARD({
    at::Tensor gradient = grad ? T(grad) : at::Tensor();
    T(t).backward(gradient, retain_graph ? c10::optional<bool>(true) : c10::nullopt, create_graph != 0);
  });
}

int32_t lrb_tensor_grad(lrb_tensor* t, lrb_tensor** out) {
  LRB_GUARD({
    const at::Tensor& g = T(t).grad();
    *out = g.defined() ? wrap(g) : nullptr;
  });
}

int32_t lrb_tensor_set_grad(lrb_tensor* t, lrb_tensor* grad) {
  LRB_GUARD(T(t).mutable_grad() = grad ? T(grad) : at::Tensor());
}

int32_t lrb_tensor_set_data(lrb_tensor* t, lrb_tensor* src) { LRB_GUARD(T(t).set_data(T(src))); }

int32_t lrb_binary(int32_t op, lrb_tensor* a, lrb_tensor* b, lrb_tensor** out) {
  LRB_GUARD({
    const at::Tensor& x = T(a);
    const at::Tensor& y = T(b);
    // When no input requires grad, autograd would only forward the call: go straight to the kernel, as
    // inference mode does, and save the autograd layer's dispatch. The result is the same fresh tensor without
    // grad_fn. Not for matmul, which may return a view whose base autograd must track; and the library exposes
    // no forward-mode AD, so there are no dual inputs to miss.
    c10::optional<at::AutoDispatchBelowADInplaceOrView> below_autograd;
    if (op != LRB_MATMUL && !x.requires_grad() && !y.requires_grad()) below_autograd.emplace();
    switch (op) {
      case LRB_ADD: *out = wrap(at::add(x, y)); break;
      case LRB_SUB: *out = wrap(at::sub(x, y)); break;
      case LRB_MUL: *out = wrap(at::mul(x, y)); break;
      case LRB_DIV: *out = wrap(at::div(x, y)); break;
      case LRB_MM: *out = wrap(at::mm(x, y)); break;
      case LRB_MATMUL: *out = wrap(at::matmul(x, y)); break;
      default: TORCH_CHECK(false, "unknown binary op code ", op);
    }
  });
}

}  // extern "C"
