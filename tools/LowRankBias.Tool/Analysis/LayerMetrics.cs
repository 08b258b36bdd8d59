using LowRankBias.Spectral;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// One layer's WeightWatcher metrics, named as WeightWatcher's <c>details</c> columns (<c>apply_esd</c>,
/// <c>apply_powerlaw</c>, <c>apply_mp_fit</c>, <c>apply_norm_metrics</c>, <c>apply_random_esd</c>), from its
/// <see cref="Esd"/>. Logarithms are base 10 as there, except in the fit. Where WeightWatcher writes −1 for a failed
/// power-law fit, α and everything made from it are NaN here; the randomized columns are NaN unless asked for.
/// </summary>
internal sealed record LayerMetrics(int LayerId, string Name, long[] Shape, int N, int M, int Rf, int NumEvals,
    double Alpha, double XMin, double D, double Sigma, int NumPlSpikes,
    double Norm, double LogNorm, double SpectralNorm, double LogSpectralNorm, double AlphaWeighted, double LogAlphaNorm,
    double StableRank, int MatrixRank, double Entropy, double SvMax, int RankLoss, int WeakRankLoss,
    double SigmaMp, int NumSpikes, double MpSoftrank, double BulkMin, double BulkMax,
    double RandDistance, int? RandNumSpikes, double MaxRandEval)
{
    /// <summary>fit_powerlaw fits only the eigenvalues above this (constants.EVALS_THRESH).</summary>
    public const double EvalsThreshold = 1e-5;

    /// <summary>weak_rank_loss counts the eigenvalues below this (constants.WEAK_RANK_LOSS_TOLERANCE, analyze's tolerance).</summary>
    public const double WeakRankLossTolerance = 1e-6;

    /// <summary>WeightWatcher's metrics of one ESD; <paramref name="randomized"/>, when given, is the ESD of the
    /// shuffled weight (<see cref="Esd.Randomized"/>: one draw for rand_distance, and the pooled replicas for the MP fit).</summary>
    public static LayerMetrics Of(int layerId, string name, long[] shape, Esd esd, (double[] One, double[] Replicas)? randomized = null)
    {
        double[] evals = esd.Eigenvalues;
        // WW_powerlaw.WWFit: every value but the largest is a candidate x_min, D compared at the left of each step.
        PowerLawFit? fit = PowerLawFit.Fit(evals.Where(e => e > EvalsThreshold), minTailCount: 2, KsConvention.Powerlaw);
        double alpha = fit?.Alpha ?? double.NaN;
        double norm = evals.Sum(), spectral = evals[^1];
        double[] sv = evals.Select(Math.Sqrt).ToArray();
        MarchenkoPasturFit mp = MarchenkoPasturFit.Fit(evals, esd.N, esd.M);
        MarchenkoPasturFit? rand = randomized is { } r ? MarchenkoPasturFit.Fit(r.Replicas, esd.N, esd.M) : null;
        return new LayerMetrics(layerId, name, shape, esd.N, esd.M, esd.Rf, evals.Length,
            alpha, fit?.XMin ?? double.NaN, fit?.KsDistance ?? double.NaN,
            fit is null ? double.NaN : (fit.Alpha - 1) / Math.Sqrt(fit.TailCount),
            fit is null ? 0 : evals.Count(e => e >= fit.XMin),
            norm, Math.Log10(norm), spectral, Math.Log10(spectral), alpha * Math.Log10(spectral),
            Math.Log10(evals.Sum(e => Math.Pow(e, alpha))), norm / spectral, RankOf(sv, esd.N), EntropyOf(sv, esd.N),
            Math.Sqrt(spectral), esd.RankLoss, evals.Count(e => e < WeakRankLossTolerance),
            mp.SigmaMp, mp.NumSpikes, mp.MpSoftrank, mp.BulkMin, mp.BulkMax,
            randomized is { } d ? JensenShannonDistance(evals, d.One) : double.NaN, rand?.NumSpikes,
            randomized is { } e2 ? e2.Replicas.Max() : double.NaN);
    }

    /// <summary>RMT_Util.matrix_rank: the singular values above σmax · N · ε(float64).</summary>
    public static int RankOf(double[] sv, int n)
    {
        double tolerance = sv.Max() * n * Math.Pow(2, -52); // np.finfo(np.float64).eps
        return sv.Count(s => s > tolerance);
    }

    /// <summary>RMT_Util.matrix_entropy: −Σ p ln p / ln(rank) with p = σ²/Σσ² + 10⁻¹⁰ (its EPSILON) and rank + 10⁻¹⁰.</summary>
    public static double EntropyOf(double[] sv, int n)
    {
        const double epsilon = 1e-10;
        double total = sv.Sum(s => s * s);
        double h = sv.Select(s => s * s / total + epsilon).Sum(p => -p * Math.Log(p));
        return h / Math.Log(RankOf(sv, n) + epsilon);
    }

    /// <summary>
    /// RMT_Util.jensen_shannon_distance of two equally long eigenvalue vectors, paired element by element (both sorted):
    /// with m = (p + q)/2, √((KL(p‖m) + KL(q‖m))/2), each argument of KL normalised to sum 1 as scipy.stats.entropy does.
    /// </summary>
    public static double JensenShannonDistance(double[] p, double[] q)
    {
        if (p.Length != q.Length) throw new ArgumentException($"the spectra have {p.Length} and {q.Length} eigenvalues", nameof(q));
        double[] m = p.Zip(q, (a, b) => (a + b) / 2).ToArray();
        return Math.Sqrt((KullbackLeibler(p, m) + KullbackLeibler(q, m)) / 2);
    }

    private static double KullbackLeibler(double[] a, double[] b)
    {
        double sa = a.Sum(), sb = b.Sum(), total = 0;
        for (int i = 0; i < a.Length; i++)
            if (a[i] > 0) total += a[i] / sa * Math.Log(a[i] / sa / (b[i] / sb));
        return total;
    }
}
