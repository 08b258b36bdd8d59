using System.Collections;

namespace LowRankBias.Torch.Data;

/// <summary>
/// A seeded mini-batch loader (<c>torch.utils.data.DataLoader</c>): each step yields one tensor per field.
/// Enumerating it yields the rest of the current epoch; <see cref="Next"/> steps across epochs. Shuffles depend
/// only on (seed, epoch), so <see cref="state_dict"/> / <see cref="load_state_dict"/> resume exactly.
/// This is the one-head case of <see cref="MultiHeadDataLoader"/>.
/// </summary>
public sealed class DataLoader : IEnumerable<Tensor[]>
{
    private readonly MultiHeadDataLoader _loader;

    /// <summary>A loader over <paramref name="dataset"/> (not owned by the loader).</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batch_size">Samples per batch.</param>
    /// <param name="shuffle">Visit the samples in a fresh random order each epoch.</param>
    /// <param name="drop_last">Leave out an epoch's last, short batch.</param>
    /// <param name="device">Device the batches are moved to (they stay where the dataset is when null).</param>
    /// <param name="seed">Seed of every shuffle.</param>
    public DataLoader(Dataset dataset, int batch_size = 1, bool shuffle = false, bool drop_last = false, Device? device = null, ulong seed = 0) =>
        _loader = new MultiHeadDataLoader(dataset, 1, HeadSampling.Same, batch_size, shuffle, drop_last, device, seed);

    /// <summary>The dataset the batches come from.</summary>
    public Dataset dataset => _loader.dataset;
    /// <summary>Samples per batch.</summary>
    public int batch_size => _loader.batch_size;
    /// <summary>Batches per epoch (<c>len(loader)</c>).</summary>
    public long Count => _loader.Count;
    /// <summary>The epoch the next batch belongs to.</summary>
    public long Epoch => _loader.Epoch;

    /// <summary>The next batch; after an epoch's last batch the next epoch begins.</summary>
    public Tensor[] Next() => _loader.Next()[0];

    /// <summary>The remaining batches of the current epoch (all of them when it has not started).</summary>
    public IEnumerator<Tensor[]> GetEnumerator()
    {
        foreach (Tensor[][] step in _loader) yield return step[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The loader's position.</summary>
    public DataLoaderState state_dict() => _loader.state_dict();

    /// <summary>Moves the loader to a position saved by <see cref="state_dict"/>.</summary>
    public void load_state_dict(DataLoaderState state) => _loader.load_state_dict(state);

    /// <summary>Checks <paramref name="state"/> as <see cref="load_state_dict"/> does, changing nothing.</summary>
    internal void CheckState(DataLoaderState state) => _loader.CheckState(state);
}
