#!/usr/bin/env bash
# `lowrankbias analyze FILE` side by side with the numpy reference (analyze_numpy.py: WeightWatcher's CPU path) on the
# same safetensors file: wall and CPU seconds and peak RSS of each (/usr/bin/time -v), their ratio, the load average
# before and after, and the largest difference of the per-layer metrics (alpha, D, log norms, stable rank, MP fit).
#
#   benchmarks/compare/analyze_vs_numpy.sh model.safetensors [rounds]
#
# Ours runs without plots (as the reference) and once more with them. Needs the tool built
# (dotnet build tools/LowRankBias.Tool -c Release) and /usr/bin/python3 with numpy. Default threads for both (OpenBLAS
# and libtorch use every core); set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS to pin them.
# No ViT-B/16 offline? python3 benchmarks/compare/make_vit_b_16.py vit_b_16.safetensors (torchvision 0.14, random init).
set -euo pipefail
file=$(realpath "$1")
rounds=${2:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
tool="$root/tools/LowRankBias.Tool/bin/Release/net10.0/LowRankBias.Tool"
[[ -x $tool ]] || { echo "build the tool first: dotnet build tools/LowRankBias.Tool -c Release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, command...: one run under /usr/bin/time -v; prints "label wall cpu rss_mb"
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/$label.out" 2>"$work/$label.time"
  awk -v l="$label" -F': ' '/Elapsed/ {n=split($2,t,":"); w=t[n]+(n>1?60*t[n-1]:0)+(n>2?3600*t[n-2]:0)}
    /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2/1024}
    END {printf "%-16s wall %7.2f s  cpu %7.2f s  peak RSS %6.0f MB\n", l, w, u+s, r}' "$work/$label.time"
}

echo "file: $file ($(du -m "$file" | cut -f1) MB), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The runtime alone (a file with one small matrix): the RSS every run pays before the first weight.
python3 - "$work/small.safetensors" <<'EOF'
import json, struct, sys
h = json.dumps({"w": {"dtype": "F32", "shape": [16, 16], "data_offsets": [0, 1024]}}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + bytes(1024))
EOF
measure "ours (runtime)" "$tool" analyze "$work/small.safetensors" --out "$work/small" --no-plots
for round in $(seq "$rounds"); do
  measure "ours" "$tool" analyze "$file" --out "$work/ours" --no-plots
  measure "ours + plots" "$tool" analyze "$file" --out "$work/plots"
  measure "numpy" /usr/bin/python3 "$root/benchmarks/compare/analyze_numpy.py" "$file" "$work/numpy.csv"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work" <<'EOF'
import csv, math, re, sys
work = sys.argv[1]
def seconds(label, field):
    m = re.search(field + r".*?: (\S+)", open(f"{work}/{label}.time").read())
    v = m.group(1).split(":")
    return sum(float(x) * 60 ** i for i, x in enumerate(reversed(v)))
wall = {l: seconds(l, "Elapsed") for l in ["ours", "numpy"]}
print(f"numpy / ours (wall, last round): {wall['numpy'] / wall['ours']:.2f}x")
ours = {r["name"]: r for r in csv.DictReader(open(f"{work}/ours/details.csv"))}
ref = {r["name"]: r for r in csv.DictReader(open(f"{work}/numpy.csv"))}
assert ours.keys() == ref.keys(), (sorted(ours.keys() ^ ref.keys()))[:5]
worst = (0, "")
for name, r in ref.items():
    for k, v in r.items():
        if k == "name" or k not in ours[name]:
            continue
        a, b = float(v), float(ours[name][k])
        if not (math.isnan(a) and math.isnan(b)):
            d = abs(a - b) / max(abs(a), 1e-12)
            worst = max(worst, (d, f"{name} {k}: numpy {a!r}, ours {b!r}"))
print(f"{len(ref)} layers; largest relative difference of a metric: {worst[0]:.2e} ({worst[1]})")
EOF
