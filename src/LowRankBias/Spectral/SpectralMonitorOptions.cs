namespace LowRankBias.Spectral;

/// <summary>What <see cref="SpectralMonitor"/> records, and how often.</summary>
public sealed record SpectralMonitorOptions
{
    /// <summary>Record at every step that is a multiple of this (step 0 included). Default 100.</summary>
    public int Every { get; init; } = 100;

    /// <summary>Largest singular values kept per matrix. Default 32.</summary>
    public int TopSingularValues { get; init; } = 32;

    /// <summary>Record the alignment of consecutive layers (one SVD per pair). Default true.</summary>
    public bool Alignment { get; init; } = true;

    /// <summary>Record each layer's agreement with its previous record (keeps a copy of the weights). Default true.</summary>
    public bool Agreement { get; init; } = true;

    /// <summary>Diagonal entries averaged into an alignment score, and kept (10 in Yunis et al.). Default 10.</summary>
    public int ScoreCount { get; init; } = 10;

    /// <summary>Leading diagonal entries kept per pair, at least <see cref="ScoreCount"/> (Yunis et al. plot up to 100). Default 32.</summary>
    public int DiagonalLength { get; init; } = 32;

    /// <summary>Options of the spectra (convolution layout, float64 computation, …). Default <see cref="SpectralOptions.Default"/>.</summary>
    public SpectralOptions Spectral { get; init; } = SpectralOptions.Default;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Every, nameof(Every));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TopSingularValues, nameof(TopSingularValues));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ScoreCount, nameof(ScoreCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(DiagonalLength, ScoreCount, nameof(DiagonalLength));
        ArgumentNullException.ThrowIfNull(Spectral, nameof(Spectral));
    }
}
