namespace LowRankBias.Torch.Data;

/// <summary>
/// The order in which one sample stream visits a dataset in a given epoch, cut into consecutive batches.
/// A shuffled order is a pure function of (seed, epoch, stream), so any position can be recomputed on resume.
/// </summary>
internal sealed class EpochOrder(long count, long batchSize, bool shuffle, ulong stream)
{
    private long[]? _permutation;
    private (ulong Seed, long Epoch) _permutationKey;

    /// <summary>The int64 sample indices of batch <paramref name="batch"/> of <paramref name="epoch"/> (last one possibly short).</summary>
    public Tensor Indices(ulong seed, long epoch, long batch)
    {
        long start = batch * batchSize;
        long length = Math.Min(batchSize, count - start);
        if (!shuffle) return torch.arange(start, start + length);
        if (_permutation is null || _permutationKey != (seed, epoch))
        {
            _permutation = SplitMix64.Derive(seed, (ulong)epoch, stream).Permutation(count);
            _permutationKey = (seed, epoch);
        }
        return torch.from_array<long>(_permutation.AsSpan((int)start, (int)length), [length]);
    }
}
