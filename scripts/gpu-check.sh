#!/usr/bin/env bash
# The GPU check, in two halves because GPU machines have PyTorch but no .NET SDK:
#   bash scripts/gpu-check.sh publish   # here (with .NET): self-contained, trimmed check program in out/gpu-check
#   bash scripts/gpu-check.sh run       # on the CUDA machine: builds the native bridge against its PyTorch, runs it
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-run}" in
  publish)
    bash scripts/setup.sh
    dotnet publish samples/GpuCheck -c Release -p:PublishForGpu=true --self-contained -p:PublishTrimmed=true \
      -o out/gpu-check --nologo -v quiet
    echo "published to out/gpu-check"
    ;;
  run)
    prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
    python3 -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
    cmake -S src/LowRankBias.Native -B /tmp/lrb-native-gpu -DLRB_TORCH_DIR="$prefix" -DCMAKE_BUILD_TYPE=Release >/tmp/lrb-cmake.log
    cmake --build /tmp/lrb-native-gpu -j "$(nproc)" >/tmp/lrb-build.log
    LRB_NATIVE_PATH=/tmp/lrb-native-gpu/out/libLowRankBiasNative.so out/gpu-check/GpuCheck
    ;;
  *) echo "usage: $0 publish|run" >&2; exit 2 ;;
esac
