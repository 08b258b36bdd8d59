namespace LowRankBias.Torch.Data;

/// <summary>
/// A small, fully deterministic pseudo-random generator (SplitMix64, Steele et al. 2014). The data pipeline
/// uses it instead of libtorch's global generator so that shuffles, splits and augmentations depend only on a
/// seed, and so that a checkpoint can restore a stream exactly through <see cref="State"/>.
/// </summary>
public sealed class SplitMix64
{
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    /// <summary>Starts a stream from <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => State = seed;

    /// <summary>The whole generator state; assigning a saved value resumes the stream where it was.</summary>
    public ulong State { get; set; }

    /// <summary>A stream for a seed and a path of keys (e.g. epoch, head), independent of every other path.</summary>
    public static SplitMix64 Derive(ulong seed, params ReadOnlySpan<ulong> keys)
    {
        ulong state = Mix(seed + Gamma);
        foreach (ulong key in keys) state = Mix(state ^ Mix(key + Gamma));
        return new SplitMix64(state);
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        State += Gamma;
        return Mix(State);
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>), without modulo bias.</summary>
    public long NextInt64(long bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        // Lemire's multiply-shift: the high word of x·bound is uniform once the biased low words are rejected.
        ulong n = (ulong)bound;
        ulong high = Math.BigMul(NextUInt64(), n, out ulong low);
        if (low < n)
        {
            ulong threshold = (0 - n) % n;
            while (low < threshold) high = Math.BigMul(NextUInt64(), n, out low);
        }
        return (long)high;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u = 1.0 - NextDouble(); // in (0, 1], so the logarithm is finite
        double v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>A uniformly random permutation of 0 … n−1 (Fisher–Yates).</summary>
    public long[] Permutation(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        for (long i = n - 1; i > 0; i--)
        {
            long j = NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
