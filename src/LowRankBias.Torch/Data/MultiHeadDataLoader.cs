using System.Collections;

namespace LowRankBias.Torch.Data;

/// <summary>
/// A seeded mini-batch loader that hands each of several heads its own batch per step (see <see cref="HeadSampling"/>).
/// Each step yields <c>batch[head][field]</c>. Shuffles come from <see cref="SplitMix64"/> streams derived from
/// (seed, epoch, stream), never from libtorch's generator, so <see cref="state_dict"/> / <see cref="load_state_dict"/>
/// resume exactly. Batches are created in the caller's dispose scope.
/// </summary>
public sealed class MultiHeadDataLoader : IEnumerable<Tensor[][]>
{
    private readonly EpochOrder[] _streams;
    private long _epoch, _index;
    private ulong _seed;

    /// <summary>A loader giving <paramref name="heads"/> heads <paramref name="batch_size"/> samples each per step.</summary>
    /// <param name="dataset">The samples (not owned by the loader).</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="sampling">How the heads' batches relate to each other.</param>
    /// <param name="batch_size">Samples per head per step; with <see cref="HeadSampling.Split"/> and LTE's cumulative batch B, pass B / heads.</param>
    /// <param name="shuffle">Visit the samples in a fresh random order each epoch.</param>
    /// <param name="drop_last">Leave out an epoch's last, short step.</param>
    /// <param name="device">Device the batches are moved to (they stay where the dataset is when null).</param>
    /// <param name="seed">Seed of every shuffle.</param>
    public MultiHeadDataLoader(Dataset dataset, int heads, HeadSampling sampling, int batch_size, bool shuffle = false,
        bool drop_last = false, Device? device = null, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch_size, 1);
        if (!Enum.IsDefined(sampling)) throw new ArgumentOutOfRangeException(nameof(sampling), sampling, "unknown head sampling");
        this.dataset = dataset;
        this.heads = heads;
        this.sampling = sampling;
        this.batch_size = batch_size;
        this.shuffle = shuffle;
        this.drop_last = drop_last;
        this.device = device;
        _seed = seed;

        long streamBatch = sampling == HeadSampling.Split ? (long)heads * batch_size : batch_size;
        long samples = dataset.Count;
        long remainder = samples % streamBatch;
        Count = drop_last ? samples / streamBatch : (samples + streamBatch - 1) / streamBatch;
        if (Count == 0)
            throw new ArgumentException($"a dataset of {samples} samples yields no batch of {streamBatch}{(drop_last ? " with drop_last" : "")}", nameof(dataset));
        if (sampling == HeadSampling.Split && !drop_last && remainder != 0 && remainder < heads)
            throw new ArgumentException($"the last step's {remainder} samples cannot be split among {heads} heads; pass drop_last: true", nameof(dataset));

        int streamCount = sampling == HeadSampling.Independent ? heads : 1;
        _streams = new EpochOrder[streamCount];
        for (int s = 0; s < streamCount; s++) _streams[s] = new EpochOrder(samples, streamBatch, shuffle, (ulong)s);
    }

    /// <summary>The dataset the batches come from.</summary>
    public Dataset dataset { get; }
    /// <summary>Number of heads.</summary>
    public int heads { get; }
    /// <summary>How the heads' batches relate.</summary>
    public HeadSampling sampling { get; }
    /// <summary>Samples per head per step.</summary>
    public int batch_size { get; }
    /// <summary>Whether each epoch is shuffled.</summary>
    public bool shuffle { get; }
    /// <summary>Whether an epoch's short last step is left out.</summary>
    public bool drop_last { get; }
    /// <summary>Device the batches are moved to, if any.</summary>
    public Device? device { get; }

    /// <summary>Steps per epoch (<c>len(loader)</c>).</summary>
    public long Count { get; }

    /// <summary>The epoch the next step belongs to.</summary>
    public long Epoch => _epoch;

    /// <summary>The next step's batches, <c>[head][field]</c>; after an epoch's last step the next epoch begins.</summary>
    public Tensor[][] Next()
    {
        var result = new Tensor[heads][];
        switch (sampling)
        {
            case HeadSampling.Independent:
                for (int h = 0; h < heads; h++) result[h] = Fetch(_streams[h]);
                break;
            case HeadSampling.Same:
                Tensor[] shared = Fetch(_streams[0]);
                Array.Fill(result, shared);
                break;
            case HeadSampling.Split:
                Tensor[] whole = Fetch(_streams[0]);
                for (int h = 0; h < heads; h++) result[h] = new Tensor[whole.Length];
                long[] sizes = SplitSizes(whole[0].size(0));
                for (int f = 0; f < whole.Length; f++)
                {
                    Tensor[] parts = whole[f].split(sizes);
                    for (int h = 0; h < heads; h++) result[h][f] = parts[h];
                    whole[f].Dispose(); // the parts are views that keep the storage alive
                }
                break;
        }
        if (++_index == Count)
        {
            _epoch++;
            _index = 0;
        }
        return result;
    }

    /// <summary>The remaining steps of the current epoch (all of them when it has not started).</summary>
    public IEnumerator<Tensor[][]> GetEnumerator()
    {
        long current = _epoch;
        while (_epoch == current) yield return Next();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The loader's position.</summary>
    public DataLoaderState state_dict() => new(_epoch, _index, _seed);

    /// <summary>Moves the loader to a position saved by <see cref="state_dict"/>.</summary>
    public void load_state_dict(DataLoaderState state)
    {
        CheckState(state);
        (_epoch, _index, _seed) = (state.Epoch, state.Index, state.Seed);
    }

    /// <summary>Checks <paramref name="state"/> as <see cref="load_state_dict"/> does, changing nothing.</summary>
    internal void CheckState(DataLoaderState state)
    {
        if (state.Epoch < 0) throw new ArgumentException($"epoch {state.Epoch} is negative", nameof(state));
        if (state.Index < 0 || state.Index >= Count)
            throw new ArgumentException($"batch index {state.Index} is outside this loader's epoch of {Count} steps (was the state saved with another dataset or batch size?)", nameof(state));
    }

    private Tensor[] Fetch(EpochOrder stream)
    {
        Tensor[] batch;
        using (Tensor indices = stream.Indices(_seed, _epoch, _index)) batch = dataset.GetItems(indices);
        if (device is not { } target) return batch;
        for (int f = 0; f < batch.Length; f++)
        {
            if (batch[f].device == target) continue;
            Tensor moved = batch[f].to(target);
            batch[f].Dispose();
            batch[f] = moved;
        }
        return batch;
    }

    // Near-equal group sizes: batch_size each for a full step, differing by at most one for a short last step.
    private long[] SplitSizes(long total)
    {
        var sizes = new long[heads];
        for (int h = 0; h < heads; h++) sizes[h] = total / heads + (h < total % heads ? 1 : 0);
        return sizes;
    }
}
