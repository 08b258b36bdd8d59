namespace LowRankBias.Tool.Analysis;

/// <summary>
/// WeightWatcher's automatic Marchenko–Pastur fit of an ESD (<c>WeightWatcher.mp_fit</c> with
/// <c>RMT_Util.fit_density_with_range</c> and <c>resid_mp</c>): the eigenvalues are rescaled to mean 1; their density is
/// estimated by a linear-kernel KDE (bandwidth 0.1) on 1000 points of [0, max + 0.5], kept where it exceeds 0.01; σ is
/// searched on the grid 0.05·s, 0.06·s, … &lt; 2·s (s = √(λmax)/(1 + 1/√Q)) for the least squared residual against the
/// MP density — or, for Q = 1, against WeightWatcher's quarter-circle law of the singular values — a σ whose bulk edges
/// miss the KDE's peak scoring 1000 per point. WeightWatcher then polishes the best grid σ with Nelder–Mead
/// (<c>optimize.brute</c>'s default finish); we keep the grid point, so σ_mp may differ by less than one step (s/100).
/// </summary>
/// <param name="SigmaMp">σ of the fit (in the rescaled units, as WeightWatcher reports it).</param>
/// <param name="NumSpikes">Eigenvalues above the bulk edge λ+ plus the Tracy–Widom margin √(Q^(−1/2) λ+^(2/3) M^(−2/3)).</param>
/// <param name="MpSoftrank">λ+ / λmax.</param>
/// <param name="BulkMin">λ− in the ESD's own units.</param>
/// <param name="BulkMax">λ+ in the ESD's own units.</param>
internal sealed record MarchenkoPasturFit(double SigmaMp, int NumSpikes, double MpSoftrank, double BulkMin, double BulkMax)
{
    private const double Bandwidth = 0.1, DensityFloor = 0.01, Penalty = 1000;
    private const int GridPoints = 1000;

    /// <summary>Fits the eigenvalues <paramref name="evals"/> of N × M matrices (Q = N/M ≥ 1). A zero matrix has no
    /// bulk to fit (WeightWatcher's fit fails there and reports −1): NaN, and no spike.</summary>
    public static MarchenkoPasturFit Fit(double[] evals, int n, int m)
    {
        if (evals.Sum() == 0) return new MarchenkoPasturFit(double.NaN, 0, double.NaN, double.NaN, double.NaN);
        double q = (double)n / m;
        double wscale = Math.Sqrt(evals.Length) / Math.Sqrt(evals.Sum());
        double[] scaled = evals.Select(e => wscale * wscale * e).ToArray();
        double lambdaMax = scaled.Max();
        double s = Math.Sqrt(lambdaMax / Math.Pow(1 + 1 / Math.Sqrt(q), 2)); // RMT_Util.calc_sigma
        double[] toFit = q == 1 ? scaled.Select(Math.Sqrt).ToArray() : scaled;
        (double[] x, double[] density) = Kde(toFit);

        double start = 0.05 * s, stop = 2.0 * s, step = 0.01 * s;
        int count = (int)Math.Ceiling((stop - start) / step); // np.mgrid[slice(start, stop, step)]
        double best = double.PositiveInfinity, sigma = start;
        for (int k = 0; k < count; k++)
        {
            double candidate = k * step + start;
            double residual = Residual(candidate, q, x, density);
            if (residual < best) (best, sigma) = (residual, candidate);
        }
        double bulkMax = Math.Pow(sigma * (1 + 1 / Math.Sqrt(q)), 2), bulkMin = Math.Pow(sigma * (1 - 1 / Math.Sqrt(q)), 2);
        double tracyWidom = 1 / Math.Sqrt(q) * Math.Pow(bulkMax, 2.0 / 3) * Math.Pow(m, -2.0 / 3);
        int spikes = scaled.Count(e => e > bulkMax + Math.Sqrt(tracyWidom));
        return new MarchenkoPasturFit(sigma, spikes, bulkMax / lambdaMax, bulkMin / (wscale * wscale), bulkMax / (wscale * wscale));
    }

    /// <summary>The MP density of eigenvalues λ of an N × M matrix whose bulk ends at <paramref name="bulkMax"/>:
    /// ρ(λ) = Q/(2πσ²λ) √((λ+ − λ)(λ − λ−)) with σ² = λ+/(1 + 1/√Q)², 0 outside [λ−, λ+] (for the plots).</summary>
    public static double Density(double lambda, double q, double bulkMax)
    {
        double sigma2 = bulkMax / Math.Pow(1 + 1 / Math.Sqrt(q), 2), bulkMin = sigma2 * Math.Pow(1 - 1 / Math.Sqrt(q), 2);
        if (lambda <= bulkMin || lambda >= bulkMax) return 0;
        return q / (2 * Math.PI * sigma2 * lambda) * Math.Sqrt((bulkMax - lambda) * (lambda - bulkMin));
    }

    // sklearn's KernelDensity(kernel='linear'): (1/(n·h)) Σ max(0, 1 − |x − xᵢ|/h), on np.linspace(0, max + 0.5, 1000),
    // restricted to the points where it exceeds the floor (the others add 0 to every residual).
    private static (double[] X, double[] Density) Kde(double[] samples)
    {
        double stop = samples.Max() + 0.5, delta = stop / (GridPoints - 1);
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < GridPoints; i++)
        {
            double x = i == GridPoints - 1 ? stop : i * delta;
            double sum = 0;
            foreach (double v in samples) sum += Math.Max(0, 1 - Math.Abs(x - v) / Bandwidth);
            double y = sum / (samples.Length * Bandwidth);
            if (y > DensityFloor) { xs.Add(x); ys.Add(y); }
        }
        return (xs.ToArray(), ys.ToArray());
    }

    private static double Residual(double sigma, double q, double[] x, double[] density)
    {
        double total = 0;
        if (q == 1)
        {
            for (int i = 0; i < x.Length; i++)
            {
                double law = 1 / (Math.PI * sigma * sigma) * Math.Sqrt(4 - x[i] * x[i]);
                double r = (double.IsNaN(law) ? 0 : law) - density[i];
                total += r * r;
            }
            return total;
        }
        double y = 1 / q, b = Math.Pow(sigma * (1 + Math.Sqrt(1 / q)), 2), a = Math.Pow(sigma * (1 - Math.Sqrt(1 / q)), 2);
        double peak = x[Array.IndexOf(density, density.Max())];
        if (b < peak || b > x[^1] || a > peak) return Penalty * Penalty * x.Length;
        for (int i = 0; i < x.Length; i++)
        {
            double law = 1 / (2 * Math.PI * sigma * sigma * x[i] * y) * Math.Sqrt((b - x[i]) * (x[i] - a));
            double r = (double.IsFinite(law) ? law : 0) - density[i];
            total += r * r;
        }
        return total;
    }
}
