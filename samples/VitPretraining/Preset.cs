using LowRankBias.Lte;

namespace VitPretraining;

/// <summary>
/// A budget and configuration for the comparison. Learning rates: AdamW for full-rank training; the low-rank methods
/// use the paper's rule (LTE paper appendix A: α = 4096, about 0.1× the full-rank rate, cosine decay with warm-up).
/// </summary>
internal sealed record Preset
{
    public required string Name { get; init; }
    /// <summary>The ViT; image size, channels and classes are taken from the data.</summary>
    public required VisionTransformer.Config Model { get; init; }
    /// <summary>Training images used (the first ones of the training set; null: all).</summary>
    public int? TrainSubset { get; init; }
    /// <summary>Test images used for evaluation (null: all).</summary>
    public int? TestSubset { get; init; }
    /// <summary>Cumulative training samples for full-rank training and the single-head baselines.</summary>
    public required long Samples { get; init; }
    /// <summary>LTE may see this many times the cumulative samples (the paper allows up to 2×).</summary>
    public double LteSampleFactor { get; init; } = 2;
    public int Batch { get; init; } = 128;
    public int Evaluations { get; init; } = 10;
    public double FullRankLr { get; init; } = 1e-3;
    public double LowRankLrFactor { get; init; } = 0.1;
    public double Alpha { get; init; } = 4096;
    public int Heads { get; init; } = 4;
    public int Rank { get; init; } = 64;
    public int MergeEvery { get; init; } = 10;
    /// <summary>Rank of the single-head "low-rank LoRA" baselines.</summary>
    public int LoraRank { get; init; } = 8;
    /// <summary>Keep the patch projection, tokens and LayerNorm affine parameters at their initial values in every method.</summary>
    public bool FreezeExtras { get; init; }
    /// <summary>Cumulative samples of each LTE run of the grid.</summary>
    public long GridSamples { get; init; }
    public int[] GridHeads { get; init; } = [2, 4, 8];
    public int[] GridRanks { get; init; } = [8, 16, 32, 64];
    public int[] GridMergeEvery { get; init; } = [5, 10, 20, 50];
    /// <summary>The merge controller and head resets of the command line, applied to every LTE configuration.</summary>
    public Func<LteOptions, LteOptions> Controller { get; init; } = o => o;
    /// <summary>Seed of the models' initialisation and the data order.</summary>
    public int Seed { get; init; }

    /// <summary>Whole numbers ≥ 1 from "10,25,50" (merge periods, heads, ranks), the option named in the error.</summary>
    public static int[] WholeNumbers(string option, string text)
    {
        int[] values = [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(t =>
            int.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= 1
                ? value
                : throw new ArgumentException($"{option}: '{t}' is not a whole number >= 1"))];
        return values.Length > 0 ? values : throw new ArgumentException($"{option}: give at least one value");
    }

    public static Preset Parse(string name) => name switch
    {
        // The main job (scripts/main.sh): ViT-Tiny on Fashion-MNIST, about 200 steps of 128 images per method, same
        // samples for every method (LTE is not given its 2x), so that full rank, LoRA and LTE finish in minutes on 2 cores.
        "main" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny, TestSubset = 2_000, Samples = 25_600, LteSampleFactor = 1, Evaluations = 4,
            LoraRank = 8, Heads = 4, Rank = 16, MergeEvery = 10,
        },
        // Seconds, for CI: proves the program runs end to end and writes its outputs.
        "tiny" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny with { num_layers = 1, hidden_dim = 32, mlp_dim = 64 },
            TrainSubset = 512, TestSubset = 256, Samples = 1024, Batch = 64, Evaluations = 2, Heads = 2, Rank = 8, LoraRank = 2,
            GridSamples = 1024, GridHeads = [2], GridRanks = [4, 8], GridMergeEvery = [5],
        },
        // About half an hour on a 2-core CPU: ViT-Tiny on 10,000 Fashion-MNIST images for 2 epochs (LTE: 4), and a
        // 2 × 2 × 2 grid of one-epoch LTE runs.
        "quick" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny, TrainSubset = 10_000, Samples = 20_000, Evaluations = 5,
            GridSamples = 10_000, GridHeads = [2, 8], GridRanks = [16, 64], GridMergeEvery = [5, 20],
        },
        // About 15 minutes on a free 2-core CPU: ViT-Tiny on 6,000 Fashion-MNIST images for one epoch (LTE: 2), tested on
        // 2,000 — the budget of the NF4-base comparisons (--methods lora,lora-nf4,lte,lte-nf4).
        "small" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny, TrainSubset = 6_000, TestSubset = 2_000, Samples = 6_000, Evaluations = 3,
            GridSamples = 6_000, GridHeads = [2], GridRanks = [16], GridMergeEvery = [10],
        },
        // Issue #19 item 6, the Table 1 trends at a budget where full rank converges: a 2-layer ViT with 7×7 patches on
        // 5,000 images, full rank for 15 epochs (its test accuracy flat over the last third), each LTE cell for twice
        // the samples, on heads {2, 4, 8} × rank {8, 32} × merge period {10, 50}. Run it with --methods full --grid.
        "grid" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny with { num_layers = 2, patch_size = 7 }, TrainSubset = 5_000, TestSubset = 5_000,
            Samples = 75_000, Evaluations = 15,
            GridSamples = 150_000, GridHeads = [2, 4, 8], GridRanks = [8, 32], GridMergeEvery = [10, 50],
        },
        // About an hour and a half on a 2-core CPU: the whole training set for 2 epochs (LTE: 4), long enough for
        // low-rank LoRA (rank 4) to fall behind full rank. Run it with --methods full,lora,lte.
        "long" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_Tiny, Samples = 120_000, Evaluations = 8, LoraRank = 4,
            GridSamples = 60_000, GridHeads = [2, 8], GridRanks = [16, 64], GridMergeEvery = [5, 20],
        },
        // The paper's Table 1 grid and ViT-S on a GPU (LTE paper, Table 2 and appendix A).
        "paper" => new()
        {
            Name = name, Model = VisionTransformer.Config.ViT_S with { patch_size = 4 },
            Samples = 60_000 * 100L, GridSamples = 60_000 * 100L, Batch = 4096, Evaluations = 50, FullRankLr = 1e-3, Heads = 32, Rank = 64,
            GridHeads = [2, 8, 32], GridRanks = [8, 16, 32, 64, 128], GridMergeEvery = [5, 10, 20, 50, 100],
        },
        _ => throw new ArgumentException($"unknown preset '{name}': use main, tiny, small, quick, grid, long or paper"),
    };
}
