using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch.Quantization;

namespace VitPretraining;

/// <summary>
/// One way of training a fresh ViT, behind one step function so every method runs through the same loop.
/// <see cref="Evaluated"/> is what evaluation runs (for LTE the merged model W + s/N Σ BₙAₙ); <see cref="Devices"/>
/// is how many workers share a cumulative batch (N for LTE, 1 otherwise) for the samples-per-device axis.
/// </summary>
internal sealed class Method : IDisposable
{
    private readonly Func<Tensor, Tensor, double> _step;
    private readonly IDisposable[] _owned;

    private Method(string name, Module evaluated, int devices, Func<Tensor, Tensor, double> step, LteTrainer? lte, params IDisposable[] owned)
    {
        Name = name;
        _trainer = lte;
        Evaluated = evaluated;
        Devices = devices;
        _step = step;
        Lte = lte?.model;
        _owned = owned;
    }

    private readonly LteTrainer? _trainer;

    public string Name { get; }
    public Module Evaluated { get; }
    public int Devices { get; }
    public Lte? Lte { get; }

    /// <summary>LTE merges so far (the communication rounds of a distributed run); 0 for the other methods.</summary>
    public long Merges() => _trainer?.Merges ?? 0;

    /// <summary>The LTE layers' mean head rank now (it moves with <see cref="LteOptions.RankPolicy"/>); 0 for the other methods.</summary>
    public double MeanHeadRank() => Lte?.head_ranks() is { Count: > 0 } ranks ? ranks.Average(r => r.rank) : 0;

    /// <summary>LTE heads re-seeded so far (<see cref="LteOptions.ReseedAbove"/>).</summary>
    public long HeadResets() => _trainer?.HeadResets ?? 0;

    /// <summary>One optimizer step on a cumulative batch; returns the mean training loss.</summary>
    public double Step(Tensor images, Tensor labels) => _step(images, labels);

    public static readonly string[] All = ["full", "lora", "lora-merge", "mhlora", "lte"];

    /// <summary>LoRA and LTE with the adapted layers' base weights stored in NF4 (QLoRA-style), run only when named.</summary>
    public static readonly string[] Quantized = ["lora-nf4", "lte-nf4"];

    private static readonly QuantizationConfig s_nf4 = new() { quant_type = QuantizationConfig.NF4 };

    /// <summary>Builds method <paramref name="name"/> on a fresh model for a run of <paramref name="steps"/> optimizer steps.</summary>
    public static Method Create(string name, VisionTransformer.Config model, Preset preset, long steps, LteOptions? lteOverride = null)
    {
        var vit = new VisionTransformer(model);
        if (preset.FreezeExtras) FreezeExtras(vit);
        double lowRankLr = preset.FullRankLr * preset.LowRankLrFactor;
        switch (name)
        {
            case "full":
                return Plain(name, vit, vit, preset.FullRankLr, steps);
            case "lora" or "lora-nf4":  // one low-rank adapter per linear layer, never merged
                return Adapted(name, vit, preset.LoraRank, heads: 1, lowRankLr, steps, preset.Alpha, name == "lora-nf4" ? s_nf4 : null);
            case "mhlora":  // N heads on the whole batch, scale s/N (LTE paper eq. 2), never merged
                return Adapted(name, vit, preset.Rank, preset.Heads, lowRankLr, steps, preset.Alpha);
            case "lora-merge":  // one low-rank head merged every T steps, A redrawn and optimizer state reset (appendix A.2)
                return WithLte(name, vit, new LteOptions
                {
                    Heads = 1, Rank = preset.LoraRank, Alpha = preset.Alpha, MergeEvery = preset.MergeEvery,
                    ReinitializeA = true, ResetOptimizer = true, Exclude = "head",
                }, lowRankLr, steps);
            // The command line's merge controller applies to LTE only, whose grid cells arrive already edited.
            case "lte" or "lte-nf4":
                return WithLte(name, vit, lteOverride ?? preset.Controller(new LteOptions
                {
                    Heads = preset.Heads, Rank = preset.Rank, Alpha = preset.Alpha, MergeEvery = preset.MergeEvery, Exclude = "head",
                    BaseQuantization = name == "lte-nf4" ? s_nf4 : null,
                }), lowRankLr, steps);
            default:
                vit.Dispose();
                throw new ArgumentException($"unknown method '{name}': use {string.Join(", ", All.Concat(Quantized))}");
        }
    }

    private static Method Plain(string name, Module trained, Module model, double lr, long steps)
    {
        var optimizer = new AdamW(ParamGroup.WeightDecayGroups(trained, new AdamWOptions { lr = lr, weight_decay = 0.05 }));
        var schedule = Schedule(optimizer, steps);
        return new Method(name, model, 1, (x, y) =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
            schedule.step();
            return loss.item<float>();
        }, null, optimizer, model);
    }

    // LoRA on every linear layer but the classifier; the base weights of adapted layers are frozen, everything else
    // that trains in the other methods (biases, classifier, and unless frozen norms, tokens, patch projection) trains,
    // as the replicas do under LTE.
    private static Method Adapted(string name, VisionTransformer vit, int rank, int heads, double lr, long steps, double alpha,
        QuantizationConfig? quantization = null)
    {
        var fixedBefore = vit.parameters().Where(p => !p.requires_grad).ToHashSet(ReferenceEqualityComparer.Instance);
        var lora = new LoraModel(vit, new LoraConfig
        {
            r = rank, lora_alpha = alpha, num_heads = heads, head_input = HeadInput.Shared,
            target_modules = ModuleSelector.AllLinear, exclude_modules = "head", base_quantization = quantization,
        });
        // A quantized base weight is a buffer, not a parameter: nothing to freeze.
        var frozen = lora.modules().OfType<LoraLayer>().Where(l => l.quantized_base is null).Select(l => l.weight).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (Tensor p in lora.parameters()) p.requires_grad_(!frozen.Contains(p) && !fixedBefore.Contains(p));
        return Plain(name, lora, lora, lr, steps);
    }

    private static Method WithLte(string name, VisionTransformer vit, LteOptions options, double lr, long steps)
    {
        var lte = new Lte(vit, options);
        var optimizer = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = lr, weight_decay = 0.05 }));
        var trainer = new LteTrainer(lte, optimizer, (o, t) => nn.functional.cross_entropy(o, t), Schedule(optimizer, steps));
        return new Method(name, lte, options.Heads, trainer.Step, trainer, optimizer, lte);
    }

    // --freeze-extras: the patch projection, class token, position embedding and LayerNorm affine parameters stay at
    // their initial values in every method (the thesis found removing norm affine parameters helped both standard
    // training and LTE; the fixed patch projection is a full-rank random map of each 4×4 patch). Without it they train
    // in every method, under LTE as per-head replicas averaged at each merge.
    private static void FreezeExtras(VisionTransformer vit)
    {
        foreach (Tensor p in new[] { vit.class_token, vit.pos_embedding }.Concat(vit.conv_proj.parameters())) p.requires_grad_(false);
        foreach (LayerNorm norm in vit.modules().OfType<LayerNorm>())
            foreach (Tensor p in norm.parameters()) p.requires_grad_(false);
    }

    private static WarmupCosineLR Schedule(Optimizer optimizer, long steps) => new(optimizer, warmup_steps: Math.Max(1, steps / 20), total_steps: steps);

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
    }
}
