using LowRankBias.Torch;

namespace LowRankBias.Lte;

/// <summary>
/// The heads' updates ΔWₙ = Bₙ diag(cₙ) Aₙ of every adapted layer seen together: their Gram matrix
/// Gᵢⱼ = Σ_layers ⟨ΔWᵢ, ΔWⱼ⟩_F and Σ_layers ‖W‖²_F, in float64. Gᵢⱼ = Σ (BᵢᵀBⱼ ⊙ cᵢcⱼᵀ ⊙ AᵢAⱼᵀ) needs products of
/// the factors only (O((N·r)²·(m + n)) per layer), never an m × n update.
/// </summary>
internal sealed class HeadGeometry
{
    private readonly double[,] _gram;
    private readonly double _baseNormSquared;

    private HeadGeometry(double[,] gram, double baseNormSquared, int first)
    {
        _gram = gram;
        _baseNormSquared = baseNormSquared;
        First = first;
    }

    /// <summary>Where the caller's own heads start in the head order (a distributed rank's place among the gathered heads).</summary>
    public int First { get; }

    /// <summary>Number of heads N.</summary>
    public int Heads => _gram.GetLength(0);

    /// <summary>
    /// From each layer's stacked factors A [N, r, in], B [N, out, r], per-component coefficients c [N, r] (sₙ, or 0
    /// on unused rank) and base weight; every tensor the same on every rank of a distributed run, so is the result.
    /// </summary>
    public static HeadGeometry Of(IEnumerable<(Tensor a, Tensor b, Tensor coefficient, Tensor weight)> layers, int heads, int first = 0)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor gram = torch.zeros([heads, heads], ScalarType.Float64);
        double baseNormSquared = 0;
        foreach ((Tensor a, Tensor b, Tensor coefficient, Tensor weight) in layers)
        {
            long rank = a.size(1);
            Tensor aCat = a.to(ScalarType.Float64).reshape(heads * rank, a.size(2));
            Tensor bCat = (b.to(ScalarType.Float64) * coefficient.to(ScalarType.Float64).to(b.device).unsqueeze(1)).permute(1, 0, 2).reshape(b.size(1), heads * rank);
            Tensor blocks = bCat.t().mm(bCat) * aCat.mm(aCat.t());
            gram = gram + blocks.reshape(heads, rank, heads, rank).sum([1, 3]).cpu();
            baseNormSquared += weight.to(ScalarType.Float64).square().sum().item<double>();
        }
        double[] values = gram.reshape(-1).ToArray<double>();
        var matrix = new double[heads, heads];
        for (int i = 0; i < heads; i++)
            for (int j = 0; j < heads; j++) matrix[i, j] = values[i * heads + j];
        return new HeadGeometry(matrix, baseNormSquared, first);
    }

    /// <summary>cos(ΔWᵢ, ΔWⱼ); NaN when either head has no update.</summary>
    public double Cosine(int i, int j)
    {
        double norms = Math.Sqrt(_gram[i, i] * _gram[j, j]);
        return norms > 0 ? _gram[i, j] / norms : double.NaN;
    }

    /// <summary>The statistics the controller reads.</summary>
    public LteHeadStatistics Statistics(long iteration)
    {
        int n = Heads;
        double cosines = 0, total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                total += _gram[i, j];
                if (j > i) cosines += Cosine(i, j);
            }
        double mean = n < 2 ? double.NaN : cosines / (n * (n - 1) / 2.0);
        double relative = Math.Sqrt(Math.Max(total, 0)) / n / Math.Sqrt(_baseNormSquared);
        return new LteHeadStatistics(iteration, mean, relative);
    }

    /// <summary>
    /// Heads whose update has collapsed onto an earlier head's: j with cos(ΔWᵢ, ΔWⱼ) above <paramref name="threshold"/>
    /// for some i &lt; j that is itself kept. Ascending.
    /// </summary>
    public int[] Collapsed(double threshold)
    {
        var collapsed = new List<int>();
        for (int j = 1; j < Heads; j++)
            if (Enumerable.Range(0, j).Any(i => !collapsed.Contains(i) && Cosine(i, j) > threshold)) collapsed.Add(j);
        return [.. collapsed];
    }
}
