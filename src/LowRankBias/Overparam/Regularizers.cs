using LowRankBias.Spectral;
using LowRankBias.Torch;

namespace LowRankBias.Overparam;

/// <summary>
/// Differentiable penalties on weights for any training loop: <c>loss = task + λ·Regularizers.NuclearNorm(ws)</c>.
/// Each returns a 0-d tensor (the sum over the given weights, in their dtype) in the caller's dispose scope.
/// Matrices are taken as they are; convolution kernels [c_out, c_in, kh, kw] are flattened to c_out × c_in·kh·kw
/// (<see cref="WeightMatrices.AsMatrix"/>). Pass <see cref="Overparam.EffectiveWeights"/> to penalise the end-to-end
/// weights of an expanded model.
/// </summary>
/// <remarks>
/// Cost: <see cref="L1"/>, <see cref="L2"/> and <see cref="SquaredFrobenius"/> are elementwise, O(mn) per weight.
/// <see cref="NuclearNorm"/>, <see cref="SpectralEntropy"/> and <see cref="StableRank"/> need a full singular value
/// decomposition in the forward and backward pass, O(mn·min(m, n)) per weight per step, and SVD is hard to
/// parallelise: the thesis calls them infeasible for large models. Their gradients through the SVD are well defined
/// (they depend on singular values only), but the spectral entropy and stable rank are scale-invariant ratios whose
/// gradients grow as the weight shrinks.
/// </remarks>
public static class Regularizers
{
    /// <summary>The penalty <paramref name="kind"/> of <paramref name="weights"/>.</summary>
    public static Tensor Compute(Regularizer kind, IEnumerable<Tensor> weights) => kind switch
    {
        Regularizer.L1 => L1(weights),
        Regularizer.L2 => L2(weights),
        Regularizer.SquaredFrobenius => SquaredFrobenius(weights),
        Regularizer.NuclearNorm => NuclearNorm(weights),
        Regularizer.SpectralEntropy => SpectralEntropy(weights),
        Regularizer.StableRank => StableRank(weights),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>ℓ1: Σ over all entries of all weights of |w|.</summary>
    public static Tensor L1(IEnumerable<Tensor> weights) => Sum(weights, w => w.abs().sum());

    /// <summary>ℓ2: Σ_W ‖vec W‖₂, the Euclidean norm of each weight (not squared; the squared form is
    /// <see cref="SquaredFrobenius"/>, i.e. weight decay).</summary>
    public static Tensor L2(IEnumerable<Tensor> weights) => Sum(weights, w => w.square().sum().sqrt());

    /// <summary>Σ_W ‖W‖_F² = Σ w².</summary>
    public static Tensor SquaredFrobenius(IEnumerable<Tensor> weights) => Sum(weights, w => w.square().sum());

    /// <summary>Σ_W ‖W‖_* = Σ σᵢ(W) (Def. 7.3.4). Needs an SVD per weight (see the remarks on cost).</summary>
    public static Tensor NuclearNorm(IEnumerable<Tensor> weights) => SumOverSpectra(weights, s => s.sum());

    /// <summary>
    /// Σ_W ρ(W) with ρ = −Σ pᵢ ln pᵢ, pᵢ = σᵢ/Σσ, the spectral entropy (<c>MatrixSpectrum.SpectralEntropy</c>): the
    /// penalty the thesis calls effective rank (Def. 2.3.1, without exponentiation); the effective rank exp(ρ) is monotone
    /// in it.
    /// pᵢ is clamped below by the dtype's smallest normal number inside the logarithm so that exact zeros (rank-deficient
    /// weights) give finite gradients. Needs an SVD per weight (see the remarks on cost).
    /// </summary>
    public static Tensor SpectralEntropy(IEnumerable<Tensor> weights) => SumOverSpectra(weights, s =>
    {
        Tensor p = s / s.sum();
        double tiny = p.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        return -(p * p.clamp(tiny, null).log()).sum();
    });

    /// <summary>Σ_W ‖W‖_F² / ‖W‖₂² = Σσᵢ² / σ₁², the stable rank (Def. 7.3.3; <c>IMatrixNorms.StableRank</c>). Needs an SVD per weight (see the remarks on cost).</summary>
    public static Tensor StableRank(IEnumerable<Tensor> weights) => SumOverSpectra(weights, s => s.square().sum() / s[0].square());

    private static Tensor SumOverSpectra(IEnumerable<Tensor> weights, Func<Tensor, Tensor> ofSingularValues) =>
        Sum(weights, w => ofSingularValues(torch.linalg.svdvals(WeightMatrices.AsMatrix(w))));

    private static Tensor Sum(IEnumerable<Tensor> weights, Func<Tensor, Tensor> term)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var scope = torch.NewDisposeScope();
        Tensor? total = null;
        foreach (Tensor w in weights)
        {
            ArgumentNullException.ThrowIfNull(w, nameof(weights));
            if (!w.dtype.IsFloatingPoint())
                throw new ArgumentException($"regularisers need floating-point weights, got {w.dtype}", nameof(weights));
            if (w.numel() == 0)
                throw new ArgumentException($"cannot regularise an empty weight [{string.Join(", ", w.shape)}]", nameof(weights));
            Tensor t = term(w);
            total = total is null ? t : total + t;
        }
        return (total ?? throw new ArgumentException("no weights given to regularise", nameof(weights))).MoveToOuterDisposeScope();
    }
}
