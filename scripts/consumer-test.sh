#!/usr/bin/env bash
# A consumer's first hour, in CI: packs LowRankBias, LowRankBias.Torch and LowRankBias.Onnx into a local folder feed, copies
# tests/Consumer (a console project outside the solution) to a fresh directory, restores the packages from that
# feed (and the machine's usual NuGet sources for their dependencies) into a private package folder, and runs it: it trains with LoRA and LTE
# on CPU, saves and reloads an adapter, computes spectral metrics, imports an exported ONNX model and trains LoRA on it,
# and exits 0 only if all of that behaved.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")"

for project in LowRankBias.Torch LowRankBias LowRankBias.Onnx; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$work/feed" --nologo -v quiet
done
cp -r "$root/tests/Consumer" "$work/app"
cd "$work/app"
# The local feed is added to the sources the user's NuGet configuration already has.
cat >nuget.config <<CONFIG
<configuration><packageSources><add key="lowrankbias-local" value="$work/feed" /></packageSources></configuration>
CONFIG
dotnet restore -p:LowRankBiasVersion="$version" --packages "$work/packages" --nologo -v quiet
LRB_CONSUMER_ONNX="$root/tests/fixtures/onnx/mlp_opset13.onnx" dotnet run -c Release --no-restore -p:LowRankBiasVersion="$version" --nologo

# Without its native bridge, or with one that cannot be loaded, the app must fail with the one clear message that
# names where it looked and how to fix it — not with a bare DllNotFoundException from deep inside.
app="$(find "$work/app/bin/Release" -name Consumer.dll -printf '%h\n' | head -1)"
for broken in missing unloadable; do
  cp -r "$app" "$work/$broken"
  find "$work/$broken" -name libLowRankBiasNative.so -delete
  [[ $broken == unloadable ]] && echo "not a shared library" >"$work/$broken/libLowRankBiasNative.so"
  if dotnet "$work/$broken/Consumer.dll" >"$work/$broken.log" 2>&1; then echo "consumer: ran without a loadable native bridge"; exit 1; fi
  for phrase in "could not load its native bridge libLowRankBiasNative.so" "Looked in:" "Fix: install libtorch" "LRB_TORCH_DIR"; do
    grep -qF "$phrase" "$work/$broken.log" || { cat "$work/$broken.log"; echo "consumer ($broken bridge): message lacks '$phrase'"; exit 1; }
  done
done
echo "consumer: a missing or unloadable native bridge gives the clear message"
