namespace OverparamExperiments;

/// <summary>Sizes of the two experiments. <c>quick</c> runs in minutes on a 2-core CPU; <c>full</c> follows the thesis more closely.</summary>
internal sealed record Preset(
    string Name,
    int Dimension, int Samples, int[] Depths, int[] Ranks, int Steps, double[] LearningRates, int Seeds,
    int RandomWidth, int RandomInputs, int RandomSamples, int RandomMaxDepth)
{
    public static Preset Parse(string name) => name switch
    {
        "tiny" => new("tiny", 8, 32, [1, 4], [1, 8], 50, [0.1], 1, 8, 32, 16, 2),
        "quick" => new("quick", 32, 128, [1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 32], 1500, [0.3, 0.1, 0.03, 0.01], 1, 32, 256, 256, 8),
        "full" => new("full", 32, 128, [1, 2, 4, 8, 12, 16], [1, 2, 4, 8, 16, 24, 32], 4000, [0.3, 0.1, 0.03, 0.01, 0.003], 2, 32, 256, 4096, 8),
        _ => throw new ArgumentException($"unknown preset '{name}': use tiny, quick or full"),
    };
}
