#!/usr/bin/env bash
# Builds everything, runs the whole test suite, the package consumer test and every sample on a tiny budget (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build LowRankBias.sln -c Release --nologo -v quiet
log=$(mktemp)
status=0
dotnet test LowRankBias.sln -c Release --no-build --nologo 2>&1 | tee "$log" || status=$?
# The packed library, used from a project outside the solution as a consumer would.
bash scripts/consumer-test.sh || status=$?
# Every sample end to end on a tiny budget, and their command lines (help, typos, bad values, default output).
bash scripts/samples-smoke.sh || status=$?
bash scripts/cli-test.sh || status=$?
# A clone under a path containing /src/ builds too.
bash scripts/src-path-test.sh || status=$?
# One closing line over all test projects: "N passed, N failed, N skipped".
awk '/(Passed|Failed)!  - Failed:/ { gsub(",", ""); f += $4; p += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
