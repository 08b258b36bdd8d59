using System.Globalization;
using LowRankBias.Overparam;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using Spectre.Console;
using static LowRankBias.Torch.torch;

namespace OverparamExperiments;

/// <summary>
/// Thesis Tables 2.1 and 2.3 on Fashion-MNIST: the appendix-7.5 CNN as is, with its FC layers, its convolutions or
/// both linearly over-parameterised by factor d ∈ {2, 4, 8}, and with each explicit regulariser of Table 2.3; several
/// seeds each. The thesis' SGD with momentum 0.9 and learning rate 0.02 (the <c>full</c> preset) leaves this plain CNN
/// at chance for the first hundreds of steps, so the short presets use AdamW (lr 10⁻³, no weight decay, which would
/// act as a regulariser of its own). Either way the learning rate is stepped ×0.1 at 50% and 83% of training (the
/// thesis' 90 and 150 of 180 epochs), with random horizontal flips; the best test accuracy over the run is reported,
/// as in the thesis.
/// </summary>
internal static class CnnComparison
{
    internal sealed record Config(string Name, int Depth, ExpansionTargets Targets, Regularizer? Penalty, double Strength);

    // Regulariser strengths: the thesis gives none; these make each penalty's gradient comparable to the loss's at
    // initialisation (an untuned choice, stated in docs/results.md).
    private static readonly (Regularizer kind, double strength)[] Penalties =
    [
        (Regularizer.L1, 1e-5), (Regularizer.L2, 1e-3), (Regularizer.SquaredFrobenius, 5e-4),
        (Regularizer.NuclearNorm, 1e-4), (Regularizer.SpectralEntropy, 1e-3), (Regularizer.StableRank, 1e-3),
    ];

    public static void Run(Preset p, string outDir)
    {
        using TensorDataset trainAll = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
        using TensorDataset train = trainAll.Take(p.CnnTrainImages), test = testAll.Take(p.CnnTestImages);
        var configs = new List<Config> { new("original", 1, ExpansionTargets.All, null, 0) };
        foreach (int d in p.CnnFactors)
        {
            configs.Add(new($"FC ×{d}", d, ExpansionTargets.Linear, null, 0));
            configs.Add(new($"conv ×{d}", d, ExpansionTargets.Conv2d, null, 0));
            configs.Add(new($"both ×{d}", d, ExpansionTargets.All, null, 0));
        }
        configs.AddRange(Penalties.Select(r => new Config($"{r.kind} {r.strength:G2}", 1, ExpansionTargets.All, r.kind, r.strength)));

        var rows = new List<string> { "config,seed,best_test_accuracy,final_test_accuracy,seconds" };
        var results = new List<(Config config, double[] accuracies)>();
        foreach (Config config in configs)
        {
            var accuracies = new double[p.CnnSeeds];
            for (int seed = 0; seed < p.CnnSeeds; seed++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                (double best, double final) = Train(p, config, train, test, seed);
                accuracies[seed] = best;
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"{config.Name},{seed},{best:R},{final:R},{clock.Elapsed.TotalSeconds:F0}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cnn {config.Name,-22} seed {seed}: best test accuracy {100 * best:F2}% ({clock.Elapsed.TotalSeconds:F0} s)"));
            }
            results.Add((config, accuracies));
        }
        File.WriteAllLines(Path.Combine(outDir, "cnn_fashion_mnist.csv"), rows);
        Summarise(results, Path.Combine(outDir, "cnn_fashion_mnist.md"));
    }

    /// <summary>Trains one configuration; <paramref name="probe"/>, if given, sees the model at step 0 and every
    /// <paramref name="probeEvery"/> steps.</summary>
    internal static (double best, double final) Train(Preset p, Config config, TensorDataset train, TensorDataset test, int seed,
        Action<Module, long>? probe = null, long probeEvery = 0)
    {
        manual_seed((ulong)(100 + seed));
        using Module model = new ConvNet(ConvNet.Config.FashionMnist);
        if (config.Depth > 1) Overparam.Expand(model, new ExpansionOptions { Depth = config.Depth, Targets = config.Targets });
        var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: (ulong)seed);
        var flip = new RandomHorizontalFlip(seed: (ulong)seed);
        using Optimizer optimizer = p.CnnAdamW
            ? new AdamW(model.parameters(), lr: 1e-3, weight_decay: 0)
            : new SGD(model.parameters(), lr: 0.02, momentum: 0.9);
        long steps = p.CnnEpochs * loader.Count;
        var schedule = new MultiStepLR(optimizer, [steps / 2, 5 * steps / 6]);
        double best = 0, accuracy = 0;
        probe?.Invoke(model, 0);
        for (int epoch = 0; epoch < p.CnnEpochs; epoch++)
        {
            for (long i = 0; i < loader.Count; i++)
            {
                long step = epoch * loader.Count + i + 1;
                using var scope = NewDisposeScope();
                Tensor[] batch = loader.Next();
                Tensor loss = nn.functional.cross_entropy(model.call(flip.Apply(batch[0])), batch[1]);
                if (config.Penalty is { } kind)
                    loss = loss + config.Strength * Regularizers.Compute(kind, Overparam.EffectiveWeights(model).Select(w => w.weight));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                schedule.step();
                if (probe is not null && step % probeEvery == 0) probe(model, step);
            }
            accuracy = Accuracy(model, test);
            best = Math.Max(best, accuracy);
        }
        return (best, accuracy);
    }

    private static double Accuracy(Module model, TensorDataset test)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (Tensor[] batch in new DataLoader(test, batch_size: 1000))
        {
            using var scope = NewDisposeScope();
            correct += (model.call(batch[0]).argmax(1) == batch[1]).sum().item<long>();
        }
        model.train();
        return (double)correct / test.Count;
    }

    private static void Summarise(List<(Config config, double[] accuracies)> results, string path)
    {
        double baseline = results[0].accuracies.Average();
        var table = new Table().AddColumns("configuration", "best test accuracy (mean ± std)", "gain");
        var lines = new List<string> { "| configuration | best test accuracy (%) | gain |", "|---|---:|---:|" };
        foreach ((Config config, double[] a) in results)
        {
            double mean = 100 * a.Average(), std = 100 * Math.Sqrt(a.Select(x => (x - a.Average()) * (x - a.Average())).Sum() / Math.Max(1, a.Length - 1));
            string cell = string.Create(CultureInfo.InvariantCulture, $"{mean:F2} ± {std:F2}"), gain = string.Create(CultureInfo.InvariantCulture, $"{mean - 100 * baseline:+0.00;-0.00;0.00}");
            table.AddRow(config.Name, cell, gain);
            lines.Add($"| {config.Name} | {cell} | {gain} |");
        }
        AnsiConsole.Write(table);
        File.WriteAllLines(path, lines);
    }
}
