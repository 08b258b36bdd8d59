#!/usr/bin/env bash
# The main job (the README's first command): what this library is for, in minutes on a CPU. ViT-Tiny learns
# Fashion-MNIST from scratch three ways on the same data — full rank, LoRA (rank 8, never merged) and LTE (4 LoRA heads
# of rank 16, each on its own share of every batch, merged into the weights every 10 steps) — with the spectral monitor
# recording every weight matrix. Prints one progress bar and a comparison table (accuracy, wall time, parameters
# trained, effective rank of the final weights); writes out/main/report.md with the figures.
# Usage: bash scripts/main.sh [--full]   (--full: the long runs instead, the thesis CNN and ViT-Tiny for 19 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ ${1:-} == "--full" ]]; then
  shift
  exec dotnet run -c Release --project samples/FashionMnist -- "$@"
fi
dotnet build samples/VitPretraining -c Release --nologo -v quiet
start=$SECONDS
dotnet samples/VitPretraining/bin/Release/net10.0/VitPretraining.dll --preset main --methods full,lora,lte --spectra --out out/main "$@"
echo "main: done in $((SECONDS - start)) s; report: $(pwd)/out/main/report.md"
