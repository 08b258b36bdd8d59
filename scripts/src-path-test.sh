#!/usr/bin/env bash
# Builds a clone of this repository kept under a path containing /src/ (e.g. ~/src/LowRankBias, the most common place):
# every project must still be told apart as library or not by its place in the repository, not by the absolute path.
# Kept cheap: the properties of every project are evaluated, and only a sample with its two libraries is compiled
# (the native bridge built by the main build is reused).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
clone="$tmp/src/LowRankBias"
git clone --quiet --no-hardlinks "$root" "$clone"
native="$root/src/LowRankBias.Native/obj/native/out/libLowRankBiasNative.so"
if [[ -f $native ]]; then mkdir -p "$clone/src/LowRankBias.Native/obj/native/out"; cp "$native" "$clone/src/LowRankBias.Native/obj/native/out/"; fi
cd "$clone"
for project in $(git ls-files '*.csproj'); do
  expected=false; [[ $project == src/* ]] && expected=true
  actual=$(dotnet msbuild "$project" -getProperty:TreatWarningsAsErrors | tr -d '[:space:]')
  [[ ${actual,,} == "$expected" ]] || { echo "src-path: $project under $clone: TreatWarningsAsErrors=$actual, expected $expected"; exit 1; }
done
dotnet build samples/LeastSquaresMerge -c Release --nologo -v quiet
echo "src-path: a clone under $clone builds (library projects strict, the others lenient)"
