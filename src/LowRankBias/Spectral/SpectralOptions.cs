using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>Settings for <see cref="SpectralMetrics"/> and <see cref="MatrixSpectrum"/>. The defaults follow Yunis et al.
/// (entropy over σ/Σσ, flattened convolutions) and compute in the weights' own precision (at least float32).</summary>
public sealed record SpectralOptions
{
    /// <summary>The defaults.</summary>
    public static SpectralOptions Default { get; } = new();

    /// <summary>Distribution the entropy and effective ranks are taken over (default σ/Σσ).</summary>
    public SpectrumWeighting EntropyWeighting { get; init; } = SpectrumWeighting.SingularValues;

    /// <summary>τ of the threshold rank, in [0, 1). Default 0.01 (the largest value the Huh thesis tries, Fig. 7.5).</summary>
    public double ThresholdTau
    {
        get => _thresholdTau;
        init
        {
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(nameof(ThresholdTau), value, "τ must lie in [0, 1)");
            _thresholdTau = value;
        }
    }
    private readonly double _thresholdTau = 0.01;

    /// <summary>What σᵢ is compared with in the threshold rank (default τ·σ_max).</summary>
    public ThresholdReference ThresholdReference { get; init; } = ThresholdReference.LargestSingularValue;

    /// <summary>Run the SVD in float64 (slower, exact to ~1e-15). Otherwise float64 weights stay float64 and every
    /// other floating type is computed in float32. The scalar metrics are always accumulated in double on the host.</summary>
    public bool ComputeInFloat64 { get; init; }

    /// <summary>How 4-D convolution weights become matrices (default: flattened, as Yunis et al.).</summary>
    public ConvolutionLayout ConvolutionLayout { get; init; } = ConvolutionLayout.Flatten;

    /// <summary>Whether to fit the power-law exponent of the eigenvalue spectrum (O(R²) host work per matrix).</summary>
    public bool FitPowerLaw { get; init; } = true;

    /// <summary>Fewest eigenvalues a power-law tail may hold (≥ 2, default 10); smaller spectra get no fit.</summary>
    public int PowerLawMinTail
    {
        get => _powerLawMinTail;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2, nameof(PowerLawMinTail));
            _powerLawMinTail = value;
        }
    }
    private readonly int _powerLawMinTail = 10;

    /// <summary>How the power-law fit measures its Kolmogorov–Smirnov distance (default: as the <c>powerlaw</c> package
    /// and WeightWatcher).</summary>
    public KsConvention PowerLawKs { get; init; } = KsConvention.Powerlaw;

    /// <summary>The element type the SVD runs in for a weight of type <paramref name="input"/>.</summary>
    internal ScalarType ComputeType(ScalarType input) => SpectralTensors.ComputeType(input, ComputeInFloat64);
}
