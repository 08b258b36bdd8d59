using LowRankBias.Statistics;
using LowRankBias.Overparam;

namespace OverparamExperiments;

/// <summary>
/// Thesis Fig. 2.2 / Obs. 2.4.1: for depths 1…D, draw random width×width networks (normal weights), feed the same
/// random inputs, and record ρ of the cosine Gram matrix of the outputs (<see cref="RandomNetworks.GramEntropies"/>).
/// Writes every sample, a summary per (activation, depth), and histogram-density plots.
/// </summary>
internal static class RandomRank
{
    private const int Bins = 30;

    public static void Run(Preset p, string outDir)
    {
        var samples = new Dictionary<(bool relu, int depth), double[]>();
        foreach (bool relu in new[] { false, true })
            for (int depth = 1; depth <= p.RandomMaxDepth; depth++)
            {
                samples[(relu, depth)] = RandomNetworks.GramEntropies(depth, p.RandomWidth, p.RandomInputs, p.RandomSamples, relu, seed: 100 * depth + (relu ? 1 : 0));
                double[] s = samples[(relu, depth)];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"random {(relu ? "relu  " : "linear")} depth {depth}: mean ρ {s.Average():F3} ± {SeedSpread.Std(s):F3}"));
            }

        var sampleTable = new CsvTable("activation", "depth", "sample", "rho");
        var summaryTable = new CsvTable("activation", "depth", "samples", "mean_rho", "std_rho", "p10", "median", "p90");
        foreach (((bool relu, int depth), double[] values) in samples)
        {
            string activation = relu ? "relu" : "linear";
            for (int i = 0; i < values.Length; i++) sampleTable.Add(activation, depth, i, CsvTable.Fixed(values[i], 6));
            double[] s = values.Order().ToArray();
            summaryTable.Add(activation, depth, s.Length, CsvTable.Fixed(s.Average(), 4), CsvTable.Fixed(SeedSpread.Std(s), 4),
                CsvTable.Fixed(s[s.Length / 10], 4), CsvTable.Fixed(s[s.Length / 2], 4), CsvTable.Fixed(s[9 * s.Length / 10], 4));
        }
        sampleTable.Save(Path.Combine(outDir, "random_rank_samples.csv"));
        summaryTable.Save(Path.Combine(outDir, "random_rank_summary.csv"));

        foreach (bool relu in new[] { false, true })
        {
            // Each activation its own range: the linear networks' ρ spans a narrow band that shared bins would not resolve.
            double[][] own = samples.Where(kv => kv.Key.relu == relu).Select(kv => kv.Value).ToArray();
            double lo = own.Min(s => s.Min()), hi = own.Max(s => s.Max());
            var chart = new LineChart
            {
                Title = $"{(relu ? "ReLU" : "Linear")} networks: ρ of the Gram matrix ({p.RandomSamples} draws, width {p.RandomWidth}, {p.RandomInputs} inputs)",
                XLabel = "effective rank ρ (entropy, nats)",
                YLabel = "density",
            };
            var series = Enumerable.Range(1, p.RandomMaxDepth).Select(d => new ChartSeries($"depth {d}", Density(samples[(relu, d)], lo, hi))).ToList();
            chart.Save(Path.Combine(outDir, $"random_rank_{(relu ? "relu" : "linear")}.svg"), series);
        }
    }

    // Histogram density on Bins equal bins over [lo, hi], plotted at bin centres.
    private static List<(double, double)> Density(double[] values, double lo, double hi)
    {
        double width = (hi - lo) / Bins;
        var counts = new int[Bins];
        foreach (double v in values) counts[Math.Min(Bins - 1, (int)((v - lo) / width))]++;
        return counts.Select((c, i) => (lo + (i + 0.5) * width, c / (values.Length * width))).ToList();
    }
}
