using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lte;

/// <summary>
/// A model turned into a LoRA-the-Explorer model (Huh et al., 2024) on one device: every targeted <see cref="Linear"/>
/// becomes a <see cref="MultiHeadLoraLinear"/> with N heads in <see cref="HeadInput.Split"/> mode, so in training mode
/// group n of a batch (rows n·B/N … (n+1)·B/N − 1) runs through head n alone — N simulated workers in one batched
/// forward. Parameters without a low-rank form follow <see cref="LteOptions.NonLowRank"/>; every trainable parameter
/// is stacked with a leading head dimension [N, …]. <see cref="Merge"/> folds the heads' average into the base
/// weights. In evaluation mode (or inside <see cref="Evaluating"/>) the forward pass uses the current merged model
/// W + (s/N) Σₙ (BₙAₙ − Vₙ) with averaged replicas, not the stale W. Train it with <see cref="LteTrainer"/>.
/// </summary>
public sealed partial class Lte : Module
{
    private int _evaluating;

    /// <summary>Adapts <paramref name="model"/> in place (it becomes <see cref="model"/>); on a rejected setting the model is left unchanged.</summary>
    public Lte(Module model, LteOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model is Lte or LoraModel || model.modules().Any(m => m is LoraLayer))
            throw new ArgumentException("the model already carries LoRA layers; LTE adapts a plain model", nameof(model));
        this.options = options;
        LoraConfig config = options.LoraConfig();
        List<(string path, Module module)> targets = LoraTargets.Resolve(model, config);
        foreach ((string path, Module module) in targets)
            if (module is not Linear)
                throw new ArgumentException($"LTE puts heads on linear layers only; the targets select '{path}', a {module.GetType().Name}. Exclude it or name linear layers.", nameof(options));
        var targetPaths = targets.Select(t => t.path).ToHashSet();
        var trainable = new HashSet<Tensor>(model.parameters().Where(p => p.requires_grad), ReferenceEqualityComparer.Instance);
        CheckNonLowRank(model, targetPaths, trainable, options.NonLowRank);

        model.requires_grad_(false);
        foreach ((string path, Module module) in targets)
        {
            var lora = new MultiHeadLoraLinear((Linear)module, config.ForModule(path), LteSite.Adapter);
            if (options.AInit != LteInit.SemiOrthogonal) LteSite.DrawFactors(lora, options.AInit);
            model.set_submodule(path, lora);
        }
        this.model = model;
        sites = new ModuleList(Sites(model, trainable).ToArray());
    }

    /// <summary>The adapted model.</summary>
    public Module model { get; }

    /// <summary>The settings this model was built with.</summary>
    public LteOptions options { get; }

    /// <summary>Number of heads N.</summary>
    public int heads => options.Heads;

    /// <summary>True while a forward pass splits the batch among the heads: training mode and outside <see cref="Evaluating"/>.</summary>
    public bool splitting => training && _evaluating == 0;

    private ModuleList sites { get; }

    private IEnumerable<LteSite> Sites() => sites.Cast<LteSite>();

    /// <summary>The adapted layers with their paths in <see cref="model"/>.</summary>
    public IEnumerable<(string path, MultiHeadLoraLinear layer)> lora_layers() =>
        Sites().Where(s => s.Lora is not null).Select(s => (s.path, s.Lora!));

    /// <summary>The trained tensors, each [N, …] with head n's part at index n: factors and replica offsets.</summary>
    public IEnumerable<Tensor> head_parameters() => parameters().Where(p => p.requires_grad);

    /// <summary>
    /// Optimizer groups for <see cref="head_parameters"/>: the LoRA factors with <paramref name="options"/>, the
    /// replica offsets with the same options but no weight decay (see <see cref="LteNonLowRank.Averaged"/>).
    /// Element-wise optimizers such as AdamW and SGD then act on each head exactly as N separate optimizers would.
    /// </summary>
    public ParamGroup[] ParameterGroups(OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var replicas = new HashSet<Tensor>(Sites().SelectMany(s => new[] { s.weight_delta, s.bias_delta }).OfType<Tensor>(), ReferenceEqualityComparer.Instance);
        Tensor[] factors = head_parameters().Where(p => !replicas.Contains(p)).ToArray();
        var groups = new List<ParamGroup>();
        if (factors.Length > 0) groups.Add(new ParamGroup(factors, options));
        if (replicas.Count > 0) groups.Add(new ParamGroup(head_parameters().Where(replicas.Contains), options with { weight_decay = 0 }));
        return groups.ToArray();
    }

    /// <summary>The current head-averaged update of the weight at <paramref name="path"/>, (s/N) Σₙ (BₙAₙ − Vₙ) (plus the mean
    /// replica offset for a layer left out of the targets), which the next merge adds; owned by the caller.</summary>
    public Tensor weight_update(string path) =>
        (Sites().FirstOrDefault(s => s.path == path)
         ?? throw new ArgumentException($"'{path}' is not a layer LTE trains; layers: {string.Join(", ", Sites().Select(s => s.path))}", nameof(path)))
        .WeightUpdate();

    /// <summary>
    /// Head <paramref name="head"/>'s current value of a replicated parameter such as <c>"head.weight"</c> or
    /// <c>"fc1.bias"</c> (<see cref="LteNonLowRank.Averaged"/>): the shared value plus the head's offset; owned by the caller.
    /// </summary>
    public Tensor replica(string parameter, int head)
    {
        ArgumentException.ThrowIfNullOrEmpty(parameter);
        ArgumentOutOfRangeException.ThrowIfNegative(head);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(head, heads);
        int dot = parameter.LastIndexOf('.');
        string path = dot < 0 ? "" : parameter[..dot], name = parameter[(dot + 1)..];
        LteSite? site = Sites().FirstOrDefault(s => s.path == path);
        (Tensor shared, Tensor? offset) = name switch
        {
            "weight" when site?.weight_delta is { } d => (site.BaseTensors.weight, d),
            "bias" when site?.bias_delta is { } d => (site.BaseTensors.bias!, d),
            _ => (null!, null),
        };
        if (offset is null) throw new ArgumentException($"'{parameter}' is not a parameter LTE replicates per head", nameof(parameter));
        using var noGrad = torch.no_grad();
        using Tensor own = offset.select(0, head);
        return shared + own;
    }

    /// <summary>
    /// Folds the heads into the base weights — W ← W + (s/N) Σₙ (BₙAₙ − Vₙ), each bias or left-out weight ← the
    /// average of its replicas — and restarts the heads per <see cref="LteOptions.MergeMode"/>: B ← 0 (and a new A
    /// with <see cref="LteOptions.ReinitializeA"/>), or Vₙ ← BₙAₙ. The optimizer is not touched (see <see cref="LteTrainer"/>).
    /// </summary>
    public void Merge()
    {
        if (_evaluating > 0) throw new InvalidOperationException("cannot merge inside Evaluating(): the base weights hold the temporary merged model");
        foreach (LteSite site in Sites())
        {
            site.Fold();
            site.RestartHeads(options.ReinitializeA, options.AInit);
        }
    }

    /// <summary>
    /// Until disposed, the forward pass computes the current merged model on whole batches: the base weights hold
    /// W + (s/N) Σₙ (BₙAₙ − Vₙ) and averaged replicas, and the heads are switched off. Disposing restores the base
    /// tensors bit for bit. Scopes nest; training steps and merges are not allowed inside one.
    /// </summary>
    public IDisposable Evaluating()
    {
        if (_evaluating++ > 0) return new EvaluationScope(this, []);
        var saved = new List<(Tensor target, Tensor copy)>();
        using var noGrad = torch.no_grad();
        foreach (LteSite site in Sites())
        {
            (Tensor w, Tensor? b) = site.BaseTensors;
            saved.Add((w, w.clone().DetachFromDisposeScope()));
            if (b is not null) saved.Add((b, b.clone().DetachFromDisposeScope()));
            site.Fold();
            site.Lora?.enable_adapters(false);
        }
        return new EvaluationScope(this, saved);
    }

    /// <summary>In training mode the split forward of the heads; otherwise the current merged model (see <see cref="Evaluating"/>).</summary>
    public override Tensor forward(Tensor input)
    {
        if (splitting) return model.call(input);
        using IDisposable scope = Evaluating();
        return model.call(input);
    }

    /// <summary>
    /// Clips each head's gradient on its own, as <c>clip_grad_norm_</c> would for that head alone: head n's 2-norm
    /// over all its factors and replicas (computed in float64), and when it exceeds <paramref name="max_norm"/> head
    /// n's gradients are scaled by max_norm / (norm + 1e-6). Returns the N norms before clipping.
    /// </summary>
    public double[] ClipGradNormPerHead(double max_norm)
    {
        if (!(max_norm >= 0)) throw new ArgumentOutOfRangeException(nameof(max_norm), max_norm, "max_norm must be >= 0");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor[] grads = head_parameters().Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0) return new double[heads];
        Tensor[] norms = grads.Select(g => g.reshape(heads, -1).to(ScalarType.Float64).norm(2, [1])).ToArray();
        double[] totals = torch.stack(norms).norm(2, [0]).ToArray<double>();
        for (int n = 0; n < heads; n++)
        {
            double coefficient = max_norm / (totals[n] + 1e-6);
            if (coefficient >= 1) continue;
            foreach (Tensor g in grads) g.select(0, n).mul_(coefficient);
        }
        return totals;
    }

    // Averaged replicas exist for linear layers only; anything else trainable must be frozen explicitly.
    private static void CheckNonLowRank(Module model, HashSet<string> targets, HashSet<Tensor> trainable, LteNonLowRank mode)
    {
        if (mode != LteNonLowRank.Averaged) return;
        IEnumerable<(string path, Module module)> owners = LoraTargets.Candidates(model).Prepend(("", model));
        foreach ((string path, Module module) in owners)
        {
            if (module is Linear || targets.Contains(path)) continue;
            foreach ((string name, Tensor p) in module.named_parameters(recurse: false))
                if (trainable.Contains(p))
                    throw new ArgumentException(
                        $"LTE cannot keep per-head replicas of parameter '{(path.Length == 0 ? name : path + "." + name)}' of a {module.GetType().Name}: " +
                        "averaged replicas are supported for linear layers only. Use NonLowRank = Frozen, or freeze that parameter first.", nameof(model));
        }
    }

    private IEnumerable<LteSite> Sites(Module adapted, HashSet<Tensor> trainable)
    {
        bool averaged = options.NonLowRank == LteNonLowRank.Averaged;
        bool correction = options.MergeMode == LteMergeMode.Correction;
        foreach ((string path, Module module) in LoraTargets.Candidates(adapted))
        {
            if (module is MultiHeadLoraLinear lora)
            {
                bool bias = averaged && ((Linear)lora.base_layer).bias is { } b && trainable.Contains(b);
                yield return new LteSite(path, lora, heads, replicateWeight: false, bias, correction, () => splitting);
            }
            else if (averaged && module is Linear linear && (trainable.Contains(linear.weight) || (linear.bias is { } b && trainable.Contains(b))))
            {
                bool bias = linear.bias is { } lb && trainable.Contains(lb);
                yield return new LteSite(path, linear, heads, trainable.Contains(linear.weight), bias, correction: false, () => splitting);
            }
        }
    }

    private sealed class EvaluationScope(Lte owner, List<(Tensor target, Tensor copy)> saved) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (saved.Count > 0 || owner._evaluating == 1)
            {
                using var noGrad = torch.no_grad();
                foreach ((Tensor target, Tensor copy) in saved)
                {
                    target.copy_(copy);
                    copy.Dispose();
                }
                foreach (LteSite site in owner.Sites()) site.Lora?.enable_adapters(true);
            }
            owner._evaluating--;
        }
    }
}
