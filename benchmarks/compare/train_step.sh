#!/usr/bin/env bash
# A full training step (forward, cross-entropy, backward, AdamW, zero_grad; batch 128, 28x28 grey images) of the same
# model (vit-tiny, cnn, resnet18: torchvision's, BatchNorm in training mode) in our C# library and in PyTorch eager
# (Debian's python3-torch and python3-torchvision, the same libtorch, the same thread count),
# alternating them for ROUNDS rounds; prints per model the lowest round's median ms/step and the ratio ours/PyTorch.
# The lowest round is the least disturbed one: load from other processes only ever adds time.
# PyTorch runs twice per round: as users run it (OpenMP's default wait policy) and with the wait policy our library
# chooses at start-up (OMP_WAIT_POLICY=PASSIVE), so the table separates that choice from the rest of the step.
#
# Other workloads (see TrainingStepRunner): vit-tiny-lte, LTE's step (4 heads of rank 16, merge every 10 steps, merges
# included), in PyTorch the paper's way: vmap over the heads (lte_step_pytorch.py); vit-s-lte-merge, one merge of a
# ViT-S with 8 heads of rank 64; vit-s-checkpoint, a ViT-S state dict written and read back; vit-s-spectra, the spectra
# of every ViT-S matrix; mhlora-step, a step of one multi-head LoRA layer (workloads_pytorch.py).
#
# Usage: benchmarks/compare/train_step.sh [MODEL ...]   (default: vit-tiny cnn; env: ROUNDS=3 BATCH=128 STEPS=10 REPEATS=3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
models=("${@:-vit-tiny cnn}")
read -r -a models <<<"${models[*]}"
rounds="${ROUNDS:-3}" batch="${BATCH:-128}" steps="${STEPS:-10}" repeats="${REPEATS:-3}"
python="${PYTHON:-/usr/bin/python3}"
bench_dll="$root/benchmarks/LowRankBias.Benchmarks/bin/Release/net10.0/LowRankBias.Benchmarks.dll"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

"$python" -c "import torch" 2>/dev/null || {
  echo "train_step.sh: $python cannot import torch; install Debian's PyTorch (apt-get install python3-torch) or set PYTHON" >&2
  exit 1
}
echo "building the C# benchmark ..." >&2
dotnet build -c Release -nologo -v q "$root/benchmarks/LowRankBias.Benchmarks" >&2
for round in $(seq "$rounds"); do
  for model in "${models[@]}"; do
    echo "round $round/$rounds: $model, ours, PyTorch, PyTorch with passive OpenMP ($steps steps x $repeats repeats, batch $batch) ..." >&2
    dotnet "$bench_dll" --step "$model" "$batch" "$steps" "$repeats" | sed 's/^/ours\t/' >>"$results"
    case "$model" in
      *-lte*) script="lte_step_pytorch.py" ;;
      vit-s-spectra | mhlora-step) script="workloads_pytorch.py" ;;
      *) script="train_step_pytorch.py" ;;
    esac
    "$python" "$root/benchmarks/compare/$script" "$model" "$batch" "$steps" "$repeats" | sed 's/^/pytorch\t/' >>"$results"
    OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" "$python" "$root/benchmarks/compare/$script" "$model" "$batch" "$steps" "$repeats" |
      sed 's/^/passive\t/' >>"$results"
  done
done

awk -F'\t' -v threads="${OMP_NUM_THREADS:-$(nproc)}" '
  { key = $1 "/" $2; if (!(key in best) || $3 < best[key]) best[key] = $3; seen[$2] = 1 }
  END {
    printf "| workload (%d threads) | ours ms | PyTorch ms | ours/PyTorch | PyTorch, passive OpenMP, ms | ours/that |\n", threads
    printf "|---|---:|---:|---:|---:|---:|\n"
    for (m in seen)
      printf "| %s | %.1f | %.1f | %.2f | %.1f | %.2f |\n", m, best["ours/" m], best["pytorch/" m], best["ours/" m] / best["pytorch/" m],
        best["passive/" m], best["ours/" m] / best["passive/" m]
  }' "$results"
