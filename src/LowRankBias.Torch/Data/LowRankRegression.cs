namespace LowRankBias.Torch.Data;

/// <summary>
/// Least squares with a ground truth of controlled rank (Huh, ch. 2): W* = U diag(s) Vᵀ with U, V random
/// orthonormal factors of r columns, so rank(W*) = r exactly; samples are x ~ N(0, I), y = W* x (+ noise),
/// i.e. Y = X W*ᵀ. Owns <see cref="weight"/>.
/// </summary>
public sealed class LowRankRegression : IDisposable
{
    private readonly ulong _seed;

    /// <summary>A task with an <paramref name="out_features"/>×<paramref name="in_features"/> ground truth of the given rank.</summary>
    /// <param name="in_features">Input dimension.</param>
    /// <param name="out_features">Output dimension.</param>
    /// <param name="rank">rank(W*), at most min(in, out).</param>
    /// <param name="seed">Seed of W* and, combined with each sample seed, of the samples.</param>
    /// <param name="singular_values">The r non-zero singular values (all 1 by default); must be positive.</param>
    public LowRankRegression(int in_features, int out_features, int rank, ulong seed = 0, double[]? singular_values = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(in_features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(out_features, 1);
        if (rank < 1 || rank > Math.Min(in_features, out_features))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"must lie in 1…{Math.Min(in_features, out_features)}");
        double[] s = singular_values ?? Enumerable.Repeat(1.0, rank).ToArray();
        if (s.Length != rank) throw new ArgumentException($"{s.Length} singular values given for rank {rank}", nameof(singular_values));
        if (s.Any(v => !(v > 0) || double.IsInfinity(v))) throw new ArgumentException("singular values must be positive and finite", nameof(singular_values));
        this.rank = rank;
        _seed = seed;

        using var scope = torch.NewDisposeScope();
        var rng = SplitMix64.Derive(seed, 0);
        Tensor u = RandomTensors.Orthonormal(rng, out_features, rank);
        Tensor v = RandomTensors.Orthonormal(rng, in_features, rank);
        Tensor sigma = torch.tensor(s);
        Tensor w = (u * sigma).mm(v.t());
        weight = w.to(ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>The ground truth W*, float32 [out_features, in_features] (owned by the task).</summary>
    public Tensor weight { get; }

    /// <summary>rank(W*).</summary>
    public int rank { get; }

    /// <summary>
    /// <paramref name="n"/> samples (X float32 [n, in], Y float32 [n, out]) with Y = X W*ᵀ + σ·N(0, I): the noise is drawn
    /// once (the thesis's static noise); draw fresh noise per step in the training loop for its stochastic variant.
    /// </summary>
    public TensorDataset Sample(long n, double noise_std = 0, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (!(noise_std >= 0)) throw new ArgumentOutOfRangeException(nameof(noise_std), noise_std, "must be non-negative");
        using var scope = torch.NewDisposeScope();
        var rng = SplitMix64.Derive(_seed, 1, seed);
        Tensor x = RandomTensors.Normal(rng, [n, weight.size(1)], ScalarType.Float64);
        Tensor w = weight.to(ScalarType.Float64);
        Tensor y = x.mm(w.t());
        if (noise_std > 0) y = y + RandomTensors.Normal(rng, y.shape, ScalarType.Float64) * noise_std;
        return new TensorDataset(x.to(ScalarType.Float32), y.to(ScalarType.Float32));
    }

    /// <summary>Frees <see cref="weight"/>.</summary>
    public void Dispose() => weight.Dispose();
}
