"""PyTorch eager's per-op cost on the benchmark's workloads: 4x4 float32 CPU tensors, one intra-op thread.

Run with Debian's python3-torch (the same libtorch as the C# library):  /usr/bin/python3 per_op_pytorch.py [iterations] [repeats]
Timed like the C# quick mode and the C++ floor: a warm-up, then the median of repeated timed loops, in CPU time of
this thread (time.thread_time) so that time spent descheduled on a busy machine does not count.
Prints "name<TAB>ns/op".
"""
import statistics
import sys
import time
import timeit

import torch


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    torch.set_num_threads(1)
    torch.manual_seed(0)
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    workloads = {"add": "a + b", "mm": "a.mm(b)", "relu": "torch.relu(a)"}
    for name, statement in workloads.items():
        timer = timeit.Timer(statement, globals={"a": a, "b": b, "torch": torch}, timer=time.thread_time)
        timer.timeit(max(iterations, 50000))
        samples = timer.repeat(repeat=repeats, number=iterations)
        print(f"{name}\t{statistics.median(samples) / iterations * 1e9:.1f}")


if __name__ == "__main__":
    main()
