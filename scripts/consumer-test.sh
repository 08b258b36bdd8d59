#!/usr/bin/env bash
# A consumer's first hour, in CI: packs LowRankBias and LowRankBias.Torch into a local folder feed, copies
# tests/Consumer (a console project outside the solution) to a fresh directory, restores the packages from that
# feed (and the machine's usual NuGet sources for their dependencies) into a private package folder, and runs it: it trains with LoRA and LTE
# on CPU, saves and reloads an adapter, computes spectral metrics, and exits 0 only if all of that behaved.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")"

for project in LowRankBias.Torch LowRankBias; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$work/feed" --nologo -v quiet
done
cp -r "$root/tests/Consumer" "$work/app"
cd "$work/app"
# The local feed is added to the sources the user's NuGet configuration already has.
cat >nuget.config <<CONFIG
<configuration><packageSources><add key="lowrankbias-local" value="$work/feed" /></packageSources></configuration>
CONFIG
dotnet restore -p:LowRankBiasVersion="$version" --packages "$work/packages" --nologo -v quiet
dotnet run -c Release --no-restore -p:LowRankBiasVersion="$version" --nologo
