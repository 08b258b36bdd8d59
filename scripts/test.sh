#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build LowRankBias.sln -c Release --nologo -v quiet
dotnet test LowRankBias.sln -c Release --no-build --nologo
