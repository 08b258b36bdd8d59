namespace LowRankBias.Spectral;

/// <summary>
/// Every spectral metric of one weight, all derived from its singular values σ₁ ≥ … ≥ σ_R (R = min(m, n), or the
/// pooled count for <see cref="ConvolutionLayout.PerKernelPosition"/>). Natural logarithms throughout.
/// A zero matrix has rank 0 by definition: norms, entropy and every rank (threshold, effective, stable) are 0, and its
/// condition number is +∞ (it is singular). <see cref="SpectralMetrics.Analyze(LowRankBias.Torch.Tensor, string, SpectralOptions?)"/>
/// refuses matrices with NaN or ±∞ entries and <see cref="FromSingularValues"/> singular values that are not finite, so
/// no metric here is NaN.
/// </summary>
public sealed record MatrixSpectrum : IMatrixNorms
{
    /// <inheritdoc />
    public required string Name { get; init; }

    /// <summary>Shape of the weight as given (before any convolution reshaping).</summary>
    public required long[] Shape { get; init; }

    /// <summary>Singular values, descending.</summary>
    public required double[] SingularValues { get; init; }

    /// <summary>Spectral entropy H = −Σ pᵢ ln pᵢ of p = σ/Σσ (or σ²/Σσ², see <see cref="SpectralOptions.EntropyWeighting"/>).
    /// Yunis et al. eq. (1) as printed and the Huh thesis (Def. 2.3.1, "we drop the exponentiation") call this
    /// quantity effective rank; here effective rank is always exp(H) (<see cref="EffectiveRank"/>).</summary>
    public required double SpectralEntropy { get; init; }

    /// <summary>exp(H), the effective rank of Roy &amp; Vetterli (2007), which Yunis et al. cite for it: n for the n×n
    /// identity, 1 for rank 1.</summary>
    public required double EffectiveRank { get; init; }

    /// <summary>
    /// exp(H) / R with R = the number of singular values, in [1/R, 1]. Yunis et al. eq. (2) divide by the rank R of W;
    /// we take R = min(m, n), which equals the rank of the (generically full-rank) weights they study and keeps the
    /// ratio low for rank-deficient matrices. Note: eq. (1) as printed names the entropy H itself EffRank, so a literal
    /// reading of eq. (2) would be H / R; exp(H) / R is the normalisation that makes a flat spectrum score 1.
    /// </summary>
    public required double NormalizedEffectiveRank { get; init; }

    /// <summary>Number of σᵢ &gt; τ·σ_max, or of σᵢ/Σσ ≥ τ (Huh thesis Def. 7.3.2), per <see cref="SpectralOptions"/>.</summary>
    public required int ThresholdRank { get; init; }

    /// <inheritdoc />
    public double StableRank => StableRankSqrt * StableRankSqrt;

    /// <inheritdoc />
    public double StableRankSqrt => SpectralNorm == 0 ? 0 : FrobeniusNorm / SpectralNorm;

    /// <summary>‖W‖_* = Σσᵢ.</summary>
    public required double NuclearNorm { get; init; }

    /// <inheritdoc />
    public required double FrobeniusNorm { get; init; }

    /// <inheritdoc />
    public required double SpectralNorm { get; init; }

    /// <summary>σ_max / σ_min; +∞ when the matrix is rank-deficient (σ_min = 0).</summary>
    public required double ConditionNumber { get; init; }

    /// <summary>Power-law fit of the eigenvalues σᵢ² of WᵀW (heavy-tail exponent α), or null when disabled or the spectrum is too short.</summary>
    public required PowerLawFit? PowerLaw { get; init; }

    /// <summary>Computes every metric from singular values σ₁ ≥ … ≥ σ_R ≥ 0, as <c>torch.linalg.svdvals</c> returns them.</summary>
    /// <exception cref="ArgumentException">No value is given, or one is NaN, ±∞ or negative, or they are not in
    /// descending order.</exception>
    public static MatrixSpectrum FromSingularValues(IEnumerable<double> singularValues, string name = "", long[]? shape = null,
        SpectralOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(singularValues);
        options ??= SpectralOptions.Default;
        double[] s = singularValues.ToArray();
        if (s.Length == 0) throw new ArgumentException($"'{name}': a spectrum needs at least one singular value", nameof(singularValues));
        int bad = Array.FindIndex(s, v => !double.IsFinite(v) || v < 0);
        if (bad >= 0)
            throw new ArgumentException($"'{name}': singular value {bad} is {s[bad]}; singular values are finite and non-negative", nameof(singularValues));
        int rise = Enumerable.Range(1, s.Length - 1).FirstOrDefault(i => s[i] > s[i - 1]);
        if (rise > 0)
            throw new ArgumentException($"'{name}': singular values must be in descending order, but value {rise} ({s[rise]}) exceeds value {rise - 1} ({s[rise - 1]})", nameof(singularValues));
        shape ??= [];

        double nuclear = s.Sum(), frobenius = Math.Sqrt(s.Sum(v => v * v)), spectral = s[0];
        double entropy = spectral == 0 ? 0 : EntropyOf(s, options.EntropyWeighting);
        double effectiveRank = spectral == 0 ? 0 : Math.Exp(entropy); // rank 0, though exp(0) = 1
        return new MatrixSpectrum
        {
            Name = name,
            Shape = shape,
            SingularValues = s,
            SpectralEntropy = entropy,
            EffectiveRank = effectiveRank,
            NormalizedEffectiveRank = effectiveRank / s.Length,
            ThresholdRank = ThresholdRankOf(s, nuclear, options),
            NuclearNorm = nuclear,
            FrobeniusNorm = frobenius,
            SpectralNorm = spectral,
            ConditionNumber = spectral == 0 ? double.PositiveInfinity : spectral / s[^1],
            PowerLaw = options.FitPowerLaw ? PowerLawFit.Fit(s.Select(v => v * v), options.PowerLawMinTail, options.PowerLawKs) : null,
        };
    }

    private static double EntropyOf(double[] s, SpectrumWeighting weighting)
    {
        double[] w = weighting == SpectrumWeighting.SquaredSingularValues ? s.Select(v => v * v).ToArray() : s;
        double total = w.Sum();
        double h = 0;
        foreach (double v in w)
        {
            if (v == 0) continue; // 0 · ln 0 = 0
            double p = v / total;
            h -= p * Math.Log(p);
        }
        return h;
    }

    private static int ThresholdRankOf(double[] s, double nuclear, SpectralOptions options) =>
        options.ThresholdReference == ThresholdReference.LargestSingularValue
            ? s.Count(v => v > options.ThresholdTau * s[0])
            : nuclear == 0 ? 0 : s.Count(v => v / nuclear >= options.ThresholdTau);
}
