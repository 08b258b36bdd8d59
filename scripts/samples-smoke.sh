#!/usr/bin/env bash
# Runs every sample end to end on a tiny budget (seconds each) into a temporary folder and checks that each wrote
# its outputs. Part of the test command, so CI proves the samples work; the numbers themselves mean nothing here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
run() { local name=$1; shift; echo "sample $name: $*"; dotnet "$root/samples/$name/bin/Release/net10.0/$name.dll" "$@" >"$out/$name.log" 2>&1 || { cat "$out/$name.log"; echo "sample $name FAILED"; exit 1; }; }
expect() { for f in "$@"; do [[ -s "$out/$f" ]] || { echo "missing output $f"; exit 1; }; done; }
# Each sample takes its own arguments, so the runs below are listed by hand; a sample folder without one fails here.
# GpuCheck is the exception: it needs a GPU (scripts/gpu-check.sh); Common is the library the samples share.
for project in "$root"/samples/*/*.csproj; do
  name=$(basename "$(dirname "$project")")
  [[ $name == Common || $name == GpuCheck ]] && continue
  grep -Eq "(^|[ ;])run $name( |$)" "${BASH_SOURCE[0]}" || { echo "samples-smoke.sh runs no sample $name: add a 'run $name ...' line"; exit 1; }
done

# The weight-analysis tool on a committed torchvision checkpoint.
echo "tool lowrankbias spectra"
dotnet "$root/tools/LowRankBias.Tool/bin/Release/net10.0/LowRankBias.Tool.dll" spectra "$root/tests/fixtures/pretrained/torchvision_vit.pt" --out "$out/spectra" >"$out/spectra.log" 2>&1 || { cat "$out/spectra.log"; echo "tool spectra FAILED"; exit 1; }
expect spectra/spectra.csv spectra/spectra.json spectra/ranks.svg spectra/alpha.svg
run LoraFineTuning --checkpoint "$root/tests/fixtures/pretrained/torchvision_vit.pt" --num-heads 2 --steps 3 --test 500 --out "$out/lora-finetuning"
expect lora-finetuning/adapter/adapter_model.safetensors lora-finetuning/adapter/adapter_config.json lora-finetuning/roundtrip.safetensors lora-finetuning/summary.md \
  lora-finetuning/finetuned_torchvision.pt
run LoraVariants --preset tiny --out "$out/lora-variants"
expect lora-variants/summary.md lora-variants/transfer.md lora-variants/transfer-curves.csv lora-variants/transfer-runs.csv lora-variants/accuracy-vs-samples.png \
  lora-variants/accuracy-vs-samples.svg lora-variants/final-accuracy.svg lora-variants/merging.md lora-variants/merging.csv lora-variants/merging.svg \
  lora-variants/base-classes-0-4-4-steps.pt lora-variants/base-classes-0-9-4-steps.pt
run FashionMnist cnn --epochs 1 --max-steps 3 --out "$out/fashion-mnist"
expect fashion-mnist/cnn/metrics.csv fashion-mnist/cnn/accuracy.svg fashion-mnist/cnn/loss.svg
run LeastSquaresMerge --preset tiny --out "$out/least-squares-merge"
expect least-squares-merge/lte-least-squares.csv least-squares-merge/lte-least-squares.svg
run OverparamExperiments all --preset tiny --out "$out/overparam"
expect overparam/least_squares.svg overparam/random_rank_linear.svg overparam/cnn_fashion_mnist.md overparam/training-loss.png overparam/gram_spectrum_original.svg \
  overparam/gram_spectrum_overparam.svg overparam/gram_spectrum.md
# Figure 2.1's thesis setting (ReLU networks, a width, seeds, a rate grid), and figure 2.7 after the cnn runs it reads its rates from.
run OverparamExperiments least-squares --preset tiny --activation relu --width 6 --steps 20 --seeds 2 --lrs 0.1,0.03 --out "$out/overparam-relu"
expect overparam-relu/least_squares.csv overparam-relu/least_squares.svg
grep -q '^relu,6,20,0.1;0.03,4,6,1,' "$out/overparam-relu/least_squares.csv" || { echo "least squares --width 6 --seeds 2: no row for depth 4, rank 6, seed 1"; exit 1; }
# Table 2.1 in parts: a convolution expansion and more seeds for two configurations; the runs recorded before are kept.
run OverparamExperiments cnn --preset tiny --configs "original,conv ×2" --seeds 2 --out "$out/overparam"
for row in '^original,[^,]*,1,' '^conv ×2,[^,]*,1,' '^FC ×2,[^,]*,0,'; do
  grep -q "$row" "$out/overparam/cnn_fashion_mnist.csv" || { echo "cnn --configs/--seeds: no row matching $row"; exit 1; }
done
# A rerun that does not reach a recorded run (fewer seeds here; a stopped run in practice) keeps it in the files.
run OverparamExperiments cnn --preset tiny --configs "original" --seeds 1 --out "$out/overparam"
grep -q '^original,[^,]*,1,' "$out/overparam/cnn_fashion_mnist.csv" || { echo "cnn --seeds 1: the recorded seed-1 run was dropped"; exit 1; }
run VitPretraining --preset tiny --grid --out "$out/vit"
expect vit/curves.csv vit/summary.md vit/grid.csv vit/accuracy-vs-samples.svg vit/accuracy-vs-samples-per-device.svg vit/head-similarity.svg
# The LTE merge controller, rank per layer and head resets (issue 37) on the same tiny grid.
run VitPretraining --preset tiny --methods lte --grid --merge-policy adaptive --merge-min 1 --merge-max 4 --merge-cosine-below 0.3 --merge-norm-budget 0.05 \
  --reseed-above 0.9 --rank-policy adaptive --rank-min 2 --rank-max 8 --seed 1 --out "$out/vit-adaptive"
expect vit-adaptive/curves.csv vit-adaptive/grid.csv
# The grid alone, restricted to one cell, evaluated twice (issue 37's experiment in miniature).
run VitPretraining --preset tiny --methods "" --grid --grid-heads 2 --grid-ranks 4 --grid-evaluations 2 --out "$out/vit-grid-only"
expect vit-grid-only/grid.csv vit-grid-only/grid-curves.csv
[[ $(grep -c '^2,4,' "$out/vit-grid-only/grid-curves.csv") == 2 && ! -e "$out/vit-grid-only/curves.csv" ]] || { echo "grid only: expected 2 evaluations of the one cell and no curves.csv"; exit 1; }
run ModelMerging --preset tiny --out "$out/merging"
expect merging/merging.csv merging/summary.md merging/merging-loss.svg merging/stable-rank.svg merging/weight-decay-sweep.svg
# ML.NET's ImageNet ResNet-18 (from its NuGet package) fine-tuned every way, 2 steps each; the merged LoRA model re-scored in ONNX Runtime.
run TransferLearning --preset tiny --out "$out/transfer"
expect transfer/summary.md transfer/curves.csv transfer/runs.csv transfer/accuracy-vs-samples.png transfer/accuracy-vs-samples.svg transfer/spectra.csv \
  transfer/delta-effective-rank.svg transfer/delta-singular-values.svg transfer/onnx.md transfer/best-lora-merged.onnx
run Grokking --preset tiny --out "$out/grokking"
expect grokking/grokking.csv grokking/summary.md grokking/accuracy.svg grokking/effective-rank.svg grokking/data30-wd1/spectral.jsonl \
  grokking/data30-wd1/singular-values.svg grokking/data30-wd1/alignment-diagonal.svg grokking/data30-wd1/effective-rank.svg
run PlatonicAlignment --preset tiny --out "$out/platonic"
expect platonic/models.csv platonic/alignment.csv platonic/alignment-to-strongest.csv platonic/alignment-to-imagenet.csv platonic/summary.md platonic/alignment-vs-accuracy.svg \
  platonic/alignment-matrix.svg platonic/alignment-to-strongest.png
run SpectralDynamics --preset tiny --out "$out/spectral"
expect spectral/spectral-dynamics.csv spectral/summary.md spectral/effective-rank.svg spectral/pruning.svg spectral/wd0/effective-rank.svg \
  spectral/wd0/alignment.svg spectral/wd0/agreement.svg spectral/memorisation.csv spectral/memorisation-rank.svg
# Another seed is another run (initialisation, data order, random labels), not the same numbers under a new name.
run SpectralDynamics memorisation --preset tiny --seed 1 --out "$out/spectral-s1"
cmp -s "$out/spectral/memorisation.csv" "$out/spectral-s1/memorisation.csv" && { echo "SpectralDynamics --seed 1 wrote seed 0's numbers"; exit 1; }
# The GPT half needs the Shakespeare text of shared/data (beside the repository); without it only the Mixer runs.
text="$root/../shared/data/tinyshakespeare.txt"
if [[ -f $text ]]; then run LteArchitectures all --preset tiny --text "$text" --out "$out/lte-arch"; expect lte-arch/gpt.svg
else echo "no $text: LteArchitectures runs the Mixer only"; run LteArchitectures mixer --preset tiny --out "$out/lte-arch"; fi
expect lte-arch/curves.csv lte-arch/summary.md lte-arch/mixer.svg
# Distributed LTE in 2 processes over Gloo (launched like torchrun) must end with the single-device run's weights.
run DistributedLte --mode single --dtype float64 --steps 12 --train 512 --batch 32 --merge-every 4 --out "$out/dist"
run DistributedLte --nproc-per-node 2 --mode lte --dtype float64 --steps 12 --train 512 --batch 32 --merge-every 4 --out "$out/dist"
# ... and with the merge controller (issue 37), every rank deciding alike.
run DistributedLte --nproc-per-node 2 --mode lte --dtype float64 --steps 12 --train 512 --batch 32 --merge-policy adaptive --merge-min 2 --merge-max 5 \
  --merge-norm-budget 0.01 --out "$out/dist-adaptive"
run DistributedLte --nproc-per-node 2 --mode ddp --steps 12 --train 512 --batch 32 --out "$out/dist"
expect dist/single-w1.json dist/lte-w2.json dist/ddp-w2.json dist/lte-w2-loopback.json
python3 - "$out/dist" <<'PY'
import json, sys
single, lte = (json.load(open(f"{sys.argv[1]}/{n}.json"))["WeightsDigest"] for n in ("single-w1", "lte-w2"))
assert abs(single - lte) <= 1e-10 * abs(single), f"2-process LTE digest {lte} differs from single-device {single}"
print(f"distributed LTE in 2 processes reproduces the single-device weights (digest {lte:.12g})")
PY
# Fault tolerance: rank 2 of 4 is SIGKILLed mid-cycle. The elastic survivors re-form and finish; with a restart the
# launcher starts rank 2 again and it rejoins at the next merge. Either way the test loss stays within 5% of an
# undisturbed run's, the dead rank's log keeps every step it wrote, and the last merge checkpoint is whole.
elastic=(--nproc-per-node 4 --mode lte --elastic --steps 24 --train 1024 --batch 64 --merge-every 4)
run DistributedLte "${elastic[@]}" --out "$out/undisturbed"
run DistributedLte "${elastic[@]}" --fail-rank 2 --fail-at-step 10 --out "$out/killed"
run DistributedLte "${elastic[@]}" --fail-rank 2 --fail-at-step 10 --max-restarts 1 --out "$out/restarted"
python3 - "$out" <<'PY'
import json, struct, sys
root = sys.argv[1]
undisturbed = json.load(open(f"{root}/undisturbed/lte-w4.json"))
for run, heads, generation, rank2_steps in (("killed", 3, 1, list(range(1, 11))), ("restarted", 4, 2, list(range(1, 11)) + list(range(13, 25)))):
    report = json.load(open(f"{root}/{run}/lte-w4.json"))
    assert (report["HeadsAlive"], report["Generation"]) == (heads, generation), f"{run}: expected {heads} heads in generation {generation}, got {report}"
    gap = abs(report["TestLoss"] - undisturbed["TestLoss"]) / undisturbed["TestLoss"]
    assert gap <= 0.05, f"{run}: test loss {report['TestLoss']} is {gap:.1%} off the undisturbed {undisturbed['TestLoss']}"
    steps = [[json.loads(l)["step"] for l in open(f"{root}/{run}/lte-w4-rank{r}.jsonl")] for r in range(4)]
    assert steps == [list(range(1, 25))] * 2 + [rank2_steps, list(range(1, 25))], f"{run}: step logs hold {steps}"
    with open(f"{root}/{run}/lte-merge-checkpoint.safetensors", "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); body = len(f.read())
    assert header["__metadata__"]["merges"] == "6" and body == max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    print(f"rank 2 of 4 killed at step 10, {run}: {heads} heads at the end, test loss {report['TestLoss']:.4f} vs {undisturbed['TestLoss']:.4f} undisturbed ({gap:.2%}); logs and checkpoint intact")
PY
# Every committed figure re-renders from its recorded data (into a copy of docs/results).
cp -r "$root/docs/results" "$out/results"
run Figures --results "$out/results"
expect results/lte-least-squares.png results/vit-long/train-loss.png results/grokking/data30-wd1/alignment-diagonal.png results/lte-grid/grid.png results/overparam-sgd-15-epochs/learning-rate.png results/overparam-converged/learning-rate.png
echo "samples: all ran and wrote their outputs"
