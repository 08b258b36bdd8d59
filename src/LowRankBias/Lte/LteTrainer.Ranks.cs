using LowRankBias.Spectral;
using LowRankBias.Torch;

namespace LowRankBias.Lte;

public sealed partial class LteTrainer
{
    // Effective rank exp(H) of each adapted layer's update (1/N) Σₙ sBₙAₙ, read before a merge folds it.
    private double[] UpdateEffectiveRanks() => [.. model.lora_layers().Select(l =>
    {
        using Tensor update = model.weight_update(l.path);
        return SpectralMetrics.Analyze(update, l.path).EffectiveRank;
    })];

    // After a merge (B = 0): each layer's rank for the next cycle (LteRankPolicy.Next); the components switched on or
    // off lose their optimizer moments, so a component that comes back starts afresh.
    private void AdaptRanks(LteRankPolicy policy, double[] effectiveRanks)
    {
        var layers = model.lora_layers().ToArray();
        var ranks = model.head_ranks();
        for (int i = 0; i < layers.Length; i++)
        {
            int rank = ranks[i].rank, next = policy.Next(rank, effectiveRanks[i]);
            if (next == rank) continue;
            model.SetHeadRank(layers[i].path, next);
            int from = Math.Min(rank, next), count = Math.Abs(next - rank);
            Tensor a = layers[i].layer.lora_A[LteSite.Adapter], b = layers[i].layer.lora_B[LteSite.Adapter];
            OptimizerState.Edit(optimizer, [a, b], (parameter, state) =>
            {
                using var noGrad = torch.no_grad();
                int dimension = ReferenceEquals(parameter, a) ? 1 : 2;   // A [N, R, in], B [N, out, R]
                foreach (Tensor moment in state.tensors.Values.Where(t => t.shape.SequenceEqual(parameter.shape)))
                {
                    using Tensor components = moment.narrow(dimension, from, count);
                    components.zero_();
                }
            });
        }
    }
}
