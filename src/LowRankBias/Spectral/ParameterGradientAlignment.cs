using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Cosine between parameters and the negative gradient, cos(θ, −∇L). Kuzborskij et al. (Lemma 1) show that gradient
/// descent with weight decay λ converges to λθ = −∇L(θ), where L is the loss without the decay term: the cosine
/// tends to 1. Pass the data-loss gradient, not one that already includes λθ. Accumulated in float64; NaN when θ or
/// the gradient is zero.
/// </summary>
public static class ParameterGradientAlignment
{
    /// <summary>cos(θ, −∇L) for the whole parameter vector (all pairs concatenated).</summary>
    public static double Global(IReadOnlyList<(Tensor parameter, Tensor gradient)> pairs)
    {
        var sums = Sums(pairs);
        return -sums.Sum(s => s.Dot) / Math.Sqrt(sums.Sum(s => s.ParameterSquared) * sums.Sum(s => s.GradientSquared));
    }

    /// <summary>cos(θₖ, −∇_θₖ L) of each pair on its own (Lemma 1 holds per layer too: λWₖ = −∇_Wₖ L).</summary>
    public static double[] PerParameter(IReadOnlyList<(Tensor parameter, Tensor gradient)> pairs) =>
        Sums(pairs).Select(s => -s.Dot / Math.Sqrt(s.ParameterSquared * s.GradientSquared)).ToArray();

    private static (double Dot, double ParameterSquared, double GradientSquared)[] Sums(IReadOnlyList<(Tensor parameter, Tensor gradient)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("no parameter/gradient pairs were given", nameof(pairs));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var sums = new (double, double, double)[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            (Tensor parameter, Tensor gradient) = pairs[i];
            ArgumentNullException.ThrowIfNull(parameter);
            ArgumentNullException.ThrowIfNull(gradient, $"gradient {i}");
            if (!parameter.shape.SequenceEqual(gradient.shape))
                throw new ArgumentException($"pair {i}: parameter {SpectralTensors.ShapeText(parameter)} and gradient {SpectralTensors.ShapeText(gradient)} differ in shape",
                    nameof(pairs));
            Tensor p = parameter.to(ScalarType.Float64), g = gradient.to(ScalarType.Float64);
            Tensor packed = torch.stack([(p * g).sum(), p.square().sum(), g.square().sum()]).cpu();
            double[] v = packed.ToArray<double>();
            sums[i] = (v[0], v[1], v[2]);
        }
        return sums;
    }
}
