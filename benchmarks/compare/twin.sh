#!/usr/bin/env bash
# Twin checks: our training stack and PyTorch (Debian's python3-torch) train the same model from the same initial
# weights on the same data in the same order; the losses of every step must agree to TOLERANCE (relative, float32).
# Ours writes the initial weights and data as safetensors (TwinRunner); twin_pytorch.py loads them and compares.
# Workloads: grokking (the Grokking sample's transformer and optimiser, 200 full-batch steps); vit-tiny-lte (LTE on
# ViT-Tiny, 4 heads of rank 16 merged every 10 steps, against the LTE paper's vmap implementation, 50 batches of 128
# Fashion-MNIST images).
# Usage: benchmarks/compare/twin.sh [WORKLOAD ...]   (default: grokking; env: STEPS (default: the workload's)
# TOLERANCE=1e-4 OUT=dir TWIN_DTYPE=float64)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
workloads=("${@:-grokking}")
python="${PYTHON:-/usr/bin/python3}"
bench_dll="$root/benchmarks/LowRankBias.Benchmarks/bin/Release/net10.0/LowRankBias.Benchmarks.dll"
out="${OUT:-$root/out/twin}"

"$python" -c "import torch" 2>/dev/null || {
  echo "twin.sh: $python cannot import torch; install Debian's PyTorch (apt-get install python3-torch) or set PYTHON" >&2
  exit 1
}
echo "building the C# benchmark ..." >&2
dotnet build -c Release -nologo -v q "$root/benchmarks/LowRankBias.Benchmarks" >&2
status=0
for workload in "${workloads[@]}"; do
  dir="$out/$workload"
  echo "$workload: ours ..." >&2
  dotnet "$bench_dll" --twin "$workload" "$dir" "${STEPS:-0}"
  echo "$workload: PyTorch ..." >&2
  "$python" "$root/benchmarks/compare/twin_pytorch.py" "$workload" "$dir" "${TOLERANCE:-1e-4}" || status=1
done
exit $status
