#!/usr/bin/env bash
# Runs every sample end to end on a tiny budget (seconds each) into a temporary folder and checks that each wrote
# its outputs. Part of the test command, so CI proves the samples work; the numbers themselves mean nothing here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
run() { local name=$1; shift; echo "sample $name: $*"; dotnet "$root/samples/$name/bin/Release/net10.0/$name.dll" "$@" >"$out/$name.log" 2>&1 || { cat "$out/$name.log"; echo "sample $name FAILED"; exit 1; }; }
expect() { for f in "$@"; do [[ -s "$out/$f" ]] || { echo "missing output $f"; exit 1; }; done; }

run FashionMnist cnn 1 "$out/fashion-mnist" --max-steps 3
expect fashion-mnist/cnn/metrics.csv fashion-mnist/cnn/accuracy.svg fashion-mnist/cnn/loss.svg
run LeastSquaresMerge "$out/least-squares-merge" 30
expect least-squares-merge/lte-least-squares.csv least-squares-merge/lte-least-squares.svg
run OverparamExperiments all --preset tiny --out "$out/overparam"
expect overparam/least_squares.svg overparam/random_rank_linear.svg
run VitPretraining --preset tiny --grid --out "$out/vit"
expect vit/curves.csv vit/summary.md vit/grid.csv vit/accuracy-vs-samples.svg vit/accuracy-vs-samples-per-device.svg vit/head-similarity.svg
run ModelMerging --preset tiny --out "$out/merging"
expect merging/merging.csv merging/summary.md merging/merging-loss.svg merging/stable-rank.svg merging/weight-decay-sweep.svg
echo "samples: all ran and wrote their outputs"
