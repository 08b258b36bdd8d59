using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Spectral;

/// <summary>Which end of a spectrum <see cref="SvdPruning"/> removes.</summary>
public enum SpectrumPart
{
    /// <summary>The largest singular values.</summary>
    Top,

    /// <summary>The smallest singular values.</summary>
    Bottom,
}

/// <summary>
/// Singular-value pruning (Yunis et al. figure 4): every Linear and Conv2d weight (a convolution flattened to
/// c_out × c_in·kh·kw) but the last layer's loses the top or bottom fraction of its spectrum, W ← U diag(σ ⊙ keep) Vᵀ,
/// to see how much of the function lives in that part. The paper leaves the classifier alone (its rank is at most
/// the number of classes, and pruning it removes classes rather than directions); <c>includeLast</c> prunes it too.
/// <see cref="Apply"/> prunes in place for an evaluation and puts the weights back when disposed.
/// </summary>
public static class SvdPruning
{
    /// <summary>
    /// <paramref name="weight"/> (2-D, or a 4-D convolution weight) with round(<paramref name="fraction"/> · R) of
    /// its R = min(m, n) singular values set to zero, from the <paramref name="part"/> end; a new tensor of the same shape.
    /// </summary>
    public static Tensor Prune(Tensor weight, double fraction, SpectrumPart part)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!(fraction is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the fraction of the spectrum to remove must be in [0, 1]");
        if (weight.dim() is not (2 or 4)) throw new ArgumentException($"SVD pruning needs a 2-D weight or a 4-D convolution weight; got {weight.dim()}-D", nameof(weight));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor matrix = weight.reshape(weight.size(0), -1);
        (Tensor u, Tensor s, Tensor vh) = torch.linalg.svd(matrix, full_matrices: false);
        long rank = s.size(0), removed = (long)Math.Round(fraction * rank, MidpointRounding.AwayFromZero);
        var keep = new double[rank];
        for (long i = 0; i < rank; i++) keep[i] = (part == SpectrumPart.Top ? i >= removed : i < rank - removed) ? 1 : 0;
        Tensor kept = s * torch.tensor(keep, [rank]).to(s.dtype);
        return (u * kept.unsqueeze(0)).mm(vh).reshape(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Prunes every Linear and Conv2d weight of <paramref name="model"/> in place but the last one in module order (the
    /// classifier), which <paramref name="includeLast"/> adds; disposing the result restores them bit for bit.
    /// </summary>
    public static IDisposable Apply(Module model, double fraction, SpectrumPart part, bool includeLast = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        Tensor[] all = model.modules().Select(m => m switch { Linear l => l.weight, Conv2d c => c.weight, _ => null }).OfType<Tensor>().ToArray();
        Tensor[] weights = includeLast ? all : all[..^Math.Min(1, all.Length)];
        if (weights.Length == 0)
            throw new ArgumentException($"{model.GetType().Name} has no Linear or Conv2d weight to prune" + (all.Length == 1 ? " but its last layer (pass includeLast: true)" : ""), nameof(model));
        var saved = new List<(Tensor weight, Tensor copy)>();
        using var noGrad = torch.no_grad();
        var restore = new Restore(saved);
        try
        {
            foreach (Tensor w in weights)
            {
                using Tensor pruned = Prune(w, fraction, part);
                saved.Add((w, w.clone().DetachFromDisposeScope()));
                w.copy_(pruned);
            }
        }
        catch
        {
            restore.Dispose(); // a model half pruned would be silently wrong
            throw;
        }
        return restore;
    }

    private sealed class Restore(List<(Tensor weight, Tensor copy)> saved) : IDisposable
    {
        public void Dispose()
        {
            using var noGrad = torch.no_grad();
            foreach ((Tensor weight, Tensor copy) in saved)
            {
                weight.copy_(copy);
                copy.Dispose();
            }
            saved.Clear();
        }
    }
}
