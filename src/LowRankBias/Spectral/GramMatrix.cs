using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Gram (kernel) matrices of embeddings and their spectra: the Huh thesis measures a representation's simplicity by
/// the effective rank of K = [κ(φᵢ, φⱼ)] over held-out samples (§2.3; kernels compared in App. 7.3).
/// Features are [n, d], one sample per row (the thesis stores them as columns).
/// </summary>
public static class GramMatrix
{
    /// <summary>The n × n kernel matrix of the rows of <paramref name="features"/>, in float32 (float64 for float64 input),
    /// on the features' device, in the caller's dispose scope.</summary>
    public static Tensor Compute(Tensor features, GramKernel kernel = GramKernel.Cosine)
    {
        SpectralTensors.Check(features, nameof(features), 2, 2, "features [n, d]");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor x = SpectralTensors.FloatingPoint(features);
        Tensor rows = kernel switch
        {
            GramKernel.Linear => x,
            GramKernel.Cosine => SpectralTensors.Normalized(x, 1),
            GramKernel.Correlation => SpectralTensors.Normalized(x - x.mean(1, keepdim: true), 1),
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, null),
        };
        return rows.matmul(rows.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The spectrum of the Gram matrix: <see cref="MatrixSpectrum.SpectralEntropy"/> is the thesis's ρ (Def. 2.3.1, reported
    /// without exponentiation) and <see cref="MatrixSpectrum.EffectiveRank"/> is exp(ρ). K is symmetric positive
    /// semi-definite, so its singular values are its eigenvalues (the squared singular values of the normalised features).
    /// </summary>
    public static MatrixSpectrum Spectrum(Tensor features, GramKernel kernel = GramKernel.Cosine, SpectralOptions? options = null)
    {
        using var scope = torch.NewDisposeScope();
        return SpectralMetrics.Analyze(Compute(features, kernel), $"gram ({kernel})", options);
    }
}
