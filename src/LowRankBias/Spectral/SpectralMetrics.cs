using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Exact spectral metrics of weight matrices (see <see cref="MatrixSpectrum"/> for each metric and its source).
/// Many weights are analysed with one batched SVD per group of equal matrix shape, on the weights' device;
/// only the singular values come back to the host. Weights may require grad: nothing is recorded.
/// </summary>
public static class SpectralMetrics
{
    /// <summary>The spectrum of one weight (2-D, or 4-D convolution).</summary>
    public static MatrixSpectrum Analyze(Tensor weight, string name = "", SpectralOptions? options = null) =>
        Analyze([(name, weight)], options)[0];

    /// <summary>The spectra of many named weights, in the given order.</summary>
    /// <exception cref="ArgumentException">A weight is not 2-D or 4-D, is empty, is not floating point or has NaN or ±∞
    /// entries; or the list is empty.</exception>
    public static IReadOnlyList<MatrixSpectrum> Analyze(IReadOnlyList<(string name, Tensor weight)> weights, SpectralOptions? options = null)
    {
        options ??= SpectralOptions.Default;
        double[][][] singularValues = MatrixBatching.Run(weights, options.ConvolutionLayout, options.ComputeType, SingularValuesOrNaN);
        for (int i = 0; i < weights.Count; i++)
            if (singularValues[i].Any(group => group.Any(double.IsNaN)))
                throw new ArgumentException($"weight '{weights[i].name}' has NaN or ±∞ entries: its spectrum is undefined " +
                    "(a diverged run? check the loss before the weights)", nameof(weights));
        var spectra = new MatrixSpectrum[weights.Count];
        for (int i = 0; i < spectra.Length; i++)
        {
            (string name, Tensor weight) = weights[i];
            spectra[i] = MatrixSpectrum.FromSingularValues(singularValues[i].SelectMany(s => s).OrderDescending(), name, weight.shape, options);
        }
        return spectra;
    }

    // LAPACK fails (or loops) on NaN/Inf, so such matrices are replaced by zeros for the SVD and get NaN singular values,
    // which Analyze refuses after the one batched call (no extra device synchronisation).
    private static Tensor SingularValuesOrNaN(Tensor matrices)
    {
        using Tensor finiteEntries = matrices.isfinite();
        using Tensor finiteRows = AtenOps.All(finiteEntries, -1);
        using Tensor finite = AtenOps.All(finiteRows, -1);
        using Tensor finite3 = finite.view(-1, 1, 1);
        using Tensor safe = torch.where(finite3, matrices, 0);
        using Tensor s = torch.linalg.svdvals(safe);
        using Tensor finite2 = finite.view(-1, 1);
        return torch.where(finite2, s, double.NaN);
    }
}
