namespace LowRankBias.Spectral;

/// <summary>Settings of <see cref="PlatonicAlignment"/>; the defaults are platonic-rep's <c>measure_alignment.py</c>.</summary>
public sealed record PlatonicOptions
{
    /// <summary>Neighbours per sample for mutual k-NN (platonic-rep's <c>--topk</c>, 10).</summary>
    public int K { get; init; } = 10;

    /// <summary>Features are clamped to ± this quantile of their magnitudes (<c>prepare_features</c>' q = 0.95); 1 keeps them.</summary>
    public double OutlierQuantile { get; init; } = 0.95;

    /// <summary>The quantile over all of a layer's entries (<c>remove_outliers(exact=True)</c>, what <c>--precise</c>
    /// and <c>platonic.Alignment</c> use) instead of the mean over samples of each sample's quantile (the
    /// <c>measure_alignment.py</c> default).</summary>
    public bool ExactQuantile { get; init; }

    /// <summary>Inputs per forward pass while extracting features.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Rows of the similarity matrix computed at once when finding neighbours: the [BlockRows, n] block bounds
    /// the memory of the search.</summary>
    public int BlockRows { get; init; } = 1024;

    internal void Validate()
    {
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, "k must be at least 1");
        if (!(OutlierQuantile > 0 && OutlierQuantile <= 1)) throw new ArgumentOutOfRangeException(nameof(OutlierQuantile), OutlierQuantile, "must lie in (0, 1]");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (BlockRows < 1) throw new ArgumentOutOfRangeException(nameof(BlockRows), BlockRows, "must be at least 1");
    }
}
