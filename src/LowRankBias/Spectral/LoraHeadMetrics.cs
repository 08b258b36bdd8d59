using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// How differently N parallel LoRA heads ΔWₙ = BₙAₙ have moved (LTE paper App. A.5, Huh thesis App. 8.5), from
/// stacked factors A [N, r, in] and B [N, out, r]. A head whose product is zero (e.g. LoRA's zero-initialised B) has
/// no direction or subspace: its entries are NaN, and so is any mean that includes it. Computed in float64.
/// </summary>
public static class LoraHeadMetrics
{
    /// <summary>[N, N] cosine similarities cos(vec(BᵢAᵢ), vec(BⱼAⱼ)) (signed; 1 on the diagonal).</summary>
    public static double[,] PairwiseCosineSimilarity(Tensor a, Tensor b)
    {
        CheckHeads(a, b);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor vectors = Products(a, b).flatten(1);
        Tensor unit = SpectralTensors.Normalized(vectors, 1);
        return SpectralTensors.ToHostMatrix(WithNaNForZeroHeads(unit.matmul(unit.t()), vectors));
    }

    /// <summary>Mean of <see cref="PairwiseCosineSimilarity"/> over the N(N−1)/2 distinct pairs (the LTE paper's Fig. 5 measure).</summary>
    public static double MeanPairwiseCosineSimilarity(Tensor a, Tensor b) => MeanOverPairs(PairwiseCosineSimilarity(a, b));

    /// <summary>
    /// [N, N] Grassmann distances d(Uᵢ, Uⱼ) = (Σ θₖ²)^½ between the heads' column spaces, where Uₙ holds the top
    /// r' = min(r, out, in) left singular vectors of BₙAₙ (f⊥ of thesis eq. 8.1) and cos θₖ are the singular values of
    /// UᵢᵀUⱼ (principal angles). 0 for the same subspace, up to √r'·π/2 for orthogonal ones. The thesis's square root
    /// is used (the LTE paper's App. A.5 prints the sum without it). If BₙAₙ has rank below r', the missing directions
    /// are arbitrary, as in the paper's definition.
    /// </summary>
    public static double[,] PairwiseGrassmannDistance(Tensor a, Tensor b)
    {
        CheckHeads(a, b);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor bases = ColumnSpaces(a.to(ScalarType.Float64), b.to(ScalarType.Float64));
        Tensor overlaps = bases.mT.unsqueeze(1).matmul(bases.unsqueeze(0));          // [N, N, r', r']
        Tensor cosines = torch.linalg.svdvals(overlaps).clamp(0, 1);
        Tensor distance = AtenOps.Acos(cosines).square().sum(-1).sqrt();
        return SpectralTensors.ToHostMatrix(WithNaNForZeroHeads(distance, Products(a, b).flatten(1)));
    }

    /// <summary>
    /// Mean of <see cref="PairwiseGrassmannDistance"/> over the N(N−1)/2 distinct pairs. Thesis eq. 8.1 writes
    /// 1/(2N)·Σ_{i≠j}, which is (N−1)/2 times this mean.
    /// </summary>
    public static double MeanPairwiseGrassmannDistance(Tensor a, Tensor b) => MeanOverPairs(PairwiseGrassmannDistance(a, b));

    // Column space of BA without forming its SVD at full size: BA = Q_B (R_B A), so its left singular vectors are
    // Q_B times those of the small r × in matrix R_B A.
    private static Tensor ColumnSpaces(Tensor a, Tensor b)
    {
        (Tensor q, Tensor r) = torch.linalg.qr(b);
        (Tensor u, Tensor _, Tensor _) = torch.linalg.svd(r.matmul(a), full_matrices: false);
        return q.matmul(u);
    }

    /// <summary>The [N, N] values with NaN in every row and column of a head whose vec(BₙAₙ) is zero.</summary>
    private static Tensor WithNaNForZeroHeads(Tensor pairwise, Tensor vectors)
    {
        Tensor zero = vectors.norm(2, [1]) == 0;
        return pairwise.masked_fill(zero.unsqueeze(0), double.NaN).masked_fill(zero.unsqueeze(1), double.NaN);
    }

    private static Tensor Products(Tensor a, Tensor b) => b.to(ScalarType.Float64).matmul(a.to(ScalarType.Float64));

    private static void CheckHeads(Tensor a, Tensor b)
    {
        SpectralTensors.Check(a, nameof(a), 3, 3, "stacked LoRA factors A [N, r, in]");
        SpectralTensors.Check(b, nameof(b), 3, 3, "stacked LoRA factors B [N, out, r]");
        if (a.size(0) != b.size(0))
            throw new ArgumentException($"A {SpectralTensors.ShapeText(a)} and B {SpectralTensors.ShapeText(b)} hold different numbers of heads", nameof(b));
        if (a.size(1) != b.size(2))
            throw new ArgumentException($"A {SpectralTensors.ShapeText(a)} and B {SpectralTensors.ShapeText(b)} have different ranks r", nameof(b));
        if (a.size(0) < 2) throw new ArgumentException($"pairwise metrics need at least 2 heads, got {a.size(0)}", nameof(a));
        SpectralTensors.RequireFinite(a, nameof(a));
        SpectralTensors.RequireFinite(b, nameof(b));
    }

    private static double MeanOverPairs(double[,] pairwise)
    {
        int n = pairwise.GetLength(0);
        double sum = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) sum += pairwise[i, j];
        return sum / (n * (n - 1) / 2.0);
    }
}
