namespace LowRankBias.Torch.Data;

/// <summary>
/// An in-memory dataset whose fields are tensors sharing their first dimension (<c>TensorDataset</c>).
/// It keeps its own handles to the tensors (no copy), so the caller may dispose the tensors it passed in.
/// </summary>
public sealed class TensorDataset : Dataset
{
    private readonly Tensor[] _tensors;

    /// <summary>A dataset whose i-th sample is (tensors[0][i], tensors[1][i], …).</summary>
    public TensorDataset(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("a TensorDataset needs at least one tensor", nameof(tensors));
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i].dim() == 0) throw new ArgumentException($"tensor {i} is 0-dimensional; samples are indexed along the first dimension", nameof(tensors));
            if (tensors[i].size(0) != tensors[0].size(0))
                throw new ArgumentException($"tensor {i} has {tensors[i].size(0)} samples but tensor 0 has {tensors[0].size(0)}", nameof(tensors));
            if (tensors[i].device != tensors[0].device)
                throw new ArgumentException($"tensor {i} is on {tensors[i].device} but tensor 0 is on {tensors[0].device}", nameof(tensors));
        }
        // Own handles, cut from autograd and from the caller's scope: the dataset outlives both.
        _tensors = Array.ConvertAll(tensors, t => t.detach().DetachFromDisposeScope());
    }

    /// <summary>The dataset's tensors (owned by the dataset: do not dispose them).</summary>
    public IReadOnlyList<Tensor> tensors => _tensors;

    /// <inheritdoc />
    public override long Count => _tensors[0].size(0);

    /// <summary>
    /// A dataset of its own holding copies of the first <paramref name="count"/> samples (all of them when there are
    /// fewer): a quick subset when the data are already shuffled, after which this dataset may be disposed.
    /// </summary>
    public TensorDataset Take(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        using var scope = torch.NewDisposeScope();
        return new TensorDataset(Array.ConvertAll(_tensors, t => t.narrow(0, 0, Math.Min(count, Count)).clone()));
    }

    /// <inheritdoc />
    public override Tensor[] GetItems(Tensor indices)
    {
        Device device = _tensors[0].device;
        Tensor? moved = indices.device == device ? null : indices.to(device);
        try
        {
            return Array.ConvertAll(_tensors, t => t.index_select(0, moved ?? indices));
        }
        finally
        {
            moved?.Dispose();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        foreach (Tensor t in _tensors) t.Dispose();
    }
}
