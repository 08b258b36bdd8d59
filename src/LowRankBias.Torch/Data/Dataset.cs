namespace LowRankBias.Torch.Data;

/// <summary>
/// A map-style dataset (<c>torch.utils.data.Dataset</c>): a fixed number of samples, each made of one tensor
/// per field (e.g. image and label), fetched a mini-batch at a time. A dataset owns its tensors; dispose it
/// when done. The tensors it returns belong to the caller's dispose scope.
/// </summary>
public abstract class Dataset : IDisposable
{
    /// <summary>Number of samples (<c>len(dataset)</c>).</summary>
    public abstract long Count { get; }

    /// <summary>The samples at the given int64 indices: one tensor per field, stacked along a new first dimension.</summary>
    public abstract Tensor[] GetItems(Tensor indices);

    /// <summary>One sample: one tensor per field (<c>dataset[i]</c>).</summary>
    public Tensor[] this[long index]
    {
        get
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset has {Count} samples");
            using Tensor one = torch.tensor(new[] { index });
            Tensor[] batch = GetItems(one);
            var sample = new Tensor[batch.Length];
            for (int i = 0; i < batch.Length; i++)
            {
                sample[i] = batch[i].select(0, 0);
                batch[i].Dispose();
            }
            return sample;
        }
    }

    /// <summary>Frees the dataset's tensors.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the tensors the dataset owns (called once, from <see cref="Dispose()"/>).</summary>
    protected abstract void Dispose(bool disposing);
}
