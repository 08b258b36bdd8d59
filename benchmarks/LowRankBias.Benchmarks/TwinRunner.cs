using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// Our half of benchmarks/compare/twin.sh: trains a workload and writes what a PyTorch twin needs to train the same
/// thing — the initial weights (<c>init.safetensors</c>), the data in the order it is used (<c>data.safetensors</c>) —
/// and our loss after every step (<c>ours.csv</c>). twin_pytorch.py then trains from those files and compares losses.
/// "grokking": the Grokking sample's setting (Nanda et al.: one-layer transformer, p = 113, 30 % of the pairs, full
/// batch, AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1, cross-entropy on the answer token taken in float64).
/// </summary>
public static class TwinRunner
{
    /// <summary>Runs <paramref name="workload"/> for <paramref name="steps"/> steps, writing into <paramref name="directory"/>.</summary>
    public static void Run(string workload, string directory, int steps)
    {
        Directory.CreateDirectory(directory);
        manual_seed(0);
        double[] losses = workload switch
        {
            "grokking" => Grokking(directory, steps),
            _ => throw new ArgumentException($"unknown twin workload '{workload}': expected grokking", nameof(workload)),
        };
        File.WriteAllLines(Path.Combine(directory, "ours.csv"),
            ["step,loss", .. losses.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{i + 1},{l:R}"))]);
    }

    private static double[] Grokking(string directory, int steps)
    {
        using var task = new ModularAddition(113, 0.3, seed: 0);
        // TWIN_DTYPE=float64 separates a real difference (it stays) from float32 rounding amplified by Adam (it goes).
        ScalarType dtype = Environment.GetEnvironmentVariable("TWIN_DTYPE") == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        using var model = new ModularAdditionTransformer(ModularAdditionTransformer.Config.Nanda, dtype: dtype);
        using (DisposeScope scope = NewDisposeScope())
        {
            SafeTensors.save_file(model.state_dict(), Path.Combine(directory, "init.safetensors"));
            SafeTensors.save_file(new Dictionary<string, Tensor> { ["x"] = task.Train.tensors[0], ["y"] = task.Train.tensors[1] },
                Path.Combine(directory, "data.safetensors"));
        }
        using var optimizer = new AdamW(model.parameters(), lr: 1e-3, betas: (0.9, 0.98), weight_decay: 1.0);
        var losses = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(model.call(task.Train.tensors[0]).to(ScalarType.Float64), task.Train.tensors[1]);
            loss.backward();
            optimizer.step();
            losses[step] = loss.item<double>();
        }
        return losses;
    }
}
