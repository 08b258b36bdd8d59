#!/usr/bin/env bash
# Every sample behaves like a real program (part of the test command): --help prints usage and runs nothing, a typo
# and a bad value each exit 1 with one line and no stack trace, and results go to out/<sample>/ — never under docs/ —
# unless --out says otherwise. Each program runs in an empty folder, so anything it writes shows.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cli: $*"; exit 1; }
# expect NAME CODE ARGS...: runs the sample in a fresh empty folder, checks its exit code, leaves its output in $tmp/log.
expect() {
  local name=$1 code=$2; shift 2
  rm -rf "$tmp/cwd"; mkdir "$tmp/cwd"
  local actual=0
  local dll="$root/samples/$name/bin/Release/net10.0/$name.dll"
  [[ $name == lowrankbias ]] && dll="$root/tools/LowRankBias.Tool/bin/Release/net10.0/LowRankBias.Tool.dll"
  (cd "$tmp/cwd" && dotnet "$dll" "$@") >"$tmp/log" 2>&1 || actual=$?
  [[ $actual == "$code" ]] || { cat "$tmp/log"; fail "$name $*: exit code $actual, expected $code"; }
}
one_line() {
  [[ $(wc -l <"$tmp/log") == 1 ]] || { cat "$tmp/log"; fail "$1: expected one line"; }
  grep -q "   at " "$tmp/log" && fail "$1: stack trace"
  grep -qF -- "$2" "$tmp/log" || { cat "$tmp/log"; fail "$1: expected '$2'"; }
}
for sample in DistributedLte Figures FashionMnist GpuCheck Grokking LeastSquaresMerge LoraFineTuning LteArchitectures ModelMerging OverparamExperiments SpectralDynamics VitPretraining; do
  for help in --help -h; do
    expect "$sample" 0 "$help"
    grep -q "^Usage:" "$tmp/log" || fail "$sample $help printed no usage"
    [[ -z $(ls -A "$tmp/cwd") ]] || fail "$sample $help wrote $(ls -A "$tmp/cwd")"
  done
  expect "$sample" 1 --no-such-option
  one_line "$sample --no-such-option" "unknown option or argument '--no-such-option'"
done
# Typos of option names and values get a suggestion; bad numbers a clear line.
expect Grokking 1 --preest tiny; one_line "--preest" "did you mean --preset?"
expect VitPretraining 1 --preset tny; one_line "--preset tny" "did you mean tiny?"
expect VitPretraining 1 --methods full,lorra; one_line "--methods full,lorra" "did you mean lora?"
expect OverparamExperiments 1 gramm; one_line "gramm" "did you mean gram?"
expect DistributedLte 1 --steps many; one_line "--steps many" "Cannot parse argument 'many'"
# An error found after parsing (ArgumentException): one line too.
expect DistributedLte 1 --mode ddp --elastic; one_line "--mode ddp --elastic" "--elastic needs --mode lte"
expect ModelMerging 1 --draws 0; one_line "--draws 0" "--draws 0: must be at least 1"
# The weight-analysis tool: the same rules.
expect lowrankbias 0 spectra --help; grep -q "^Usage:" "$tmp/log" || fail "lowrankbias spectra --help printed no usage"
[[ -z $(ls -A "$tmp/cwd") ]] || fail "lowrankbias spectra --help wrote $(ls -A "$tmp/cwd")"
expect lowrankbias 1 spectrum model.pt; one_line "lowrankbias spectrum" "spectrum"
expect lowrankbias 1 spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --min-dim 0; one_line "lowrankbias --min-dim 0" "--min-dim: 0 is not a positive number"
expect lowrankbias 1 spectra no-such-file.safetensors; one_line "lowrankbias spectra no-such-file" "no-such-file"
# Default output: out/<sample>/<preset>/ in the working folder, nothing under docs/.
expect LeastSquaresMerge 0 --preset tiny
[[ -s $tmp/cwd/out/least-squares-merge/tiny/lte-least-squares.csv ]] || fail "LeastSquaresMerge wrote $(cd "$tmp/cwd" && find . -type f)"
[[ ! -e $tmp/cwd/docs ]] || fail "LeastSquaresMerge wrote under docs/"
echo "cli: --help runs nothing, typos and bad values exit 1 with one line, default output under out/ (12 programs and the lowrankbias tool)"
