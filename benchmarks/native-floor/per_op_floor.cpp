// Per-op floor: the benchmark's workloads on 4x4 float32 CPU tensors, called on libtorch directly from C++,
// one intra-op thread, timed like the C# quick mode (warm-up, then the median of repeated timed loops, in CPU time
// of this thread so that time spent descheduled on a busy machine does not count).
// Prints "name<TAB>ns/op". Usage: per_op_floor [iterations] [repeats]
//
// Two floors per op: the direct C++ call (at::add, ...) and the boxed dispatcher call with an IValue stack,
// which is what the C# Op class drives through the native bridge.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

double thread_cpu_ns() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

double median_ns_per_op(const std::function<void()>& run, int iterations, int repeats) {
  for (int i = 0; i < std::max(iterations, 50000); ++i) run();
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    double start = thread_cpu_ns();
    for (int i = 0; i < iterations; ++i) run();
    samples.push_back((thread_cpu_ns() - start) / iterations);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// One boxed call as the bridge makes it: arguments pushed, schema defaults for the rest, results dropped.
void call_boxed(const c10::OperatorHandle& op, torch::jit::Stack& stack, std::initializer_list<c10::IValue> args) {
  stack.clear();
  for (const c10::IValue& a : args) stack.push_back(a);
  const auto& schema_args = op.schema().arguments();
  for (size_t i = args.size(); i < schema_args.size(); ++i) stack.push_back(*schema_args[i].default_value());
  op.callBoxed(stack);
  stack.clear();
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 15;
  at::set_num_threads(1);
  at::manual_seed(0);
  const at::Tensor a = at::randn({4, 4}), b = at::randn({4, 4});

  auto& dispatcher = c10::Dispatcher::singleton();
  const auto add = dispatcher.findSchemaOrThrow("aten::add", "Tensor");
  const auto mm = dispatcher.findSchemaOrThrow("aten::mm", "");
  const auto relu = dispatcher.findSchemaOrThrow("aten::relu", "");
  torch::jit::Stack stack;

  const std::vector<std::pair<const char*, std::function<void()>>> workloads = {
      {"add", [&] { at::Tensor c = at::add(a, b); }},
      {"mm", [&] { at::Tensor c = at::mm(a, b); }},
      {"relu", [&] { at::Tensor c = at::relu(a); }},
      {"add_boxed", [&] { call_boxed(add, stack, {a, b}); }},
      {"mm_boxed", [&] { call_boxed(mm, stack, {a, b}); }},
      {"relu_boxed", [&] { call_boxed(relu, stack, {a}); }},
  };
  for (const auto& [name, run] : workloads) std::printf("%s\t%.1f\n", name, median_ns_per_op(run, iterations, repeats));
  return 0;
}
