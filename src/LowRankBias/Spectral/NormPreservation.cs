namespace LowRankBias.Spectral;

/// <summary>Frobenius norms of a network's layers and their spread (Kuzborskij et al., Lemma 3: equal at stationarity).</summary>
/// <param name="Norms">Each layer's name and ‖W‖_F, in the given order.</param>
/// <param name="Mean">Mean of the norms.</param>
/// <param name="CoefficientOfVariation">Population standard deviation / mean: 0 when every norm is equal.</param>
/// <param name="MaxToMinRatio">Largest / smallest norm: 1 when every norm is equal (+∞ if one is zero).</param>
public sealed record NormPreservation(IReadOnlyList<(string Name, double Norm)> Norms, double Mean, double CoefficientOfVariation,
    double MaxToMinRatio)
{
    internal static NormPreservation From((string Name, double Norm)[] norms)
    {
        double[] values = norms.Select(n => n.Norm).ToArray();
        double mean = values.Average();
        double std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        return new NormPreservation(norms, mean, std / mean, values.Max() / values.Min());
    }
}
