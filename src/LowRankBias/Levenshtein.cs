namespace LowRankBias;

/// <summary>The edit distance of two sequences, shared by <see cref="Spectral.RepresentationAlignment.EditDistanceKnn"/>
/// (neighbour lists) and the programs' "did you mean" (option names).</summary>
public static class Levenshtein
{
    /// <summary>The fewest insertions, deletions and substitutions, each costing 1, that turn <paramref name="a"/> into
    /// <paramref name="b"/> (torchaudio's <c>edit_distance</c>; the classic dynamic programme, one row kept).</summary>
    public static int Distance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        int[] row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1].Equals(b[j - 1]) ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
