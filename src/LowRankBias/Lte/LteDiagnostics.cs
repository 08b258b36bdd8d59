using LowRankBias.Spectral;
using LowRankBias.Torch;

namespace LowRankBias.Lte;

/// <summary>How one LTE layer's heads relate (LTE paper App. A.5 and B): their pairwise similarity and the spread of the update they will merge.</summary>
/// <param name="Path">The layer's path in the model.</param>
/// <param name="MeanCosineSimilarity">Mean pairwise cosine similarity of the heads' BₙAₙ (<see cref="LoraHeadMetrics.MeanPairwiseCosineSimilarity"/>).</param>
/// <param name="MeanGrassmannDistance">Mean pairwise Grassmann distance of the heads' column spaces (<see cref="LoraHeadMetrics.MeanPairwiseGrassmannDistance"/>).</param>
/// <param name="UpdateEffectiveRank">Effective rank exp(H) of the head-averaged update the next merge adds (<see cref="Lte.weight_update"/>).</param>
public sealed record LteLayerDiagnostics(string Path, double MeanCosineSimilarity, double MeanGrassmannDistance, double UpdateEffectiveRank);

/// <summary>Per-layer head diagnostics of an <see cref="Lte"/> model. Heads whose B is still zero have no direction, so the pairwise
/// measures are NaN right after a reset merge; with a single head they are NaN too.</summary>
public static class LteDiagnostics
{
    /// <summary>The diagnostics of every adapted layer, in model order.</summary>
    public static IReadOnlyList<LteLayerDiagnostics> Measure(Lte model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<LteLayerDiagnostics>();
        foreach ((string path, var layer) in model.lora_layers())
        {
            (Tensor a, Tensor b) = layer.HeadFactors(LteSite.Adapter);
            using Tensor ownedA = a, ownedB = b;
            bool pairs = model.heads > 1;
            double cosine = pairs ? LoraHeadMetrics.MeanPairwiseCosineSimilarity(a, b) : double.NaN;
            double grassmann = pairs ? LoraHeadMetrics.MeanPairwiseGrassmannDistance(a, b) : double.NaN;
            using Tensor update = model.weight_update(path);
            double effectiveRank = SpectralMetrics.Analyze(update, path).EffectiveRank;
            result.Add(new LteLayerDiagnostics(path, cosine, grassmann, effectiveRank));
        }
        return result;
    }
}
