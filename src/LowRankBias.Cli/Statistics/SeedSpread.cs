using System.Globalization;

namespace LowRankBias.Statistics;

/// <summary>The spread over seeds that the samples' tables and bands show: mean ± sample standard deviation.</summary>
public static class SeedSpread
{
    /// <summary>Sample standard deviation (n − 1); 0 for a single value, which has no spread to show.</summary>
    public static double Std(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>"mean ± std" of <paramref name="values"/> × <paramref name="scale"/>, or just the value when there is one.</summary>
    public static string MeanStd(IReadOnlyList<double> values, string format, double scale = 1)
    {
        string mean = (scale * values.Average()).ToString(format, CultureInfo.InvariantCulture);
        return values.Count < 2 ? mean : $"{mean} ± {(scale * Std(values)).ToString(format, CultureInfo.InvariantCulture)}";
    }
}
