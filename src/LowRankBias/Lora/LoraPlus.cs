using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA+ (Hayou et al., 2024; PEFT's <c>create_loraplus_optimizer</c>): B learns <c>loraplus_lr_ratio</c> times faster
/// than A. The trainable parameters fall into PEFT's four groups, in this order:
/// <list type="number">
/// <item><c>groupA</c> — everything else (A factors, trainable matrices): lr, <c>loraplus_weight_decay</c>;</item>
/// <item><c>embedding</c> — the parameters of LoRA embedding layers: <c>loraplus_lr_embedding</c>, <c>loraplus_weight_decay</c>;</item>
/// <item><c>groupB</c> — B factors and 1-D parameters that decay (outside LayerNorm, no "bias" in the name): lr·ratio, <c>loraplus_weight_decay</c>;</item>
/// <item><c>groupB_no_decay</c> — the other B factors and 1-D parameters: lr·ratio, weight decay 0.</item>
/// </list>
/// A parameter is an embedding's when the module two name segments above it is a <see cref="LoraEmbedding"/>
/// (PEFT's test). Frozen parameters are left out; empty groups are kept, as in PEFT.
/// </summary>
public static class LoraPlus
{
    /// <summary>PEFT's default learning rate of LoRA embedding parameters.</summary>
    public const double DefaultEmbeddingLr = 1e-6;

    /// <summary>
    /// Builds <paramref name="optimizer_cls"/> (e.g. <c>g =&gt; new AdamW(g)</c>) over the four LoRA+ groups of
    /// <paramref name="model"/>'s trainable parameters; each group is <paramref name="defaults"/> (the optimizer's other
    /// hyper-parameters, e.g. betas) with its own lr and weight decay.
    /// </summary>
    public static TOptimizer create_loraplus_optimizer<TOptimizer>(Module model, Func<IEnumerable<ParamGroup>, TOptimizer> optimizer_cls,
        OptimizerOptions defaults, double lr, double loraplus_lr_ratio, double loraplus_lr_embedding = DefaultEmbeddingLr,
        double loraplus_weight_decay = 0) where TOptimizer : Optimizer
    {
        ArgumentNullException.ThrowIfNull(optimizer_cls);
        return optimizer_cls(param_groups(model, defaults, lr, loraplus_lr_ratio, loraplus_lr_embedding, loraplus_weight_decay));
    }

    /// <summary>The four groups <see cref="create_loraplus_optimizer"/> hands to the optimizer (groupA, embedding, groupB, groupB_no_decay).</summary>
    public static ParamGroup[] param_groups(Module model, OptimizerOptions defaults, double lr, double loraplus_lr_ratio,
        double loraplus_lr_embedding = DefaultEmbeddingLr, double loraplus_weight_decay = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(defaults);
        if (!(loraplus_lr_ratio > 0) || double.IsInfinity(loraplus_lr_ratio))
            throw new ArgumentOutOfRangeException(nameof(loraplus_lr_ratio), loraplus_lr_ratio, "loraplus_lr_ratio (ηB/ηA) must be positive and finite");
        OptimizerOptions[] options =
        [
            defaults with { lr = lr, weight_decay = loraplus_weight_decay },
            defaults with { lr = loraplus_lr_embedding, weight_decay = loraplus_weight_decay },
            defaults with { lr = lr * loraplus_lr_ratio, weight_decay = loraplus_weight_decay },
            defaults with { lr = lr * loraplus_lr_ratio, weight_decay = 0 },
        ];
        foreach (OptimizerOptions o in options) o.Validate();

        HashSet<string> decay = DecayParameterNames(model);
        List<Tensor>[] groups = [[], [], [], []];
        foreach ((string name, Tensor p) in model.named_parameters())
        {
            if (!p.requires_grad) continue;
            string[] segments = name.Split('.');
            string owner = string.Join('.', segments[..Math.Max(0, segments.Length - 2)]);
            int group = owner.Length > 0 && model.get_submodule(owner) is LoraEmbedding ? 1
                : name.Contains("lora_B", StringComparison.Ordinal) || p.dim() == 1 ? (decay.Contains(name) ? 2 : 3)
                : 0;
            groups[group].Add(p);
        }
        return groups.Select((g, i) => new ParamGroup(g, options[i])).ToArray();
    }

    // Hugging Face's get_parameter_names(model, [LayerNorm]) without the names containing "bias": parameters that decay.
    private static HashSet<string> DecayParameterNames(Module model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var layerNorms = model.named_modules().Where(m => m.module is LayerNorm && m.name.Length > 0).Select(m => m.name + ".").ToArray();
        bool rootIsNorm = model is LayerNorm;
        foreach ((string name, _) in model.named_parameters())
            if (!rootIsNorm && !layerNorms.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)) && !name.Contains("bias", StringComparison.Ordinal))
                names.Add(name);
        return names;
    }
}
