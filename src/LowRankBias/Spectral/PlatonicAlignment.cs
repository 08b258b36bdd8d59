using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Spectral;

/// <summary>
/// platonic-rep's measurement pipeline (<c>extract_features.py</c> → <c>measure_alignment.py</c>) for our models: the
/// features of every layer on one input set (<see cref="ExtractFeatures"/>), outliers clamped at the 0.95 quantile
/// (<see cref="RemoveOutliers"/>), rows L2-normalised and each sample's k nearest neighbours found
/// (<see cref="NearestNeighbours"/>), then mutual k-NN between every layer of one model and every layer of another,
/// keeping the best pair (<see cref="BestLayerPair"/>, <c>compute_score</c>), for a list of models
/// (<see cref="Score(IReadOnlyList{ModelNeighbours})"/>, <c>compute_alignment</c>).
/// <para>Memory, for n inputs, models of L layers of widths d_l and k neighbours: features are extracted one model at a
/// time and kept on the host only until its neighbours are found (n·Σd_l·4 bytes); the search holds one
/// [<see cref="PlatonicOptions.BlockRows"/>, n] similarity block on the model's device; what is kept per model-layer is
/// its [n, k] neighbour list (n·k·8 bytes); scoring a layer against all layers of another model compares [L, n, k, k]
/// booleans. For 10 000 inputs, 20 models of 12 layers of width 384 and k = 10: 184 MB of features at a time, 41 MB per
/// block, 192 MB of neighbour lists, 12 MB per comparison — never an n × n matrix.</para>
/// </summary>
public static partial class PlatonicAlignment
{
    /// <summary>
    /// platonic-rep's <c>remove_outliers(feats, q, exact)</c> for one layer's features [n, d]: clamps every entry to
    /// ±t, where t is the q-quantile of |x| over all entries (<paramref name="exact"/>: the sorted magnitudes' entry at
    /// ⌊q·n·d⌋, no interpolation) or the mean over samples of each sample's q-quantile of |x| (linear interpolation, as
    /// <c>torch.quantile</c>; platonic-rep's default). q = 1 returns the features unchanged. A new tensor in the caller's
    /// dispose scope. The pipeline applies it per layer, as platonic-rep does to a list of layers; a stacked [N, L, D]
    /// tensor of equally wide layers would get one threshold over all of them there, which our differing widths rule out.
    /// </summary>
    public static Tensor RemoveOutliers(Tensor features, double q = 0.95, bool exact = false)
    {
        SpectralTensors.Check(features, nameof(features), 2, 2, "features [n, d]");
        if (!(q > 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "the quantile q must lie in (0, 1]");
        SpectralTensors.RequireFinite(features, nameof(features));
        if (q == 1) return features.clone();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor magnitudes = features.abs();
        double threshold;
        if (exact)
        {
            Tensor sorted = magnitudes.reshape(-1).sort().values;
            threshold = Scalar(sorted.select(0, Math.Min((long)(q * sorted.size(0)), sorted.size(0) - 1)));
        }
        else
        {
            Tensor rows = magnitudes.sort(1).values;
            double position = q * (rows.size(1) - 1);
            long below = (long)Math.Floor(position), above = Math.Min(below + 1, rows.size(1) - 1);
            double fraction = position - below;
            threshold = Scalar((rows.select(1, below) * (1 - fraction) + rows.select(1, above) * fraction).mean());
        }
        return features.clamp(-threshold, threshold).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Each sample's <paramref name="k"/> nearest other samples by cosine similarity (inner products of the L2-normalised
    /// rows, as <c>compute_score</c> then <c>compute_nearest_neighbors</c>), nearest first: [n, k] int64 on the CPU.
    /// Similarities are computed <paramref name="blockRows"/> rows at a time on the features' device, so memory is
    /// [blockRows, n], not [n, n]. Ties between equally near samples are broken arbitrarily.
    /// </summary>
    public static Tensor NearestNeighbours(Tensor features, int k = 10, int blockRows = 1024)
    {
        SpectralTensors.Check(features, nameof(features), 2, 2, "features [n, d]");
        long n = features.size(0);
        if (k < 1 || k >= n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, n − 1] = [1, {n - 1}] (a sample is not its own neighbour)");
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, "must be at least 1");
        SpectralTensors.RequireFinite(features, nameof(features));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor rows = SpectralTensors.Normalized(SpectralTensors.FloatingPoint(features), 1);
        var blocks = new List<Tensor>();
        for (long start = 0; start < n; start += blockRows)
        {
            using var blockScope = torch.NewDisposeScope();
            long length = Math.Min(blockRows, n - start);
            Tensor similarity = rows.narrow(0, start, length).matmul(rows.t());
            AtenOps.FillDiagonal(similarity.narrow(1, start, length), double.NegativeInfinity);   // the block's own samples
            blocks.Add(similarity.topk(k, dim: 1).indices.to(Device.CPU).MoveToOuterDisposeScope());
        }
        return torch.cat(blocks.ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mutual k-NN from neighbour lists [n, k] (<see cref="NearestNeighbours"/>): the mean over samples of the share of
    /// their k neighbours that both lists contain; equals <see cref="RepresentationAlignment.MutualKnn"/> of the features.
    /// </summary>
    public static double MutualKnn(Tensor neighboursA, Tensor neighboursB)
    {
        CheckLists(neighboursA, neighboursB);
        using var scope = torch.NewDisposeScope();
        return Scalar(SharedCounts(neighboursA, neighboursB.unsqueeze(0)).mean()) / neighboursA.size(1);
    }

    /// <summary>
    /// platonic-rep's <c>compute_score</c> with mutual k-NN: every layer of <paramref name="a"/> against every layer of
    /// <paramref name="b"/>, keeping the first pair (in row-major order) with the strictly highest score above 0.
    /// </summary>
    public static LayerPairScore BestLayerPair(ModelNeighbours a, ModelNeighbours b)
    {
        double[,] scores = LayerScores(a, b);
        var best = new LayerPairScore(0, -1, -1);
        for (int i = 0; i < scores.GetLength(0); i++)
            for (int j = 0; j < scores.GetLength(1); j++)
                if (scores[i, j] > best.Score) best = new LayerPairScore(scores[i, j], i, j);
        return best;
    }

    /// <summary>Mutual k-NN of every layer pair: entry [i, j] compares layer i of <paramref name="a"/> with layer j of <paramref name="b"/>.</summary>
    public static double[,] LayerScores(ModelNeighbours a, ModelNeighbours b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        CheckLists(a[0], b[0]);
        using var scope = torch.NewDisposeScope();
        Tensor stackedB = torch.stack(Enumerable.Range(0, b.Count).Select(j => b[j]).ToArray());   // [Lb, n, k]
        var scores = new double[a.Count, b.Count];
        for (int i = 0; i < a.Count; i++)
        {
            using var layerScope = torch.NewDisposeScope();
            double[] row = (SharedCounts(a[i], stackedB).mean(1) / a.K).to(ScalarType.Float64).ToArray<double>();
            for (int j = 0; j < b.Count; j++) scores[i, j] = row[j];
        }
        return scores;
    }

    /// <summary>
    /// <see cref="BestLayerPair"/> for every pair of <paramref name="models"/> (platonic-rep's <c>compute_alignment</c>
    /// with mutual k-NN): symmetric, each pair scored once.
    /// </summary>
    public static PairwiseAlignment Score(IReadOnlyList<ModelNeighbours> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) throw new ArgumentException("the list of models is empty", nameof(models));
        for (int i = 1; i < models.Count; i++)
            if (models[i].Samples != models[0].Samples || models[i].K != models[0].K)
                throw new ArgumentException($"models[{i}] ({models[i].Name}) has {models[i].Samples} samples × {models[i].K} neighbours, " +
                                            $"models[0] ({models[0].Name}) {models[0].Samples} × {models[0].K}: all must describe the same inputs with the same k", nameof(models));
        int m = models.Count;
        var scores = new double[m, m];
        var pairs = new LayerPairScore[m, m];
        for (int i = 0; i < m; i++)
            for (int j = i; j < m; j++)
            {
                LayerPairScore best = BestLayerPair(models[i], models[j]);
                (scores[i, j], pairs[i, j]) = (best.Score, best);
                (scores[j, i], pairs[j, i]) = (best.Score, best with { LayerA = best.LayerB, LayerB = best.LayerA });
            }
        return new PairwiseAlignment(models.Select(x => x.Name).ToArray(), scores, pairs);
    }

    /// <summary>
    /// The whole pipeline for a list of models on one input set: <see cref="Neighbours"/> of each (one at a time, with
    /// its <see cref="DefaultTaps"/>), then <see cref="Score(IReadOnlyList{ModelNeighbours})"/>.
    /// </summary>
    public static PairwiseAlignment Score(IReadOnlyList<(string Name, Module Model)> models, Tensor inputs, PlatonicOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) throw new ArgumentException("the list of models is empty", nameof(models));
        options ??= new PlatonicOptions();
        options.Validate();
        CheckInputs(inputs, options);
        var neighbours = new List<ModelNeighbours>();
        try
        {
            foreach ((string name, Module model) in models) neighbours.Add(Neighbours(name, model, inputs, options));
            return Score(neighbours);
        }
        finally
        {
            foreach (ModelNeighbours n in neighbours) n.Dispose();
        }
    }

    /// <summary>[n] number of shared entries of each row of a [n, k] list with the same row of each of [L, n, k] lists: [L, n].</summary>
    private static Tensor SharedCounts(Tensor a, Tensor b) =>
        (a.unsqueeze(0).unsqueeze(3) == b.unsqueeze(2)).sum([2, 3], dtype: ScalarType.Float64);

    private static void CheckLists(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.dim() != 2 || !a.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"neighbour lists must both be [n, k] for the same n and k, got {SpectralTensors.ShapeText(a)} and {SpectralTensors.ShapeText(b)}", nameof(b));
    }

    private static void CheckInputs(Tensor inputs, PlatonicOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1 || inputs.size(0) < 2) throw new ArgumentException($"expected a batch of at least 2 inputs, got {SpectralTensors.ShapeText(inputs)}", nameof(inputs));
        if (options.K >= inputs.size(0))
            throw new ArgumentOutOfRangeException(nameof(options), options.K, $"k must lie in [1, n − 1] = [1, {inputs.size(0) - 1}] for {inputs.size(0)} inputs");
    }

    private static double Scalar(Tensor t) => t.to(Device.CPU, ScalarType.Float64).item<double>();
}
