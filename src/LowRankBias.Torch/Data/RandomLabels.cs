namespace LowRankBias.Torch.Data;

/// <summary>Label randomisation (Zhang et al. 2017; Yunis et al.'s random-label experiments).</summary>
public static class RandomLabels
{
    /// <summary>
    /// A copy of int64 <paramref name="labels"/> [N] in which round(fraction·N) positions, chosen at random, get a
    /// class drawn uniformly from 0…classes−1 (which may equal the old one); fraction 1 gives completely random labels.
    /// </summary>
    public static Tensor Corrupt(Tensor labels, int classes, double fraction = 1.0, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must lie in [0, 1]");
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"labels must be a 1-D int64 tensor, not {labels.dtype} [{string.Join(", ", labels.shape)}]", nameof(labels));

        long[] values = labels.ToArray<long>();
        var rng = new SplitMix64(seed);
        long[] positions = rng.Permutation(values.Length);
        long changed = (long)Math.Round(fraction * values.Length);
        for (long i = 0; i < changed; i++) values[positions[i]] = rng.NextInt64(classes);
        return torch.tensor(values, device: labels.device);
    }
}
