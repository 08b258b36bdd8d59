namespace LoraVariants;

/// <summary>
/// The budget of a run. Every preset uses the same ViT (torchvision layout): 32×32 grey images (Fashion-MNIST's 28×28
/// zero-padded) in 4×4 patches, 4 blocks of width 64 with 4 heads and MLP 128; AdamW throughout, batch 64.
/// </summary>
internal sealed record Preset
{
    public required string Name { get; init; }

    /// <summary>The base ViT; <see cref="VisionTransformer.Config.num_classes"/> is set per base (5 or 10).</summary>
    public static VisionTransformer.Config Model => new()
    {
        image_size = 32, patch_size = 4, in_channels = 1, num_classes = 5, num_layers = 4, num_heads = 4, hidden_dim = 64, mlp_dim = 128,
    };

    public int Batch { get; init; } = 64;

    /// <summary>Full training steps of each base (seed 0).</summary>
    public required int PretrainSteps { get; init; }
    public double PretrainLr { get; init; } = 1e-3;

    /// <summary>Steps of each transfer run (adapters and the new head, at one learning rate).</summary>
    public required int FineTuneSteps { get; init; }
    public double FineTuneLr { get; init; } = 2e-3;

    /// <summary>Test accuracy is recorded this many times, evenly spaced, over a transfer run.</summary>
    public required int Evaluations { get; init; }

    /// <summary>Test images evaluated: the first ones of classes 5–9 (transfer), of all classes (merging).</summary>
    public required int TestImages { get; init; }

    /// <summary>Seeds of each transfer method (1 … Seeds).</summary>
    public required int Seeds { get; init; }

    /// <summary>Steps of each of the two adapters of the merging example.</summary>
    public required int AdapterSteps { get; init; }

    /// <summary>Seeds of the merging example (1 … MergeSeeds).</summary>
    public required int MergeSeeds { get; init; }

    public static readonly string[] Names = ["tiny", "quick", "paper"];

    public static Preset Parse(string name) => name switch
    {
        // Seconds, for the smoke test: proves the program runs end to end and writes its outputs; the numbers mean nothing.
        "tiny" => new() { Name = name, Batch = 16, PretrainSteps = 4, FineTuneSteps = 4, Evaluations = 2, TestImages = 64, Seeds = 2, AdapterSteps = 3, MergeSeeds = 1 },
        // What docs/results.md reports (both bases trained, 4 methods × 3 seeds, 3 merge seeds): 875 CPU-seconds, about
        // 7–8 minutes on two free cores; 22 minutes on the development machine's two cores at load average 17–33.
        "quick" => new() { Name = name, PretrainSteps = 400, FineTuneSteps = 100, Evaluations = 4, TestImages = 1_000, Seeds = 3, AdapterSteps = 60, MergeSeeds = 3 },
        // A longer budget: better bases, longer fine-tuning, every test image of the subsets, 5 seeds.
        "paper" => new() { Name = name, PretrainSteps = 4_000, FineTuneSteps = 1_000, Evaluations = 10, TestImages = 10_000, Seeds = 5, AdapterSteps = 500, MergeSeeds = 5 },
        _ => throw new ArgumentException($"unknown preset '{name}': use {string.Join(", ", Names)}"),
    };
}
