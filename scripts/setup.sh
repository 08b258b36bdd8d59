#!/usr/bin/env bash
# Installs what building, testing and the samples need (chromium: the test that renders lowrankbias's report.html);
# does nothing when everything is already there.
# Usage: bash scripts/setup.sh [--bench]   (--bench adds Debian's python3-torch for the side-by-side benchmarks)
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread cmake g++ libgloo-dev dataset-fashion-mnist fonts-dejavu-core chromium)
[[ "${1:-}" == "--bench" ]] && packages+=(python3-torch)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required and was not found on PATH" >&2; exit 1; }
echo "setup: ready (libtorch $(dpkg-query -W -f='${Version}' libtorch-dev), dotnet $(dotnet --version))"
