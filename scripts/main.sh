#!/usr/bin/env bash
# The main job (the README's first command): trains on Fashion-MNIST on CPU and prints test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet run -c Release --project samples/FashionMnist -- "$@"
