using LowRankBias.Spectral;
using LowRankBias.Torch;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// How one weight changed between two checkpoints (convolutions flattened to c_out × c_in·kh·kw), from the SVDs
/// W = U S Vᵀ before and W' = U' S' V'ᵀ after, in float64.
/// </summary>
/// <param name="RelativeChange">‖W' − W‖F / ‖W‖F (∞ when W = 0 and W' ≠ 0).</param>
/// <param name="TopSingularValues">The largest singular values before and after (up to k of each).</param>
/// <param name="EffectiveRank">exp(H) of p = σ/Σσ before and after (<see cref="MatrixSpectrum.EffectiveRank"/>).</param>
/// <param name="SubspaceOverlap">‖U_kᵀ U'_k‖F² / k for the top-k left singular vectors: 1 for the same subspace, 0 for orthogonal ones.</param>
/// <param name="Intruders">Indices i &lt; k of the new left singular vectors u'ᵢ whose largest |cos| with any old one is below the
/// threshold: PEFT's intruder dimensions (tuners/lora/intruders.py, <c>reduce_intruder_dimension</c>: top_k, threshold_epsilon).</param>
internal sealed record LayerChange(string Name, long[] Shape, int K, double RelativeChange, double[] TopSingularValuesBefore,
    double[] TopSingularValuesAfter, double EffectiveRankBefore, double EffectiveRankAfter, double SubspaceOverlap, int[] Intruders)
{
    public static LayerChange Of(string name, Tensor before, Tensor after, int topK, double threshold)
    {
        using var scope = NewDisposeScope();
        Tensor w = WeightMatrices.AsMatrix(before, name).to(ScalarType.Float64), w2 = WeightMatrices.AsMatrix(after, name).to(ScalarType.Float64);
        double normBefore = w.norm().item<double>(), delta = (w2 - w).norm().item<double>();
        (Tensor u, Tensor s, _) = linalg.svd(w, full_matrices: false);
        (Tensor u2, Tensor s2, _) = linalg.svd(w2, full_matrices: false);
        int k = (int)Math.Min(topK, s.shape[0]);
        // cos[i, j] = |u'ᵢ · uⱼ| over every old vector j; intruder: max_j below the threshold, among the top k new ones.
        double[] bestCosine = u2.narrow(1, 0, k).T.matmul(u).abs().amax([1]).ToArray<double>();
        Tensor overlap = u.narrow(1, 0, k).T.matmul(u2.narrow(1, 0, k));
        double[] sv = s.ToArray<double>(), sv2 = s2.ToArray<double>();
        return new LayerChange(name, before.shape, k, normBefore == 0 ? (delta == 0 ? 0 : double.PositiveInfinity) : delta / normBefore,
            sv.Take(k).ToArray(), sv2.Take(k).ToArray(), EffectiveRank(sv), EffectiveRank(sv2),
            overlap.pow(2).sum().item<double>() / k, Enumerable.Range(0, k).Where(i => bestCosine[i] < threshold).ToArray());
    }

    private static double EffectiveRank(double[] sv) => sv[0] == 0 ? 0 : MatrixSpectrum.FromSingularValues(sv).EffectiveRank;
}
