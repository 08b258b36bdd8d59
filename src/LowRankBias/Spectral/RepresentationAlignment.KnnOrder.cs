using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>
    /// platonic-rep's <c>lcs_knn(feats_A, feats_B, topk)</c> after <c>compute_score</c>'s row normalisation: each sample's
    /// k nearest other samples are listed nearest first in both representations, and the score is the mean over samples
    /// of the length of the longest common subsequence of the two lists. Unlike <see cref="MutualKnn"/> it rewards
    /// agreeing order, and it is not divided by k (as in platonic-rep): k when every list agrees, near 0 for unrelated
    /// representations. Neighbours are found as by <see cref="MutualKnn"/> with <paramref name="metric"/>; ties between
    /// equally near samples are broken arbitrarily (platonic-rep's unstable argsort has no rule either); NaN when a
    /// representation has no nearest neighbours (see <see cref="MutualKnn"/>).
    /// </summary>
    public static double LcsKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine) =>
        MeanOverNeighbourLists(x, y, k, metric, LongestCommonSubsequence);

    /// <summary>
    /// platonic-rep's <c>edit_distance_knn(feats_A, feats_B, topk)</c> after <c>compute_score</c>'s row normalisation:
    /// 1 − mean over samples of the Levenshtein distance (insertions, deletions, substitutions, each costing 1, as
    /// torchaudio's <c>edit_distance</c>) between the two nearest-first lists of k neighbours, divided by k. 1 when every
    /// list agrees in order; can approach 0 for unrelated representations. Neighbours, ties and NaN as for
    /// <see cref="LcsKnn"/>.
    /// </summary>
    public static double EditDistanceKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine) =>
        1 - MeanOverNeighbourLists(x, y, k, metric, (a, b) => Levenshtein.Distance<long>(a, b)) / k;

    private static double MeanOverNeighbourLists(Tensor x, Tensor y, int k, KnnMetric metric, Func<long[], long[], int> compare) =>
        OverSimilarities(x, y, k, metric, (sx, sy, n) =>
        {
            long[] lx = OrderedNeighbours(sx, k), ly = OrderedNeighbours(sy, k);
            double total = 0;
            for (long i = 0; i < n; i++)
                total += compare(lx.AsSpan((int)(i * k), k).ToArray(), ly.AsSpan((int)(i * k), k).ToArray());
            return total / n;
        });

    /// <summary>Row-major [n, k]: row i lists the k samples most similar to i (excluding i), most similar first.</summary>
    private static long[] OrderedNeighbours(Tensor similarity, int k)
    {
        Tensor others = similarity.clone();
        AtenOps.FillDiagonal(others, double.NegativeInfinity);
        (Tensor _, Tensor indices) = others.topk(k, dim: 1, largest: true, sorted: true);
        return indices.to(Device.CPU).contiguous().ToArray<long>();
    }

    /// <summary>Length of the longest common subsequence (the classic dynamic programme, one row kept).</summary>
    internal static int LongestCommonSubsequence(long[] a, long[] b)
    {
        var row = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = 0;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = a[i - 1] == b[j - 1] ? diagonal + 1 : Math.Max(row[j], row[j - 1]);
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
