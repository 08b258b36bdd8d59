using System.Diagnostics;
using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// `--nonfinite-check [steps] [rounds]`: what <see cref="Optimizer.error_if_nonfinite"/> (on by default) costs. Two
/// optimizers on identical copies of a model, one checking, one not, step in interleaved rounds: an AdamW step alone
/// (fixed gradients) on ViT-S and on 100 tensors of 1,000 values, and a whole ViT-Tiny training step (batch 128).
/// Prints a Markdown table of the median ms per step over the rounds and the ratio checked / unchecked.
/// </summary>
public static class NonFiniteCheckRunner
{
    public static void Run(int steps, int rounds)
    {
        Console.WriteLine("| workload | checked ms/step | unchecked ms/step | checked / unchecked |");
        Console.WriteLine("|---|---:|---:|---:|");
        Report("AdamW step, ViT-S (28×28, patch 4)", steps, rounds, () => TrainingStepRunner.Build("vit-s"), wholeStep: false);
        Report("AdamW step, 100 tensors × 1,000", steps, rounds, () => new SmallTensors(), wholeStep: false);
        Report("training step, ViT-Tiny, batch 128", steps, rounds, () => TrainingStepRunner.Build("vit-tiny"), wholeStep: true);
    }

    private static void Report(string name, int steps, int rounds, Func<Module> build, bool wholeStep)
    {
        var sides = new[] { true, false }.Select(check => Side(build, check, wholeStep)).ToArray();
        var times = new[] { new List<double>(), new List<double>() };
        foreach (var side in sides) side.step(); // warm-up
        for (int r = 0; r < rounds; r++)
            for (int s = 0; s < 2; s++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < steps; i++) sides[s].step();
                times[s].Add(clock.Elapsed.TotalMilliseconds / steps);
            }
        double on = Median(times[0]), off = Median(times[1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {on:F2} | {off:F2} | {on / off:F2} |"));
        foreach (var side in sides) side.dispose();
    }

    private static (Action step, Action dispose) Side(Func<Module> build, bool check, bool wholeStep)
    {
        manual_seed(0);
        Module model = build();
        Tensor[] parameters = model.parameters().ToArray();
        var optimizer = new AdamW(parameters, lr: 1e-4) { error_if_nonfinite = check };
        using (no_grad())
            foreach (Tensor p in parameters) p.grad = randn_like(p) * 1e-3;
        Tensor images = randn([128, 1, 28, 28]), labels = randint(0, 10, [128]);
        void Step()
        {
            using var scope = NewDisposeScope();
            if (wholeStep)
            {
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(images), labels).backward();
            }
            optimizer.step();
        }
        return (Step, () => { optimizer.Dispose(); model.Dispose(); images.Dispose(); labels.Dispose(); });
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>100 parameters of 1,000 values: a model of many small tensors, where a per-tensor cost shows.</summary>
    private sealed class SmallTensors : Module
    {
        public SmallTensors()
        {
            for (int i = 0; i < 100; i++) register_parameter($"p{i}", randn([1000]));
        }
    }
}
