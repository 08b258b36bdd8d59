using BenchmarkDotNet.Running;
using LowRankBias.Benchmarks;

// `--quick [iterations] [repeats]`: the per-op Stopwatch mode used by benchmarks/compare/per_op.sh.
// `--step MODEL [batch] [steps] [repeats]`: one training step, used by benchmarks/compare/train_step.sh.
// `--twin WORKLOAD DIR [steps]` (default: the workload's): our half of a PyTorch twin, used by benchmarks/compare/twin.sh.
// `--undisposed [iterations] [per thread]`: resident memory of loops that never dispose (docs/benchmarks.md).
// `--undisposed-training [steps] [loop]`: resident memory of training loops that keep each step's loss and logits.
// `--nonfinite-check [steps] [rounds]`: cost of the optimizer's non-finite gradient check, checked vs unchecked.
// `--quantization [steps] [repeats]`: bytes, round-trip error and LoRA step time of quantized base weights.
// `--dora [steps] [rounds]`: a DoRA training step against a LoRA one (ViT-Tiny, equal rank), interleaved.
// `--pissa-init [rounds] [rank]`: fast PiSSA (pissa_niter_4, randomized SVD) vs full-SVD PiSSA on a 768×3072 layer.
// `--resnet-inference [rounds] [images per round]`: ResNet-18 inference here vs ONNX Runtime on our ONNX export, interleaved.
// Anything else goes to BenchmarkDotNet, e.g. `-- --filter '*'`.
int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index]) : fallback;

switch (args.FirstOrDefault())
{
    case "--quick":
        QuickRunner.Run(Arg(1, 20_000), Arg(2, 15));
        break;
    case "--step" when args.Length > 1:
        TrainingStepRunner.Run(args[1], Arg(2, 128), Arg(3, 10), Arg(4, 3));
        break;
    case "--twin" when args.Length > 2:
        TwinRunner.Run(args[1], args[2], Arg(3, 0));
        break;
    case "--undisposed":
        UndisposedLoops.Run(Arg(1, 2000), Arg(2, 1_000_000));
        break;
    case "--undisposed-training":
        UndisposedLoops.RunTraining(Arg(1, 2000), args.ElementAtOrDefault(2));
        break;
    case "--nonfinite-check":
        NonFiniteCheckRunner.Run(Arg(1, 10), Arg(2, 7));
        break;
    case "--quantization":
        QuantizationRunner.Run(Arg(1, 5), Arg(2, 5));
        break;
    case "--dora":
        DoraRunner.Run(Arg(1, 5), Arg(2, 5));
        break;
    case "--pissa-init":
        PissaInitRunner.Run(Arg(1, 5), Arg(2, 16));
        break;
    case "--resnet-inference":
        ResNetInferenceRunner.Run(Arg(1, 5), Arg(2, 64));
        break;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(PerOpBenchmarks).Assembly).Run(args);
        break;
}
