namespace OverparamExperiments;

/// <summary>Sizes of the experiments. <c>tiny</c> runs in seconds (CI); <c>quick</c> in minutes to an hour on a 2-core CPU;
/// <c>converged</c> trains the CNN's FC expansions with the thesis' SGD until they converge (about two hours on 2 cores);
/// <c>full</c> follows the thesis more closely.</summary>
internal sealed record Preset(
    string Name,
    int Dimension, int Samples, int[] Depths, int[] Ranks, int Steps, double[] LearningRates, int Seeds,
    int RandomWidth, int RandomInputs, int RandomSamples, int RandomMaxDepth,
    int CnnTrainImages, int CnnTestImages, int CnnEpochs, int[] CnnFactors, int CnnSeeds, bool CnnAdamW)
{
    /// <summary>The CNN's learning rates. With several, each configuration trains seed 0 at every rate and keeps the
    /// rate with the best validation accuracy (the last <see cref="CnnValidationImages"/> training images, never
    /// trained on) for its other seeds: the thesis tunes the rate per model.</summary>
    public double[] CnnLearningRates { get; init; } = [CnnAdamW ? 1e-3 : 0.02];
    public int CnnValidationImages { get; init; } = 5_000;
    /// <summary>Which layers the CNN's expansions cover: FC only, or also the convolutions and both.</summary>
    public bool CnnExpandConvolutions { get; init; } = true;
    /// <summary>Whether the CNN comparison includes Table 2.3's explicit regularisers.</summary>
    public bool CnnPenalties { get; init; } = true;

    public static Preset Parse(string name) => name switch
    {
        "tiny" => new("tiny", 8, 32, [1, 4], [1, 8], 50, [0.1], 1, 8, 32, 16, 2, 256, 256, 1, [2], 1, true),
        "quick" => new("quick", 32, 128, [1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 32], 1500, [0.3, 0.1, 0.03, 0.01], 1, 32, 256, 256, 8, 5_000, 5_000, 2, [2, 4, 8], 3, true),
        // Issue #19 item 5: the thesis' optimiser (SGD, momentum 0.9, steps ×0.1 at 50% and 83%), a per-configuration
        // rate from a small grid, 15 epochs of 5,000 images — long enough for FC ×1/×2/×4 to converge — 3 seeds.
        "converged" => Parse("quick") with
        {
            Name = "converged", CnnEpochs = 15, CnnFactors = [2, 4], CnnAdamW = false, CnnLearningRates = [0.01, 0.02, 0.05],
            CnnExpandConvolutions = false, CnnPenalties = false,
        },
        "full" or "paper" => new("full", 32, 128, [1, 2, 4, 8, 12, 16], [1, 2, 4, 8, 16, 24, 32], 4000, [0.3, 0.1, 0.03, 0.01, 0.003], 2, 32, 256, 4096, 8, 60_000, 10_000, 30, [2, 4, 8], 3, false),
        _ => throw new ArgumentException($"unknown preset '{name}': use tiny, quick, converged or full"),
    };
}
