namespace OverparamExperiments;

/// <summary>Sizes of the experiments. <c>tiny</c> runs in seconds (CI); <c>quick</c> in minutes to an hour on a 2-core CPU; <c>full</c> follows the thesis more closely.</summary>
internal sealed record Preset(
    string Name,
    int Dimension, int Samples, int[] Depths, int[] Ranks, int Steps, double[] LearningRates, int Seeds,
    int RandomWidth, int RandomInputs, int RandomSamples, int RandomMaxDepth,
    int CnnTrainImages, int CnnTestImages, int CnnEpochs, int[] CnnFactors, int CnnSeeds, bool CnnAdamW)
{
    public static Preset Parse(string name) => name switch
    {
        "tiny" => new("tiny", 8, 32, [1, 4], [1, 8], 50, [0.1], 1, 8, 32, 16, 2, 256, 256, 1, [2], 1, true),
        "quick" => new("quick", 32, 128, [1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 32], 1500, [0.3, 0.1, 0.03, 0.01], 1, 32, 256, 256, 8, 5_000, 5_000, 2, [2, 4, 8], 3, true),
        "full" or "paper" => new("full", 32, 128, [1, 2, 4, 8, 12, 16], [1, 2, 4, 8, 16, 24, 32], 4000, [0.3, 0.1, 0.03, 0.01, 0.003], 2, 32, 256, 4096, 8, 60_000, 10_000, 30, [2, 4, 8], 3, false),
        _ => throw new ArgumentException($"unknown preset '{name}': use tiny, quick or full"),
    };
}
