namespace LowRankBias.Torch.Data;

/// <summary>
/// Binary tasks whose inputs live in mutually orthogonal subspaces (Kuzborskij et al., synthetic setting):
/// task t draws x ~ N(0, Σ_t) with Σ_t = Q_t Q_tᵀ for orthonormal bases Q_t of disjoint column blocks of one random
/// orthogonal matrix (so ⟨Σ_s, Σ_t⟩ = 0), projects x onto the unit sphere, and labels it
/// y = 2·1[σ(f*(x)) ≥ ½] − 1 = sign of sin(w_tᵀx), with w_t ~ N(0, I_d). Samples are float32 x [d] and float32 y ∈ {−1, +1}.
/// </summary>
public sealed class OrthogonalTasks : IDisposable
{
    private readonly TensorDataset[] _tasks;

    /// <summary>Draws <paramref name="tasks"/> tasks of <paramref name="samples"/> samples each.</summary>
    /// <param name="tasks">Number of tasks.</param>
    /// <param name="samples">Samples per task.</param>
    /// <param name="dim">Input dimension d (100 in the paper).</param>
    /// <param name="subspaceDim">Dimension of each task's subspace; d / tasks by default.</param>
    /// <param name="seed">Seed of subspaces, labelling vectors and samples.</param>
    public OrthogonalTasks(int tasks, int samples, int dim = 100, int? subspaceDim = null, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tasks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        int k = subspaceDim ?? dim / tasks;
        if (k < 1 || (long)k * tasks > dim)
            throw new ArgumentException($"{tasks} orthogonal subspaces of dimension {k} do not fit in dimension {dim}", nameof(subspaceDim));

        using var scope = torch.NewDisposeScope();
        var rng = SplitMix64.Derive(seed, 0);
        Tensor basis = RandomTensors.Orthonormal(rng, dim, (long)k * tasks);
        Tensor w = RandomTensors.Normal(rng, [tasks, dim], ScalarType.Float64);
        _tasks = new TensorDataset[tasks];
        for (int t = 0; t < tasks; t++)
        {
            Tensor q = basis.narrow(1, (long)t * k, k);                     // [d, k]
            Tensor z = RandomTensors.Normal(rng, [samples, k], ScalarType.Float64);
            Tensor x = z.mm(q.t());                                        // rows ~ N(0, Q Qᵀ)
            x = x / x.norm(dim: [1], keepdim: true);
            _tasks[t] = new TensorDataset(x.to(ScalarType.Float32), Labels(x, w[t]));
        }
        LabelWeights = w.DetachFromDisposeScope();
    }

    /// <summary>The tasks' datasets.</summary>
    public IReadOnlyList<TensorDataset> Datasets => _tasks;

    /// <summary>The labelling vectors w_t, float64 [tasks, d] (owned by this object).</summary>
    public Tensor LabelWeights { get; }

    /// <summary>
    /// Task <paramref name="task"/>'s inputs labelled by task <paramref name="labelling"/>'s function sign(sin(w_labellingᵀx)):
    /// the same inputs with different labels — the paper's contrast, where summing two networks fails. The labels come from
    /// the stored float32 inputs (the tasks' own from their float64 draws), so a point with sin(wᵀx) within float32 rounding
    /// of 0 may fall on the other side. The caller owns it.
    /// </summary>
    public TensorDataset Relabelled(int task, int labelling)
    {
        if (task < 0 || task >= _tasks.Length) throw new ArgumentOutOfRangeException(nameof(task), task, $"must lie in 0…{_tasks.Length - 1}");
        if (labelling < 0 || labelling >= _tasks.Length) throw new ArgumentOutOfRangeException(nameof(labelling), labelling, $"must lie in 0…{_tasks.Length - 1}");
        using var scope = torch.NewDisposeScope();
        Tensor x = _tasks[task].tensors[0];
        Tensor y = Labels(x.to(ScalarType.Float64), LabelWeights[labelling]);
        return new TensorDataset(x.clone().DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    // y = 2·1[σ(sin(wᵀx)) ≥ ½] − 1, i.e. the sign of sin(wᵀx), as float32 ±1.
    private static Tensor Labels(Tensor x, Tensor w) => (x.matmul(w).sin() >= 0).to(ScalarType.Float32) * 2 - 1;

    /// <summary>
    /// Places features in block <paramref name="task"/> of <paramref name="tasks"/> zero blocks ([N, D] → [N, tasks·D]),
    /// so inputs of different tasks are orthogonal and keep their norms (the paper's Fashion-MNIST setting).
    /// </summary>
    public static Tensor EmbedInBlock(Tensor features, int task, int tasks)
    {
        if (features.dim() != 2) throw new ArgumentException($"features must be [N, D], not [{string.Join(", ", features.shape)}]", nameof(features));
        if (task < 0 || task >= tasks) throw new ArgumentOutOfRangeException(nameof(task), task, $"must lie in 0…{tasks - 1}");
        long d = features.size(1);
        return Pad.Call(features, new[] { task * d, (tasks - 1 - task) * d });
    }

    private static readonly Op Pad = new("aten::constant_pad_nd");

    /// <summary>Frees the datasets and the labelling vectors.</summary>
    public void Dispose()
    {
        foreach (TensorDataset d in _tasks) d.Dispose();
        LabelWeights.Dispose();
    }
}
