#!/usr/bin/env bash
# Per-op overhead on 4x4 float32 CPU tensors, one intra-op thread: our C# library (quick Stopwatch mode of
# benchmarks/LowRankBias.Benchmarks), the C++ floor (benchmarks/native-floor, libtorch called directly) and PyTorch
# eager (Debian's python3-torch, the same libtorch). Builds all three, then runs them in turn for ROUNDS rounds
# and prints, per workload, the lowest of the rounds' medians in ns/op with the ratios ours/C++ and ours/PyTorch.
# Load from other processes only ever adds time, so the lowest round is the least disturbed one.
#
# Usage: benchmarks/compare/per_op.sh            (env: ROUNDS=3 ITERATIONS=20000 REPEATS=15 PYTHON=/usr/bin/python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${ROUNDS:-3}"
iterations="${ITERATIONS:-20000}"
repeats="${REPEATS:-15}"
python="${PYTHON:-/usr/bin/python3}"
floor_build="$root/artifacts/native-floor"
bench_dll="$root/benchmarks/LowRankBias.Benchmarks/bin/Release/net10.0/LowRankBias.Benchmarks.dll"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

echo "building the C# benchmark and the C++ floor ..." >&2
dotnet build -c Release -nologo -v q "$root/benchmarks/LowRankBias.Benchmarks" >&2
cmake -S "$root/benchmarks/native-floor" -B "$floor_build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$floor_build" -j "$(nproc)" >/dev/null

for round in $(seq "$rounds"); do
  echo "round $round/$rounds: ours, C++, PyTorch ($iterations iterations x $repeats repeats each) ..." >&2
  dotnet "$bench_dll" --quick "$iterations" "$repeats" | sed 's/^/ours\t/' >>"$results"
  "$floor_build/per_op_floor" "$iterations" "$repeats" | sed 's/^/cpp\t/' >>"$results"
  "$python" "$root/benchmarks/compare/per_op_pytorch.py" "$iterations" "$repeats" | sed 's/^/pytorch\t/' >>"$results"
done

# Rows: our workloads. "C++" is the direct call (at::add, at::mm, at::relu), the floor; "C++ boxed" is the
# dispatcher's boxed call that our Op class drives; PyTorch has one eager spelling per op (a + b, a.mm(b), torch.relu(a)).
awk -F'\t' '
  { key = $1 "/" $2; if (!(key in best) || $3 < best[key]) best[key] = $3 }
  function cell(v) { return v == "" ? "-" : sprintf("%.0f", v) }
  function ratio(a, b) { return b == "" ? "-" : sprintf("%.2f", a / b) }
  END {
    n = split("add mm add_boxed mm_boxed relu_boxed", rows, " ")
    printf "| workload | ours ns/op | C++ ns/op | C++ boxed ns/op | PyTorch ns/op | ours/C++ | ours/C++ boxed | ours/PyTorch |\n"
    printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    for (i = 1; i <= n; i++) {
      w = rows[i]; op = w; sub(/_boxed$/, "", op)
      ours = best["ours/" w]; cpp = best["cpp/" op]; py = best["pytorch/" op]
      boxed = (w != op) ? best["cpp/" w] : ""
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w, cell(ours), cell(cpp), cell(boxed), cell(py), ratio(ours, cpp), ratio(ours, boxed), ratio(ours, py)
    }
  }' "$results"
