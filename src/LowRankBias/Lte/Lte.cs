using LowRankBias.Lora;
using LowRankBias.Lora.Variants;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lte;

/// <summary>
/// A model turned into a LoRA-the-Explorer model (Huh et al., 2024) on one device: every targeted <see cref="Linear"/>
/// becomes a <see cref="MultiHeadLoraLinear"/> with N heads in <see cref="HeadInput.Split"/> mode (a targeted
/// <see cref="Conv2d"/> or <see cref="Embedding"/> a <see cref="LoraConv2d"/> or <see cref="LoraEmbedding"/> with N
/// heads: a k×k convolution to rank r then a 1×1 one, as in the paper), so in training mode
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
        foreach (LoraLayer layer in model.modules().OfType<LoraLayer>())
            foreach (string adapter in layer.adapter_configs.Keys) RequireAdditiveMerge(layer.Variant(adapter));
        if (model is Lte or LoraModel || model.modules().Any(m => m is LoraLayer))
            throw new ArgumentException("the model already carries LoRA layers; LTE adapts a plain model", nameof(model));
        this.options = options;
        LoraConfig config = options.LoraConfig();
        RequireAdditiveMerge(LoraVariants.Create(config));
        List<(string path, Module module)> targets = LoraTargets.Resolve(model, config);
        if (options.MergeMode == LteMergeMode.Correction && targets.FirstOrDefault(t => t.module is not Linear) is ({ } nonlinear, { } other))
            throw new ArgumentException($"the correction merge mode supports heads on linear layers only; the targets select '{nonlinear}', a {other.GetType().Name}", nameof(options));
        var targetPaths = targets.Select(t => t.path).ToHashSet();
        var trainable = new HashSet<Tensor>(model.parameters().Where(p => p.requires_grad), ReferenceEqualityComparer.Instance);
        CheckNonLowRank(model, targetPaths, trainable, options.NonLowRank);
        foreach ((string path, Module module) in targets) BaseQuantization.Check(module, options.BaseQuantization, path);
        if (options.RankPolicy is { } policy) CheckRankPolicy(targets, policy);

        model.requires_grad_(false);
        foreach ((string path, Module module) in targets)
        {
            LoraConfig layerConfig = config.ForModule(path);
            Module baseLayer = BaseQuantization.Apply(module, options.BaseQuantization, path);
            LoraLayer lora = baseLayer switch
            {
                Linear linear => new MultiHeadLoraLinear(linear, layerConfig, LteSite.Adapter),
                QuantizedLinear quantized => new MultiHeadLoraLinear(quantized, layerConfig, LteSite.Adapter),
                _ => LoraLayerFactory.Create(baseLayer, layerConfig, LteSite.Adapter),
            };
            if (options.AInit != LteInit.SemiOrthogonal) LteSite.DrawFactors(lora, options.AInit);
            model.set_submodule(path, lora);
            if (baseLayer == module) continue;
            // The quantized copy's bias stands in for the Linear's, trained (per head) if the Linear's was.
            if (((Linear)module).bias is { } bias && trainable.Contains(bias)) trainable.Add(((QuantizedLinear)baseLayer).bias!);
            module.Dispose();
        }
        this.model = model;
        sites = new ModuleList(Sites(model, trainable).ToArray());
        if (options.RankPolicy is not null)
            foreach ((string path, _) in lora_layers()) SetHeadRank(path, options.Rank);
    }

    // Ranks change on MultiHeadLoraLinear layers only, and a layer cannot use more components than its smaller side.
    private static void CheckRankPolicy(List<(string path, Module module)> targets, LteRankPolicy policy)
    {
        const string maxRank = nameof(LteOptions.RankPolicy) + "." + nameof(LteRankPolicy.MaxRank);
        foreach ((string path, Module module) in targets)
        {
            if (module is not Linear linear)
                throw new ArgumentException($"LteOptions.RankPolicy changes ranks of heads on Linear layers only; the targets select '{path}', a {module.GetType().Name}", nameof(LteOptions.RankPolicy));
            long size = Math.Min(linear.weight.size(0), linear.weight.size(1));
            if (policy.MaxRank > size)
                throw new ArgumentException($"{maxRank} = {policy.MaxRank} exceeds the size of layer '{path}' ({linear.weight.size(0)} × {linear.weight.size(1)}: at most rank {size})", maxRank);
        }
    }

    /// <summary>Each adapted layer's current head rank (with <see cref="LteOptions.RankPolicy"/> it changes at merges; otherwise <see cref="LteOptions.Rank"/>).</summary>
    public IReadOnlyList<(string path, int rank)> head_ranks() =>
        [.. lora_layers().Select(l => (l.path, l.layer is MultiHeadLoraLinear linear ? linear.ActiveRank(LteSite.Adapter) : options.Rank))];

    /// <summary>Sets the head rank of the layer at <paramref name="path"/> (see <see cref="LteRankPolicy"/>).</summary>
    internal void SetHeadRank(string path, int rank) =>
        ((MultiHeadLoraLinear)lora_layers().Single(l => l.path == path).layer).SetActiveRank(LteSite.Adapter, rank);

    // LTE folds W += s/N Σₙ BₙAₙ at every merge; a variant that merges otherwise (DoRA rescales each row to a trained
    // magnitude) would be folded wrongly, so it is refused by the config key that asks for it.
    private static void RequireAdditiveMerge(LoraVariant variant)
    {
        if (!variant.MergesAdditively)
            throw new ArgumentException($"LTE cannot train {variant.Name} adapters: its merge W += s/N Σ BₙAₙ is not how a {variant.Name} adapter merges; " +
                $"use plain LoRA heads ({variant.Name} = false)", variant.Name);
    }

    /// <summary>The adapted model.</summary>
    public Module model { get; }

    /// <summary>The settings this model was built with.</summary>
    public LteOptions options { get; }

    /// <summary>Number of heads N.</summary>
    public int heads => options.Heads;

    /// <summary>True while a forward pass splits the batch among the heads: training mode and outside <see cref="Evaluating"/>.</summary>
    public bool splitting => training && _evaluating == 0;

    /// <summary>True inside <see cref="Evaluating"/>.</summary>
    internal bool evaluating => _evaluating > 0;

    private ModuleList sites { get; }

    internal IEnumerable<LteSite> Sites() => sites.Cast<LteSite>();

    /// <summary>The adapted layers with their paths in <see cref="model"/>.</summary>
    public IEnumerable<(string path, LoraLayer layer)> lora_layers() =>
        Sites().Where(s => s.Lora is not null).Select(s => (s.path, s.Lora!));

    /// <summary>The trained tensors, each [N, …] with head n's part at index n: factors and replica offsets.</summary>
    public IEnumerable<Tensor> head_parameters() => parameters().Where(p => p.requires_grad);

    /// <summary>
    /// Optimizer groups for <see cref="head_parameters"/>: the LoRA factors with <paramref name="options"/>, the
    /// offsets of parameters without a low-rank form with the same options but no weight decay (see <see cref="LteNonLowRank"/>).
    /// Element-wise optimizers such as AdamW and SGD then act on each head exactly as N separate optimizers would.
    /// </summary>
    public ParamGroup[] ParameterGroups(OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        HashSet<Tensor> replicas = ReplicaParameters();
        Tensor[] factors = head_parameters().Where(p => !replicas.Contains(p)).ToArray();
        var groups = new List<ParamGroup>();
        if (factors.Length > 0) groups.Add(new ParamGroup(factors, options));
        if (replicas.Count > 0) groups.Add(new ParamGroup(head_parameters().Where(replicas.Contains), options with { weight_decay = 0 }));
        return groups.ToArray();
    }

    /// <summary>The LoRA factors among <see cref="head_parameters"/> (no replica offsets): what a merge restarts, and so
    /// the only state <see cref="LteOptions.ResetOptimizer"/> and <see cref="LteOptions.PruneOptimizer"/> touch.</summary>
    internal IEnumerable<Tensor> factor_parameters()
    {
        HashSet<Tensor> replicas = ReplicaParameters();
        return head_parameters().Where(p => !replicas.Contains(p));
    }

    private HashSet<Tensor> ReplicaParameters() =>
        new(Sites().SelectMany(s => s.Offsets).SelectMany(o => o.offsets.parameters()), ReferenceEqualityComparer.Instance);

    /// <summary>The current head-averaged update of the weight at <paramref name="path"/>, (s/N) Σₙ (BₙAₙ − Vₙ) (plus the mean
    /// replica offset for a layer left out of the targets), which the next merge adds; owned by the caller.</summary>
    public Tensor weight_update(string path) =>
        (Sites().FirstOrDefault(s => s.path == path)
         ?? throw new ArgumentException($"'{path}' is not a layer LTE trains; layers: {string.Join(", ", Sites().Select(s => s.path))}", nameof(path)))
        .WeightUpdate();

    /// <summary>
    /// Head <paramref name="head"/>'s current value of a parameter without a low-rank form such as <c>"head.weight"</c>,
    /// <c>"fc1.bias"</c> or <c>"pos_embedding"</c> (see <see cref="LteNonLowRank"/>): the shared value plus the head's offset; owned by the caller.
    /// </summary>
    public Tensor replica(string parameter, int head)
    {
        ArgumentException.ThrowIfNullOrEmpty(parameter);
        ArgumentOutOfRangeException.ThrowIfNegative(head);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(head, heads);
        int dot = parameter.LastIndexOf('.');
        string path = dot < 0 ? "" : parameter[..dot], name = parameter[(dot + 1)..];
        HeadOffsets offsets = Sites().Where(s => s.path == path).SelectMany(s => s.Offsets).FirstOrDefault(o => o.name == name).offsets
            ?? throw new ArgumentException($"'{parameter}' is not a parameter LTE replicates per head", nameof(parameter));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return (offsets.Shared + offsets.Offsets().select(0, head)).MoveToOuterDisposeScope();
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

    /// <summary>The Gram matrix of the heads' updates since the last merge (see <see cref="HeadGeometry"/>).</summary>
    internal HeadGeometry Geometry()
    {
        using var scope = torch.NewDisposeScope();
        return HeadGeometry.Of(Sites().Select(s => s.UpdateFactors()).OfType<(Tensor, Tensor, Tensor, Tensor)>().ToArray(), heads);
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
            saved.AddRange(site.SharedTensors.Select(t => (t, t.clone().DetachFromDisposeScope())));
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

    // Per-head offsets exist for the parameters of the layers LTE knows and for a ViT's tokens; anything else trainable
    // must be frozen explicitly.
    private static void CheckNonLowRank(Module model, HashSet<string> targets, HashSet<Tensor> trainable, LteNonLowRank mode)
    {
        if (mode == LteNonLowRank.Frozen) return;
        foreach ((string path, Module module) in Owners(model))
        {
            if (targets.Contains(path)) continue;
            foreach ((string name, Tensor p) in module.named_parameters(recurse: false))
                if (trainable.Contains(p) && !Replicable(module, name))
                    throw new ArgumentException(
                        $"LTE cannot keep per-head offsets of parameter '{(path.Length == 0 ? name : path + "." + name)}' of a {module.GetType().Name}: " +
                        "they are supported for Linear, Conv2d (ungrouped), Embedding and LayerNorm layers and a VisionTransformer's class token and " +
                        "position embedding. Use NonLowRank = Frozen, or freeze that parameter first.", nameof(model));
        }
    }

    private static bool Replicable(Module module, string name) => module switch
    {
        Linear or QuantizedLinear or Embedding or LayerNorm => true,
        Conv2d conv => conv.groups == 1,
        VisionTransformer => name is "class_token" or "pos_embedding",
        _ => false,
    };

    private static IEnumerable<(string path, Module module)> Owners(Module model) => LoraTargets.Candidates(model).Prepend(("", model));

    private IEnumerable<LteSite> Sites(Module adapted, HashSet<Tensor> trainable)
    {
        LteNonLowRank mode = options.NonLowRank;
        bool correction = options.MergeMode == LteMergeMode.Correction;
        foreach ((string path, Module module) in Owners(adapted))
        {
            Module owner = module is LoraLayer lora ? lora.base_layer : module;
            (string, Tensor)[] replicated = mode == LteNonLowRank.Frozen ? [] : owner.named_parameters(recurse: false)
                .Where(p => trainable.Contains(p.parameter) && !(module is LoraLayer && p.name == "weight") && Replicable(owner, p.name))
                .ToArray();
            if (module is LoraLayer || replicated.Length > 0)
                yield return new LteSite(path, module, heads, replicated, mode, options.Scale, correction && module is LoraLayer, () => splitting);
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
