using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lte;

/// <summary>
/// Per-head offsets of one parameter p of the wrapped model that has no low-rank form: head n trains p + δₙ and a merge
/// folds p ← p + mean δ. δ is either a free replica offset [N, …] (<see cref="LteNonLowRank.Averaged"/>, DDP-style
/// averaging) or, for a vector, LoRA's vector-scalar form δₙ = s·bₙ·aₙ with aₙ a unit vector and the scalar bₙ
/// starting at zero (<see cref="LteNonLowRank.VectorScalar"/>; a merge zeroes b and keeps a, as B and A of a head).
/// </summary>
internal sealed class HeadOffsets : Module
{
    private readonly Tensor _shared;
    private readonly double _scale;

    public HeadOffsets(Tensor shared, int heads, LteNonLowRank mode, double scale)
    {
        _shared = shared;
        _scale = scale;
        this.heads = heads;
        if (mode == LteNonLowRank.VectorScalar && shared.dim() == 1)
        {
            using (torch.no_grad())
            {
                Tensor a = torch.randn([heads, shared.numel()], shared.dtype, shared.device);
                using Tensor norms = a.norm(2, [1], keepdim: true);
                a.div_(norms);
                direction = register_parameter(nameof(direction), a);
            }
            scalar = register_parameter(nameof(scalar), torch.zeros([heads, 1], shared.dtype, shared.device));
        }
        else delta = register_parameter(nameof(delta), torch.zeros([heads, .. shared.shape], shared.dtype, shared.device));
    }

    /// <summary>Number of heads N.</summary>
    public int heads { get; }

    /// <summary>The free offsets δ [N, …] (averaged replicas), or null in vector-scalar form.</summary>
    public Tensor? delta { get; }

    /// <summary>The unit directions a [N, d] of the vector-scalar form.</summary>
    public Tensor? direction { get; }

    /// <summary>The scalars b [N, 1] of the vector-scalar form (zero after a merge).</summary>
    public Tensor? scalar { get; }

    /// <summary>The parameter the offsets belong to (owned by the wrapped model).</summary>
    public Tensor Shared => _shared;

    /// <summary>δ [N, …p's shape], differentiable.</summary>
    public Tensor Offsets()
    {
        if (delta is not null) return delta.alias();
        using Tensor product = scalar! * direction!;
        using Tensor scaled = product * _scale;
        return scaled.reshape([heads, .. _shared.shape]);
    }

    /// <summary>p ← p + mean δ.</summary>
    public void Fold()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _shared.copy_(_shared + Offsets().mean(0).to(_shared.dtype));
    }

    /// <summary>After a <see cref="Fold"/>: every head starts again from p (δ ← 0).</summary>
    public void Restart()
    {
        using var noGrad = torch.no_grad();
        (delta ?? scalar)!.zero_();
    }
}
