#!/usr/bin/env bash
# Issue 37's experiment (docs/results.md, "LTE that decides when to merge and at which rank"): one grid cell (4 heads)
# of VitPretraining's `grid` preset per policy and seed, one core per run. From the repository root:
#   docs/results/lte-controller/run.sh KIND SEED    KIND: fixed (T = 10, 25, 50; r = 8) | fixed32 (T = 10, r = 32) |
#                                                   adaptive (the merge controller) | rank (T = 10, the rank policy)
# The recorded runs used a Release build of the sample (dotnet build -c Release samples/VitPretraining -o BIN, then
# `dotnet BIN/VitPretraining.dll`), the same program as `dotnet run` below. Then `dotnet run -c Release --project
# samples/Figures` draws the figures and summary.md from every KIND-sSEED/grid-curves.csv under the output folder's
# parent (copy the runs into docs/results/lte-controller first).
set -euo pipefail
kind=$1 seed=$2
common=(--preset grid --methods "" --grid --grid-heads 4 --grid-evaluations 6 --seed "$seed")
case "$kind" in
  fixed) extra=(--grid-ranks 8 --grid-merge-every 10,25,50) ;;
  fixed32) extra=(--grid-ranks 32 --grid-merge-every 10) ;;
  adaptive) extra=(--grid-ranks 8 --merge-policy adaptive --merge-min 10 --merge-max 50 --merge-norm-budget 0.05) ;;
  rank) extra=(--grid-ranks 8 --grid-merge-every 10 --rank-policy adaptive --rank-min 4 --rank-max 32) ;;
  *) echo "run.sh: unknown KIND '$kind' (fixed, fixed32, adaptive, rank)" >&2; exit 1 ;;
esac
out="out/lte-controller/$kind-s$seed"
mkdir -p "$out"
OMP_NUM_THREADS=1 dotnet run -c Release --project samples/VitPretraining -- "${common[@]}" "${extra[@]}" --out "$out" | tee "$out/run.log"
