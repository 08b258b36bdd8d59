// c10d bindings: a TCPStore rendezvous and Gloo / NCCL process groups, each collective waited on before returning.
// The process-group base class moved from ProcessGroup (1.x) to Backend (2.x); the collectives' signatures did not.
#include <chrono>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "common.h"

namespace {
#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;
#else
using Group = c10d::ProcessGroup;
#endif

struct Store { c10::intrusive_ptr<c10d::Store> store; };
struct ProcessGroup { c10::intrusive_ptr<Group> group; };

c10d::Store& S(lrb_store* s) { return *reinterpret_cast<Store*>(s)->store; }
Group& G(lrb_process_group* g) { return *reinterpret_cast<ProcessGroup*>(g)->group; }

void wait(const c10::intrusive_ptr<c10d::Work>& work) {
  // The group's own timeout bounds every collective; a failed or timed-out one throws here.
  work->wait();
}
}  // namespace

int32_t lrb_dist_has_backend(const char* name) {
  std::string backend(name);
#ifdef USE_C10D_GLOO
  if (backend == "gloo") return 1;
#endif
#ifdef USE_C10D_NCCL
  if (backend == "nccl") return 1;
#endif
  return 0;
}

int32_t lrb_tcp_store_create(const char* host, int32_t port, int32_t is_server, int32_t world_size,
                             int64_t timeout_ms, lrb_store** out) {
  LRB_GUARD({
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = is_server != 0;
    if (world_size > 0) options.numWorkers = static_cast<std::size_t>(world_size);
    options.waitWorkers = false;  // the process group's rendezvous waits for everyone, bounded by its timeout
    options.timeout = std::chrono::milliseconds(timeout_ms);
    *out = reinterpret_cast<lrb_store*>(new Store{c10::make_intrusive<c10d::TCPStore>(host, options)});
  })
}

int32_t lrb_store_prefixed(lrb_store* store, const char* prefix, lrb_store** out) {
  LRB_GUARD({
    auto base = reinterpret_cast<Store*>(store)->store;
    *out = reinterpret_cast<lrb_store*>(new Store{c10::make_intrusive<c10d::PrefixStore>(prefix, base)});
  })
}

void lrb_store_free(lrb_store* store) { delete reinterpret_cast<Store*>(store); }

int32_t lrb_store_set(lrb_store* store, const char* key, const uint8_t* value, int64_t length) {
  LRB_GUARD(S(store).set(key, std::vector<uint8_t>(value, value + length)))
}

int32_t lrb_store_get(lrb_store* store, const char* key, lrb_tensor** out) {
  LRB_GUARD({
    std::vector<uint8_t> value = S(store).get(key);
    at::Tensor t = at::empty({static_cast<int64_t>(value.size())}, at::kByte);
    if (!value.empty()) std::memcpy(t.data_ptr(), value.data(), value.size());
    *out = lrb::wrap(std::move(t));
  })
}

int32_t lrb_store_add(lrb_store* store, const char* key, int64_t delta, int64_t* out) {
  LRB_GUARD(*out = S(store).add(key, delta))
}

int32_t lrb_store_check(lrb_store* store, const char* key, int32_t* out) {
  LRB_GUARD(*out = S(store).check({key}) ? 1 : 0)
}

int32_t lrb_process_group_create(const char* backend, lrb_store* store, int32_t rank, int32_t size,
                                 int64_t timeout_ms, const char* gloo_interface, const char* gloo_hostname,
                                 lrb_process_group** out) {
  LRB_GUARD({
    auto base = reinterpret_cast<Store*>(store)->store;
    auto timeout = std::chrono::milliseconds(timeout_ms);
    std::string name(backend);
    c10::intrusive_ptr<Group> group;
#ifdef USE_C10D_GLOO
    if (name == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      if (gloo_interface && *gloo_interface)
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(gloo_interface));
      else if (gloo_hostname && *gloo_hostname)
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(gloo_hostname));
      else
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(base, rank, size, options);
    }
#endif
#ifdef USE_C10D_NCCL
    if (name == "nccl") {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      group = c10::make_intrusive<c10d::ProcessGroupNCCL>(base, rank, size, options);
    }
#endif
    TORCH_CHECK(group, "backend '", name, "' is not available in this build of the native library");
    *out = reinterpret_cast<lrb_process_group*>(new ProcessGroup{group});
  })
}

void lrb_process_group_free(lrb_process_group* group) { delete reinterpret_cast<ProcessGroup*>(group); }

int32_t lrb_all_reduce(lrb_process_group* group, lrb_tensor* tensor, int32_t op) {
  LRB_GUARD({
    std::vector<at::Tensor> tensors{lrb::T(tensor)};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp(static_cast<c10d::ReduceOp::RedOpType>(op));
    wait(G(group).allreduce(tensors, options));
  })
}

int32_t lrb_all_gather(lrb_process_group* group, lrb_tensor* input, lrb_tensor** outputs, int32_t count) {
  LRB_GUARD({
    std::vector<at::Tensor> inputs{lrb::T(input)};
    std::vector<std::vector<at::Tensor>> gathered(1);
    for (int32_t i = 0; i < count; i++) gathered[0].push_back(lrb::T(outputs[i]));
    wait(G(group).allgather(gathered, inputs));
  })
}

int32_t lrb_broadcast(lrb_process_group* group, lrb_tensor* tensor, int32_t root) {
  LRB_GUARD({
    std::vector<at::Tensor> tensors{lrb::T(tensor)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    wait(G(group).broadcast(tensors, options));
  })
}

int32_t lrb_barrier(lrb_process_group* group) { LRB_GUARD(wait(G(group).barrier())) }
