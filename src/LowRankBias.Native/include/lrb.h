// LowRankBias native bridge: a small C ABI over libtorch.
//
// Conventions:
//  * A tensor handle is an owning pointer to a heap-allocated at::Tensor; free it with lrb_tensor_free.
//  * Functions returning int32_t return 0 on success and 1 on failure; the failure message (libtorch's own)
//    is then available from lrb_last_error() on the same thread until the next failing call.
//  * Queries that cannot fail on a valid handle return their value directly.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LRB_API __attribute__((visibility("default")))

typedef struct lrb_tensor lrb_tensor;
typedef struct lrb_op lrb_op;
typedef struct lrb_generator lrb_generator;

// ---- errors and runtime -------------------------------------------------------------------------
LRB_API const char* lrb_last_error(void);
LRB_API const char* lrb_torch_version(void);
LRB_API int32_t lrb_get_num_threads(void);
LRB_API void lrb_set_num_threads(int32_t n);
LRB_API void lrb_cpu_use_caching_allocator(void);
LRB_API void lrb_cpu_empty_cache(void);
LRB_API void lrb_cpu_memory_stats(int64_t* reserved, int64_t* idle);
// Bytes of CPU tensor storage in use, allocated since the caching allocator was installed (0 without it).
LRB_API int64_t lrb_cpu_memory_allocated(void);
LRB_API int32_t lrb_manual_seed(uint64_t seed);
LRB_API int32_t lrb_set_grad_enabled(int32_t enabled);  // returns the previous mode
LRB_API int32_t lrb_is_grad_enabled(void);
LRB_API int32_t lrb_cuda_is_available(void);
LRB_API int32_t lrb_cuda_device_count(void);
LRB_API int32_t lrb_cuda_synchronize(int32_t device);
// Memory statistics of a CUDA device: stats = {allocated, peak allocated, reserved, peak reserved} bytes.
LRB_API int32_t lrb_cuda_memory_stats(int32_t device, int64_t* stats4);
LRB_API int32_t lrb_cuda_reset_peak_memory_stats(int32_t device);
// CPU generator state as a uint8 tensor (for exact resume), and restoring it.
LRB_API int32_t lrb_rng_get_state(lrb_tensor** out);
LRB_API int32_t lrb_rng_set_state(lrb_tensor* state);
// A CPU generator of its own (torch.Generator), seeded; ops take it as an LRB_ARG_GENERATOR argument. Its draws
// do not touch the global generator, so threads seeding their own generators cannot disturb each other.
LRB_API int32_t lrb_generator_create(uint64_t seed, lrb_generator** out);
LRB_API void lrb_generator_free(lrb_generator* generator);

// ---- autocast (thread-local, like PyTorch's) ------------------------------------------------------------
// device_type is a c10::DeviceType (0 = cpu, 1 = cuda; others fail), dtype a c10::ScalarType.
LRB_API int32_t lrb_autocast_set(int32_t device_type, int32_t enabled, int32_t dtype);
LRB_API int32_t lrb_autocast_get(int32_t device_type, int32_t* enabled, int32_t* dtype);
// Depth of nested autocast regions (shared by all device types); both return the new depth.
LRB_API int32_t lrb_autocast_increment_nesting(void);
LRB_API int32_t lrb_autocast_decrement_nesting(void);
// Drops the cached low-precision copies of leaf tensors (done when the outermost region ends).
LRB_API void lrb_autocast_clear_cache(void);

// ---- tensors --------------------------------------------------------------------------------------
LRB_API void lrb_tensor_free(lrb_tensor* t);
LRB_API lrb_tensor* lrb_tensor_alias(lrb_tensor* t);  // a second handle to the same tensor
// The storage bytes to charge this handle for, so the .NET GC can be told what undisposed tensors hold: 0 for a second
// handle to a tensor (an alias) or a tensor without storage, otherwise the storage's bytes divided among its users.
LRB_API int64_t lrb_tensor_owned_nbytes(lrb_tensor* t);
// Copies nbytes of host memory into a new tensor of the given shape/dtype on the given device.
LRB_API int32_t lrb_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                                     int32_t dtype, int32_t device_type, int32_t device_index,
                                     int32_t requires_grad, lrb_tensor** out);
// Copies the tensor's elements (row-major, contiguous) into host memory of exactly nbytes.
LRB_API int32_t lrb_tensor_to_host(lrb_tensor* t, void* dst, int64_t nbytes);
LRB_API int32_t lrb_tensor_dim(lrb_tensor* t);
LRB_API void lrb_tensor_shape(lrb_tensor* t, int64_t* out);
LRB_API int64_t lrb_tensor_numel(lrb_tensor* t);
LRB_API int32_t lrb_tensor_dtype(lrb_tensor* t);
LRB_API void lrb_tensor_device(lrb_tensor* t, int32_t* type, int32_t* index);
LRB_API int32_t lrb_tensor_requires_grad(lrb_tensor* t);
LRB_API int32_t lrb_tensor_set_requires_grad(lrb_tensor* t, int32_t value);
LRB_API int32_t lrb_tensor_is_leaf(lrb_tensor* t);
LRB_API int32_t lrb_tensor_is_contiguous(lrb_tensor* t);
LRB_API int32_t lrb_tensor_is_mkldnn(lrb_tensor* t);  // oneDNN (opaque) layout, made by to_mkldnn
LRB_API int32_t lrb_tensor_backward(lrb_tensor* t, lrb_tensor* grad /*nullable*/, int32_t retain_graph,
                                    int32_t create_graph);
LRB_API int32_t lrb_tensor_grad(lrb_tensor* t, lrb_tensor** out /* null when no gradient */);
LRB_API int32_t lrb_tensor_set_grad(lrb_tensor* t, lrb_tensor* grad /*nullable: clears*/);
// Replaces the tensor's storage/metadata by src's, keeping the tensor's identity (Module.to).
LRB_API int32_t lrb_tensor_set_data(lrb_tensor* t, lrb_tensor* src);

// ---- fast typed entries (hot paths; everything else goes through lrb_op_call) ---------------------
enum lrb_binary_op { LRB_ADD = 0, LRB_SUB = 1, LRB_MUL = 2, LRB_DIV = 3, LRB_MM = 4, LRB_MATMUL = 5 };
LRB_API int32_t lrb_binary(int32_t op, lrb_tensor* a, lrb_tensor* b, lrb_tensor** out);

// ---- generic boxed-dispatcher entry ----------------------------------------------------------------
enum lrb_arg_kind {
  LRB_ARG_NONE = 0, LRB_ARG_TENSOR = 1, LRB_ARG_TENSOR_LIST = 2, LRB_ARG_INT = 3, LRB_ARG_INT_LIST = 4,
  LRB_ARG_DOUBLE = 5, LRB_ARG_DOUBLE_LIST = 6, LRB_ARG_BOOL = 7, LRB_ARG_STRING = 8, LRB_ARG_DEVICE = 9,
  LRB_ARG_OPT_TENSOR_LIST = 10, LRB_ARG_BOOL_LIST = 11,
  LRB_ARG_DEFAULT = 12,  // take the schema's default value for this position
  LRB_ARG_GENERATOR = 13
};
typedef struct lrb_arg {
  int32_t kind;
  int32_t len;  // list length; device index for LRB_ARG_DEVICE
  int64_t i;    // int / bool / device type
  double d;
  const void* p;  // tensor or generator handle, array of handles, int64 (ints, bools) or double array, or UTF-8 string
} lrb_arg;

// Output values: tensors, and scalars for ops returning int/float/bool. Lists and tuples are flattened.
enum lrb_out_kind { LRB_OUT_NONE = 0, LRB_OUT_TENSOR = 1, LRB_OUT_INT = 2, LRB_OUT_DOUBLE = 3, LRB_OUT_BOOL = 4 };
typedef struct lrb_out {
  int32_t kind;
  int32_t pad;
  int64_t i;
  double d;
  lrb_tensor* t;  // owning; null for an undefined tensor
} lrb_out;

// Schema type codes reported per argument: base | flags.
enum lrb_type_code {
  LRB_T_TENSOR = 1, LRB_T_INT = 2, LRB_T_FLOAT = 3, LRB_T_BOOL = 4, LRB_T_SCALAR = 5, LRB_T_STRING = 6,
  LRB_T_DEVICE = 7, LRB_T_OTHER = 8, LRB_T_GENERATOR = 9,
  LRB_T_LIST = 16, LRB_T_OPTIONAL = 32, LRB_T_ELEM_OPTIONAL = 64
};

// Finds an operator, e.g. ("aten::add", "Tensor"); overload "" is the default overload.
LRB_API int32_t lrb_op_find(const char* name, const char* overload, lrb_op** op, int32_t* nargs,
                            int32_t* nreturns);
// Argument i: type code, whether it has a default, its name and its type as the schema prints it.
LRB_API void lrb_op_arg(lrb_op* op, int32_t i, int32_t* type_code, int32_t* has_default, const char** name,
                        const char** type_str);
LRB_API const char* lrb_op_schema(lrb_op* op);
// Whether the operator has a kernel registered directly for the backend of a device type (c10::DeviceType).
LRB_API int32_t lrb_op_has_kernel(lrb_op* op, int32_t device_type, int32_t* has_kernel);
// Calls the operator with nargs leading arguments (the rest take their schema defaults). Writes up to cap
// outputs to outs and the total count to nouts; when nouts > cap, fetch all with lrb_op_take_results.
LRB_API int32_t lrb_op_call(lrb_op* op, const lrb_arg* args, int32_t nargs, lrb_out* outs, int32_t cap,
                            int32_t* nouts);
LRB_API int32_t lrb_op_take_results(lrb_out* outs, int32_t n);

// ---- distributed (c10d) ------------------------------------------------------------------------------
// Handles own their c10d objects; free them with the matching _free. Collectives run in place and return once
// complete; they fail (status 1) when a peer fails or the group's timeout passes.
typedef struct lrb_store lrb_store;
typedef struct lrb_process_group lrb_process_group;
// Whether this build has the backend ("gloo", "nccl").
LRB_API int32_t lrb_dist_has_backend(const char* name);
// A TCPStore client of host:port, or its server too (is_server); world_size <= 0 leaves it unknown.
LRB_API int32_t lrb_tcp_store_create(const char* host, int32_t port, int32_t is_server, int32_t world_size,
                                     int64_t timeout_ms, lrb_store** out);
// A view of the store whose keys all start with prefix (a new rendezvous round).
LRB_API int32_t lrb_store_prefixed(lrb_store* store, const char* prefix, lrb_store** out);
LRB_API void lrb_store_free(lrb_store* store);
LRB_API int32_t lrb_store_set(lrb_store* store, const char* key, const uint8_t* value, int64_t length);
// Waits (up to the store's timeout) for the key and returns its value as a uint8 tensor.
LRB_API int32_t lrb_store_get(lrb_store* store, const char* key, lrb_tensor** out);
LRB_API int32_t lrb_store_add(lrb_store* store, const char* key, int64_t delta, int64_t* out);
LRB_API int32_t lrb_store_check(lrb_store* store, const char* key, int32_t* out);
// backend "gloo" (device from gloo_interface, else gloo_hostname, else the default) or "nccl".
LRB_API int32_t lrb_process_group_create(const char* backend, lrb_store* store, int32_t rank, int32_t size,
                                         int64_t timeout_ms, const char* gloo_interface,
                                         const char* gloo_hostname, lrb_process_group** out);
LRB_API void lrb_process_group_free(lrb_process_group* group);
// op: c10d's ReduceOp codes (0 sum, 1 avg (NCCL only), 2 product, 3 min, 4 max).
LRB_API int32_t lrb_all_reduce(lrb_process_group* group, lrb_tensor* tensor, int32_t op);
LRB_API int32_t lrb_all_gather(lrb_process_group* group, lrb_tensor* input, lrb_tensor** outputs, int32_t count);
LRB_API int32_t lrb_broadcast(lrb_process_group* group, lrb_tensor* tensor, int32_t root);
LRB_API int32_t lrb_barrier(lrb_process_group* group);

#ifdef __cplusplus
}
#endif
