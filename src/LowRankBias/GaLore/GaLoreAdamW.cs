using LowRankBias.Torch;
using LowRankBias.Torch.Optim;

namespace LowRankBias.GaLore;

/// <summary>
/// GaLore (Zhao et al. 2024), the other low-rank pre-training method LTE is compared with: full-rank weights trained
/// by AdamW on gradients projected to rank r. For an m × n matrix with gradient G, every
/// <see cref="GaLoreOptions.update_proj_gap"/> steps the projector P becomes the top-r left singular vectors of G
/// (m ≤ n; the update lives in R = PᵀG, r × n) or the top-r right ones (m &gt; n; R = G P, m × r). Adam's moments are
/// kept for R — r·max(m, n) numbers instead of m·n — and carried over when P changes, as in the official code; the
/// weight moves by −lr·α·P·Adam(R) (or −lr·α·Adam(R)·Pᵀ), after a decoupled weight decay p ← p(1 − lr·wd). Tensors that
/// are not matrices, and groups with rank 0, take plain AdamW steps.
/// </summary>
public sealed class GaLoreAdamW : Optimizer
{
    /// <summary>One group per <see cref="ParamGroup"/>, each carrying <see cref="GaLoreOptions"/>.</summary>
    public GaLoreAdamW(IEnumerable<ParamGroup> groups) : base(groups)
    {
    }

    /// <summary>Matrices with the projection (<paramref name="options"/>), everything else (biases, norms) in a rank-0 group with the same AdamW settings.</summary>
    public static GaLoreAdamW ForModel(IEnumerable<Tensor> parameters, GaLoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        Tensor[] all = parameters.ToArray();
        var groups = new List<ParamGroup>();
        if (all.Any(p => p.dim() == 2)) groups.Add(new ParamGroup(all.Where(p => p.dim() == 2), options));
        if (all.Any(p => p.dim() != 2)) groups.Add(new ParamGroup(all.Where(p => p.dim() != 2), options with { rank = 0 }));
        return new GaLoreAdamW(groups);
    }

    /// <inheritdoc />
    protected override Type OptionsType => typeof(GaLoreOptions);

    /// <inheritdoc />
    protected override void Update(OptimizerOptions options, Tensor[] parameters, Tensor[] grads, ParameterState[] states)
    {
        var o = (GaLoreOptions)options;
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            Tensor p = parameters[i], g = grads[i];
            ParameterState state = states[i];
            state.step++;
            bool projected = o.rank > 0 && p.dim() == 2;
            Tensor r = projected ? Project(o, g, state) : g;
            Tensor m = Moment(state, "exp_avg", r), v = Moment(state, "exp_avg_sq", r);
            (double beta1, double beta2) = o.betas;
            m.mul_(beta1).add_(r, alpha: 1 - beta1);
            v.mul_(beta2).addcmul_(r, r, value: 1 - beta2);
            Tensor normalized = (m / (1 - Math.Pow(beta1, state.step))) / ((v / (1 - Math.Pow(beta2, state.step))).sqrt() + o.eps);
            Tensor update = projected ? Back(normalized, state.tensors["projector"], Left(p)) * o.scale : normalized;
            if (o.weight_decay != 0) p.mul_(1 - o.lr * o.weight_decay);
            p.sub_(update, alpha: o.lr);
        }
    }

    // m ≤ n: P is m × r and R = PᵀG; otherwise P is n × r and R = G P. P is refreshed from G's SVD every gap steps.
    private static Tensor Project(GaLoreOptions o, Tensor g, ParameterState state)
    {
        bool left = Left(g);
        if (!state.tensors.ContainsKey("projector") || (state.step - 1) % o.update_proj_gap == 0)
        {
            ScalarType work = g.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            (Tensor u, _, Tensor vh) = torch.linalg.svd(g.to(work), full_matrices: false);
            int r = (int)Math.Min(o.rank, Math.Min(g.size(0), g.size(1)));
            Tensor projector = (left ? u.narrow(1, 0, r) : vh.narrow(0, 0, r).t()).contiguous().to(g.dtype);
            if (state.tensors.Remove("projector", out Tensor? old)) old.Dispose();
            state.tensors.Add("projector", projector.DetachFromDisposeScope());
        }
        Tensor p = state.tensors["projector"];
        return left ? p.t().mm(g) : g.mm(p);
    }

    private static Tensor Back(Tensor normalized, Tensor projector, bool left) => left ? projector.mm(normalized) : normalized.mm(projector.t());

    private static bool Left(Tensor matrix) => matrix.size(0) <= matrix.size(1);

    private static Tensor Moment(ParameterState state, string name, Tensor like)
    {
        if (!state.tensors.TryGetValue(name, out Tensor? moment))
            state.tensors.Add(name, moment = torch.zeros_like(like).DetachFromDisposeScope());
        return moment;
    }
}
