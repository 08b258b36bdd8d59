namespace LowRankBias.Torch.Data;

/// <summary>
/// Least squares with a ground truth of controlled rank (Huh, ch. 2): W* = U diag(s) Vᵀ with U, V random
/// orthonormal factors of r columns, so rank(W*) = r exactly; samples are x ~ N(0, I), y = W* x (+ noise),
/// i.e. Y = X W*ᵀ. Owns <see cref="Weight"/>.
/// </summary>
public sealed class LowRankRegression : IDisposable
{
    private readonly ulong _seed;

    /// <summary>A task with an <paramref name="outFeatures"/>×<paramref name="inFeatures"/> ground truth of the given rank.</summary>
    /// <param name="inFeatures">Input dimension.</param>
    /// <param name="outFeatures">Output dimension.</param>
    /// <param name="rank">rank(W*), at most min(in, out).</param>
    /// <param name="seed">Seed of W* and, combined with each sample seed, of the samples.</param>
    /// <param name="singularValues">The r non-zero singular values (all 1 by default); must be positive.</param>
    public LowRankRegression(int inFeatures, int outFeatures, int rank, ulong seed = 0, double[]? singularValues = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        if (rank < 1 || rank > Math.Min(inFeatures, outFeatures))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"must lie in 1…{Math.Min(inFeatures, outFeatures)}");
        double[] s = singularValues ?? Enumerable.Repeat(1.0, rank).ToArray();
        if (s.Length != rank) throw new ArgumentException($"{s.Length} singular values given for rank {rank}", nameof(singularValues));
        if (s.Any(v => !(v > 0) || double.IsInfinity(v))) throw new ArgumentException("singular values must be positive and finite", nameof(singularValues));
        Rank = rank;
        _seed = seed;

        using var scope = torch.NewDisposeScope();
        var rng = SplitMix64.Derive(seed, 0);
        Tensor u = RandomTensors.Orthonormal(rng, outFeatures, rank);
        Tensor v = RandomTensors.Orthonormal(rng, inFeatures, rank);
        Tensor sigma = torch.tensor(s);
        Tensor w = (u * sigma).mm(v.t());
        Weight = w.to(ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>The ground truth W*, float32 [outFeatures, inFeatures] (owned by the task).</summary>
    public Tensor Weight { get; }

    /// <summary>rank(W*).</summary>
    public int Rank { get; }

    /// <summary>
    /// <paramref name="n"/> samples (X float32 [n, in], Y float32 [n, out]) with Y = X W*ᵀ + σ·N(0, I): the noise is drawn
    /// once (the thesis's static noise); draw fresh noise per step in the training loop for its stochastic variant.
    /// </summary>
    public TensorDataset Sample(long n, double noiseStd = 0, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (!(noiseStd >= 0)) throw new ArgumentOutOfRangeException(nameof(noiseStd), noiseStd, "must be non-negative");
        using var scope = torch.NewDisposeScope();
        var rng = SplitMix64.Derive(_seed, 1, seed);
        Tensor x = RandomTensors.Normal(rng, [n, Weight.size(1)], ScalarType.Float64);
        Tensor w = Weight.to(ScalarType.Float64);
        Tensor y = x.mm(w.t());
        if (noiseStd > 0) y = y + RandomTensors.Normal(rng, y.shape, ScalarType.Float64) * noiseStd;
        return new TensorDataset(x.to(ScalarType.Float32), y.to(ScalarType.Float32));
    }

    /// <summary>Frees <see cref="Weight"/>.</summary>
    public void Dispose() => Weight.Dispose();
}
