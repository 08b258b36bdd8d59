using System.Diagnostics;
using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// `--pissa-init [rounds] [rank]`: what fast PiSSA saves. Adds a PiSSA adapter (rank 16 by default) to a float32
/// Linear(768 → 3072) — a ViT-B MLP layer — with <c>pissa_niter_4</c> (<see cref="svd_lowrank"/>) and with <c>pissa</c>
/// (full SVD) in interleaved rounds, each on a fresh copy of the same weight. Prints a Markdown table of the median ms
/// per init and the ratio fast / full (the goal: ≤ 0.2), and the relative Frobenius distance of the fast residual from
/// the optimal one.
/// </summary>
public static class PissaInitRunner
{
    public static void Run(int rounds, int rank)
    {
        manual_seed(0);
        using var source = new Linear(768, 3072);
        string[] inits = ["pissa_niter_4", LoraInit.Pissa];
        var times = inits.ToDictionary(i => i, _ => new List<double>());
        var residuals = new Dictionary<string, double>();
        for (int r = -1; r < rounds; r++) // round −1 warms up
            foreach (string init in inits)
            {
                using var scope = NewDisposeScope();
                var linear = new Linear(768, 3072);
                using (no_grad()) linear.weight.copy_(source.weight);
                var clock = Stopwatch.StartNew();
                using var lora = new LoraLinear(linear, new LoraConfig { r = rank, lora_alpha = rank, init_lora_weights = init });
                if (r >= 0) times[init].Add(clock.Elapsed.TotalMilliseconds);
                residuals[init] = linalg.matrix_norm(lora.weight).item<float>();
            }
        double fast = Median(times[inits[0]]), full = Median(times[inits[1]]);
        Console.WriteLine($"PiSSA init of Linear(768 -> 3072), rank {rank}, float32, {rounds} interleaved rounds, {get_num_threads()} threads");
        Console.WriteLine("| init | median ms | fast / full | residual ‖W_res‖_F |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| pissa_niter_4 | {fast:F1} | {fast / full:F3} | {residuals[inits[0]]:G6} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| pissa (full SVD) | {full:F1} | 1 | {residuals[inits[1]]:G6} |"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
