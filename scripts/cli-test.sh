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
# Every sample program: each project folder of samples/ but Common, the library they share (samples/Directory.Build.props).
samples=()
for project in "$root"/samples/*/*.csproj; do
  name=$(basename "$(dirname "$project")")
  [[ $name == Common ]] || samples+=("$name")
done
(( ${#samples[@]} > 0 )) || fail "no sample program found under $root/samples"
for sample in "${samples[@]}"; do
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
expect VitPretraining 1 --grid --grid-heads 2,x; one_line "--grid-heads 2,x" "--grid-heads: 'x' is not a whole number >= 1"
expect VitPretraining 1 --methods ""; one_line "--methods \"\"" "--methods is empty and --grid not given: nothing to train"
expect OverparamExperiments 1 gramm; one_line "gramm" "did you mean gram?"
expect DistributedLte 1 --steps many; one_line "--steps many" "Cannot parse argument 'many'"
# An error found after parsing (ArgumentException): one line too.
expect DistributedLte 1 --mode ddp --elastic; one_line "--mode ddp --elastic" "--elastic needs --mode lte"
expect ModelMerging 1 --draws 0; one_line "--draws 0" "--draws 0: must be at least 1"
expect PlatonicAlignment 1 --preset tiny --k 100; one_line "--k 100" "--k 100: must lie in [1, subset − 1] = [1, 99]"
expect PlatonicAlignment 1 --seeds 1,x; one_line "--seeds 1,x" "--seeds 1,x: must list distinct non-negative integers"
expect LoraVariants 1 --methods lora,dorra; one_line "--methods lora,dorra" "did you mean dora?"
expect LoraVariants 1 --seeds 1; one_line "--seeds 1" "--seeds 1: must be at least 2"
expect LoraVariants 1 --checkpoint no-such-file.pt; one_line "--checkpoint no-such-file.pt" "no-such-file.pt: no such file"
expect TransferLearning 1 --seeds 0; one_line "--seeds 0" "--seeds 0: must be at least 1"
expect LeastSquaresMerge 1 --seeds 0; one_line "LeastSquaresMerge --seeds 0" "--seeds 0: must be at least 1"
expect TransferLearning 1 --models /nonexistent; one_line "--models /nonexistent" "--models /nonexistent: no such folder"
# The weight-analysis tool: the same rules.
expect lowrankbias 0 spectra --help; grep -q "^Usage:" "$tmp/log" || fail "lowrankbias spectra --help printed no usage"
[[ -z $(ls -A "$tmp/cwd") ]] || fail "lowrankbias spectra --help wrote $(ls -A "$tmp/cwd")"
expect lowrankbias 1 spectrum model.pt; one_line "lowrankbias spectrum" "spectrum"
expect lowrankbias 1 spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --min-dim 0; one_line "lowrankbias --min-dim 0" "--min-dim: 0 is not a positive number"
expect lowrankbias 1 spectra no-such-file.safetensors; one_line "lowrankbias spectra no-such-file" "no-such-file"
for command in analyze compare; do
  expect lowrankbias 0 $command --help; grep -q "^Usage:" "$tmp/log" || fail "lowrankbias $command --help printed no usage"
  [[ -z $(ls -A "$tmp/cwd") ]] || fail "lowrankbias $command --help wrote $(ls -A "$tmp/cwd")"
done
ww="$root/tests/fixtures/weightwatcher/ww_input.pt"
expect lowrankbias 1 analyse "$ww"; one_line "lowrankbias analyse" "analyse"
expect lowrankbias 1 analyze "$ww" --min-evals 0; one_line "lowrankbias analyze --min-evals 0" "--min-evals: 0 is not a positive number"
expect lowrankbias 1 analyze "$ww" --min-evals 20 --max-evals 10; one_line "--min-evals 20 --max-evals 10" "--min-evals 20 exceeds --max-evals 10"
expect lowrankbias 1 analyze "$ww" --min-evals 1 --max-evals 2; one_line "analyze with no layer left" "no 2-D or 4-D floating-point weight"
[[ -z $(ls -A "$tmp/cwd") ]] || fail "a refused analyze wrote $(ls -A "$tmp/cwd")"
expect lowrankbias 1 compare "$ww" "$ww" --threshold 2; one_line "lowrankbias compare --threshold 2" "--threshold: 2 does not lie in (0, 1]"
expect lowrankbias 1 compare "$ww" "$root/tests/fixtures/pretrained/torchvision_vit.pt"; one_line "compare of different models" "do not hold the same weight matrices"
mkdir "$tmp/sharded"; echo '{"weight_map": {"a.weight": "model-00001-of-00002.safetensors"}}' >"$tmp/sharded/model.safetensors.index.json"
expect lowrankbias 1 analyze "$tmp/sharded"; one_line "a shard index naming a missing shard" "names the shard model-00001-of-00002.safetensors"
[[ -z $(ls -A "$tmp/cwd") ]] || fail "analyze of a broken shard index wrote $(ls -A "$tmp/cwd")"
expect lowrankbias 0 analyze "$ww" --no-plots
[[ -f $tmp/cwd/out/analyze/ww_input/details.csv && -f $tmp/cwd/out/analyze/ww_input/report.html ]] || fail "analyze did not write out/analyze/ww_input/"
expect lowrankbias 0 compare "$ww" "$ww"
[[ -f $tmp/cwd/out/compare/ww_input-ww_input/compare.json ]] || fail "compare did not write out/compare/ww_input-ww_input/"
# Outputs that cannot be written, input that is no file, a failed distributed job: one line each, no stack trace.
touch "$tmp/a-file"
expect LeastSquaresMerge 1 --preset tiny --out "$tmp/a-file"; one_line "--out naming a file" "the output folder $tmp/a-file is a file"
expect LeastSquaresMerge 1 --preset tiny --out "$tmp/a-file/sub"; one_line "--out under a file" "cannot create the output folder $tmp/a-file/sub"
expect LeastSquaresMerge 1 --preset tiny --out /proc/lrb-cli-test; one_line "--out under /proc" "cannot create the output folder /proc/lrb-cli-test"
expect lowrankbias 1 spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --out "$tmp/a-file"; one_line "lowrankbias --out naming a file" "is a file"
expect DistributedLte 1 --steps -5; one_line "--steps -5" "--steps -5: must be at least 1"
expect DistributedLte 1 --timeout 0; one_line "--timeout 0" "--timeout 0: must be at least 1"
expect LoraFineTuning 1 --checkpoint /tmp; one_line "--checkpoint /tmp" "--checkpoint /tmp is a folder"
expect LoraVariants 1 --checkpoint /tmp; one_line "LoraVariants --checkpoint /tmp" "--checkpoint /tmp is a folder"
expect lowrankbias 1 spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --min-dim abc; one_line "lowrankbias --min-dim abc" "Cannot parse argument 'abc' for option '--min-dim'"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port expect DistributedLte 1 --mode ddp --train 512 --timeout 2
one_line "a rank whose master never comes" "could not reach the rendezvous store at 127.0.0.1:$port within 2 s"
# A result file is replaced whole, never written in place: writing through an existing spectra.json that leads to a
# full disk (/dev/full: every write fails with ENOSPC) would fail, and leave it truncated.
mkdir "$tmp/spectra"; ln -s /dev/full "$tmp/spectra/spectra.json"
expect lowrankbias 0 spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --out "$tmp/spectra"
[[ -f $tmp/spectra/spectra.json && ! -L $tmp/spectra/spectra.json ]] && grep -q '"layers"' "$tmp/spectra/spectra.json" || fail "spectra.json was not replaced whole"
# An ONNX model: its initializers are the tensors, convolution kernels among the matrices; a truncated one is one line.
expect lowrankbias 0 spectra "$root/tests/fixtures/onnx/cnn_opset13.onnx" --out "$tmp/onnx"
grep -q '"conv1.weight"' "$tmp/onnx/spectra.json" || fail "spectra of an ONNX model did not list conv1.weight"
head -c 3000 "$root/tests/fixtures/onnx/cnn_opset13.onnx" >"$tmp/truncated.onnx"
expect lowrankbias 1 spectra "$tmp/truncated.onnx"; one_line "lowrankbias spectra truncated.onnx" "ONNX model"
# A stopped rank (SIGSTOP: its sockets stay open, it just goes silent) fails the job after --timeout seconds. The job
# carries a marker in its environment (inherited by its ranks) so that rank 1 can be found; `timeout` bounds it all.
log="$tmp/stopped.log"
(cd "$tmp" && LRB_CLI_TEST_JOB=$$ exec timeout 60 dotnet "$root/samples/DistributedLte/bin/Release/net10.0/DistributedLte.dll" \
  --nproc-per-node 2 --mode ddp --train 512 --batch 32 --steps 1000000 --timeout 3 --out "$tmp/stopped") >"$log" 2>&1 &
job=$!
for _ in $(seq 600); do grep -q "step 50/" "$log" && break; sleep 0.1; done
rank1() {
  local environ vars
  for environ in /proc/[0-9]*/environ; do
    vars=$({ tr '\0' '\n' <"$environ"; } 2>/dev/null) || continue
    grep -qx "LRB_CLI_TEST_JOB=$$" <<<"$vars" && grep -qx RANK=1 <<<"$vars" && basename "$(dirname "$environ")"
  done
}
stopped=$(rank1 || true)
[[ -n $stopped ]] && grep -q "step 50/" "$log" || { cat "$log"; kill "$job"; fail "the 2-rank job did not start training"; }
kill -STOP $stopped
started=$SECONDS; code=0; wait "$job" || code=$?
kill -KILL $stopped 2>/dev/null || true # the launcher stops it; this only cleans up if it could not
[[ $code == 1 ]] || { cat "$log"; fail "a stopped rank: launcher exit code $code, expected 1"; }
(( SECONDS - started <= 20 )) || fail "a stopped rank was noticed after $((SECONDS - started)) s (--timeout 3)"
grep -q "rank 0 of 2: all_reduce failed (a peer died, or did not answer within 3 s)" "$log" || { cat "$log"; fail "a stopped rank: no timeout message"; }
grep "   at " "$log" && fail "a stopped rank: stack trace"
# Default output: out/<sample>/<preset>/ in the working folder, nothing under docs/.
expect LeastSquaresMerge 0 --preset tiny
[[ -s $tmp/cwd/out/least-squares-merge/tiny/lte-least-squares.csv ]] || fail "LeastSquaresMerge wrote $(cd "$tmp/cwd" && find . -type f)"
[[ ! -e $tmp/cwd/docs ]] || fail "LeastSquaresMerge wrote under docs/"
echo "cli: --help runs nothing, typos, bad values, unwritable outputs and failed distributed jobs exit 1 with one line, a stopped rank fails the job after --timeout, default output under out/ (every sample and the lowrankbias tool: spectra, analyze, compare)"
