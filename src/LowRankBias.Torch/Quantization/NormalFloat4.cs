namespace LowRankBias.Torch.Quantization;

/// <summary>
/// QLoRA's 4-bit NormalFloat data type (Dettmers et al., 2023): 16 levels in [−1, 1] at quantiles of N(0, 1) chosen so
/// that each bin holds equal probability (8 positive, 7 negative, and an exact zero), normalised by the largest.
/// </summary>
public static class NormalFloat4
{
    // bitsandbytes' table (functional.get_4bit_type("nf4") and the CUDA kernels' dDequantizeNF4), float32 values;
    // tests compare it with quantiles computed independently from the paper's construction.
    private static readonly float[] s_levels =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>The 16 levels in increasing order; code k stands for level k.</summary>
    public static IReadOnlyList<float> Levels => s_levels;

    /// <summary>The 15 decision boundaries between consecutive levels (their midpoints): a scaled weight maps to the nearest level.</summary>
    internal static float[] Midpoints() => Enumerable.Range(0, 15).Select(k => (s_levels[k] + s_levels[k + 1]) / 2).ToArray();
}
