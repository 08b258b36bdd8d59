using LowRankBias.Spectral;
using LowRankBias.Torch;

namespace LowRankBias.Overparam;

/// <summary>
/// The random-network experiment of the Huh thesis (§2.4.1, Observation 2.4.1, Fig. 2.2): draw many networks
/// y = W_d ψ(⋯ψ(W_1 x)) with square width×width weights, feed the same random inputs, and record the effective rank
/// ρ of the cosine Gram matrix of the outputs; deeper networks put more mass on low ρ. ψ is the identity (linear
/// networks) or ReLU. All randomness comes from System.Random seeded by <c>seed</c>, so libtorch's generator is untouched.
/// </summary>
public static class RandomNetworks
{
    private static readonly SpectralOptions s_options = new() { FitPowerLaw = false };

    /// <summary>
    /// ρ (the spectral entropy, <see cref="MatrixSpectrum.SpectralEntropy"/>, as the thesis reports it) of
    /// the cosine Gram matrix (<see cref="GramEntropy"/>) for <paramref name="samples"/> independent networks of depth
    /// <paramref name="depth"/> on one fixed set of <paramref name="inputs"/> standard normal inputs. Computed in float64.
    /// </summary>
    public static double[] GramEntropies(int depth, int width, int inputs, int samples, bool relu,
        WeightDistribution distribution = WeightDistribution.Normal, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var random = new Random(seed);
        using Tensor x = Draw(random, inputs, width, WeightDistribution.Normal, 1);
        var entropies = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            using var scope = torch.NewDisposeScope();
            Tensor h = x;
            for (int layer = 0; layer < depth; layer++)
            {
                h = h.mm(Draw(random, width, width, distribution, 1.0 / width).t());
                if (relu && layer < depth - 1) h = h.relu();
            }
            entropies[s] = GramEntropy(h);
        }
        return entropies;
    }

    /// <summary>
    /// ρ of the cosine Gram matrix K = F̂F̂ᵀ of the rows of <paramref name="features"/> [n, w] (F̂: rows scaled to unit
    /// length). When w &lt; n it is computed from the w × w dual F̂ᵀF̂, which has the same non-zero eigenvalues (and zeros
    /// add nothing to the entropy), at a fraction of the cost of the n × n decomposition.
    /// </summary>
    public static double GramEntropy(Tensor features)
    {
        SpectralTensors.Check(features, nameof(features), 2, 2, "features [n, w]");
        if (features.size(1) >= features.size(0)) return GramMatrix.Spectrum(features, GramKernel.Cosine, s_options).SpectralEntropy;
        using var scope = torch.NewDisposeScope();
        Tensor unitRows = SpectralTensors.Normalized(SpectralTensors.FloatingPoint(features), 1);
        return GramMatrix.Spectrum(unitRows.t(), GramKernel.Linear, s_options).SpectralEntropy;
    }

    private static Tensor Draw(Random random, long rows, long cols, WeightDistribution distribution, double variance)
    {
        if (distribution == WeightDistribution.Normal)
        {
            using Tensor standard = SeededGaussian.Matrix(rows, cols, random.Next(), ScalarType.Float64, Device.CPU);
            return standard * Math.Sqrt(variance);
        }
        var values = new double[rows * cols];
        double bound = Math.Sqrt(3 * variance);
        for (long i = 0; i < values.LongLength; i++) values[i] = (2 * random.NextDouble() - 1) * bound;
        return torch.from_array<double>(values, [rows, cols]);
    }
}
