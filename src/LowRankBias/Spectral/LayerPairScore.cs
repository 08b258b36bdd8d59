namespace LowRankBias.Spectral;

/// <summary>The best-aligned layer pair of two models: mutual k-NN <see cref="Score"/> between layer
/// <see cref="LayerA"/> of the first and <see cref="LayerB"/> of the second (indices into their
/// <see cref="ModelNeighbours.LayerNames"/>; both −1 when no pair scores above 0, platonic-rep's <c>None</c>).</summary>
public sealed record LayerPairScore(double Score, int LayerA, int LayerB);

/// <summary>Mutual k-NN alignment between every pair of models: <see cref="Scores"/>[i, j] is the best layer pair's score
/// of models i and j (1 on the diagonal), <see cref="Pairs"/>[i, j] that pair (layer of i, layer of j).</summary>
public sealed record PairwiseAlignment(IReadOnlyList<string> Names, double[,] Scores, LayerPairScore[,] Pairs);
