using LowRankBias.Lora;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lte;

/// <summary>
/// Settings of LoRA-the-Explorer (Huh et al., 2024): N LoRA heads of rank r per adapted layer, each trained on its own
/// share of a cumulative batch with its own optimizer state, merged into the base weights every
/// <see cref="MergeEvery"/> cumulative batches. Defaults follow the paper (α = 4096, T = 10, semi-orthogonal A,
/// B reset at merges, A and optimizer state kept). Records compose with <c>with</c>; <see cref="Validate"/> runs
/// wherever the options are used.
/// </summary>
public sealed record LteOptions
{
    /// <summary>The paper's rule of thumb for the learning rate: 0.05–0.1 × the full-rank model's; this is the upper end.</summary>
    public const double PaperLearningRateFactor = 0.1;

    /// <summary>Number of heads N (simulated workers). Default 4.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Rank r of every head. Default 8.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>α in the head scale s = α/r. Default 4096 (the paper uses 4096–8192).</summary>
    public double Alpha { get; init; } = 4096;

    /// <summary>Merge period T in cumulative batches; 0 never merges (multi-head LoRA with split data). Default 10.</summary>
    public int MergeEvery { get; init; } = 10;

    /// <summary>
    /// If set, a controller decides when to merge from the heads' statistics, within bounds (see
    /// <see cref="LteAdaptiveMerge"/>), and <see cref="MergeEvery"/> is not used. Default none: the fixed period.
    /// </summary>
    public LteAdaptiveMerge? AdaptiveMerge { get; init; }

    /// <summary>
    /// Head resets: at each merge, a head whose update since the last merge has a cosine above this value (in (0, 1])
    /// with an earlier head's — its subspace collapsed onto another's — restarts from a newly drawn A (B is zero
    /// after the merge) with its optimizer state cleared. Needs <see cref="LteMergeMode.Reset"/>. Default none.
    /// </summary>
    public double? ReseedAbove { get; init; }

    /// <summary>If set, each layer's head rank follows the data between merges (see <see cref="LteRankPolicy"/>), starting
    /// at <see cref="Rank"/>. Default none: every layer keeps rank r.</summary>
    public LteRankPolicy? RankPolicy { get; init; }

    /// <summary>What a merge does to the heads. Default <see cref="LteMergeMode.Reset"/> (Algorithm 1).</summary>
    public LteMergeMode MergeMode { get; init; } = LteMergeMode.Reset;

    /// <summary>Redraw every Aₙ at each merge (appendix A.3 ablation; <see cref="LteMergeMode.Reset"/> only). Default false.</summary>
    public bool ReinitializeA { get; init; }

    /// <summary>
    /// Clear the LoRA factors' optimizer state at each merge (appendix A.3 ablation). Default false. The replicas of
    /// parameters without a low-rank form (biases, norms, a left-out classifier) keep theirs, as ReLoRA resets only its
    /// LoRA parameters: with one head a replica then trains exactly as the parameter would without LTE.
    /// </summary>
    public bool ResetOptimizer { get; init; }

    /// <summary>
    /// At each merge, zero this fraction of every LoRA factor moment's entries, the smallest in magnitude (ReLoRA's
    /// optimizer reset keeps the largest 1%: 0.99), without resetting step counts; replicas keep their state. 0 (default) leaves the state alone;
    /// <see cref="ResetOptimizer"/> clears it instead.
    /// </summary>
    public double PruneOptimizer { get; init; }

    /// <summary>
    /// What each head sees of a cumulative batch of B samples: <see cref="HeadSampling.Split"/> (default) or
    /// <see cref="HeadSampling.Independent"/> cut it into N consecutive groups of B/N; <see cref="HeadSampling.Same"/>
    /// gives every head all B samples (the paper's "same data" ablation).
    /// </summary>
    public HeadSampling Sampling { get; init; } = HeadSampling.Split;

    /// <summary>Initialisation of the A factors. Default <see cref="LteInit.SemiOrthogonal"/> (the paper's).</summary>
    public LteInit AInit { get; init; } = LteInit.SemiOrthogonal;

    /// <summary>Treatment of parameters without a low-rank form. Default <see cref="LteNonLowRank.Averaged"/>.</summary>
    public LteNonLowRank NonLowRank { get; init; } = LteNonLowRank.Averaged;

    /// <summary>If set, each head's gradient (all its factors and replicas together) is clipped to this 2-norm, as
    /// <c>clip_grad_norm_</c> would for that head alone. Default none.</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>Layers that get heads (LoRA's target rules). Default every <c>Linear</c>.</summary>
    public ModuleSelector Targets { get; init; } = ModuleSelector.AllLinear;

    /// <summary>Layers left without heads, e.g. a classifier; their parameters follow <see cref="NonLowRank"/>.</summary>
    public ModuleSelector? Exclude { get; init; }

    /// <summary>
    /// If set, the base weight of every targeted <c>Linear</c> is stored quantized (<see cref="QuantizedLinear"/>:
    /// Algorithm 1's q(W) on the workers) and each merge dequantizes it, adds the heads' average and re-quantizes.
    /// Convolutions and embeddings keep full-precision bases. Default none.
    /// </summary>
    public QuantizationConfig? BaseQuantization { get; init; }

    /// <summary>Head scale s = α/r.</summary>
    public double Scale => Alpha / Rank;

    /// <summary>
    /// The paper's preset for a model whose largest layer dimension is <paramref name="largestDimension"/>: the
    /// smallest power-of-two rank with N·r above it (e.g. 32 heads × r 64 for ViT-S's 1536), α = 4096, T = 10,
    /// semi-orthogonal A. Pair it with <see cref="PaperLearningRateFactor"/> × the full-rank rate and warm-up + cosine decay.
    /// </summary>
    public static LteOptions Paper(long largestDimension, int heads = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(largestDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        int rank = 1;
        while ((long)heads * rank <= largestDimension) rank *= 2;
        return new LteOptions { Heads = heads, Rank = rank, Alpha = 4096, MergeEvery = 10 };
    }

    /// <summary>
    /// ReLoRA (Lialin et al. 2023) as an LTE special case: one head of rank <paramref name="rank"/> merged every
    /// <paramref name="mergeEvery"/> steps, B zeroed and A re-drawn, 99% of the optimizer state pruned by magnitude.
    /// Pair it with <c>JaggedCosineLR</c> (re-warm-up after each merge) and, optionally, full-rank warm-start steps.
    /// </summary>
    public static LteOptions ReLoRA(int rank, int mergeEvery, double alpha = 32) => new()
    {
        Heads = 1, Rank = rank, Alpha = alpha, MergeEvery = mergeEvery, ReinitializeA = true, PruneOptimizer = 0.99,
    };

    /// <summary>The LoRA configuration of every head: rank (the largest a <see cref="RankPolicy"/> allows: the allocation), α,
    /// targets, split input, and the initialisation A is drawn from.</summary>
    internal LoraConfig LoraConfig() => new()
    {
        r = RankPolicy?.MaxRank ?? Rank,
        lora_alpha = Alpha,
        num_heads = Heads,
        head_input = Lora.HeadInput.Split,
        init_lora_weights = AInit == LteInit.SemiOrthogonal ? LoraInit.SemiOrthogonal : LoraInit.Orthogonal,
        target_modules = Targets,
        exclude_modules = Exclude,
        base_quantization = BaseQuantization,
    };

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Heads < 1) throw new ArgumentOutOfRangeException(nameof(Heads), Heads, "LTE needs at least one head");
        if (Rank < 1) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, "the head rank must be positive");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "alpha must be positive and finite");
        if (MergeEvery < 0) throw new ArgumentOutOfRangeException(nameof(MergeEvery), MergeEvery, "the merge period must be >= 0 (0: never merge)");
        if (!Enum.IsDefined(MergeMode)) throw new ArgumentOutOfRangeException(nameof(MergeMode), MergeMode, "unknown merge mode");
        if (!Enum.IsDefined(Sampling)) throw new ArgumentOutOfRangeException(nameof(Sampling), Sampling, "unknown head sampling");
        if (!Enum.IsDefined(AInit)) throw new ArgumentOutOfRangeException(nameof(AInit), AInit, "unknown A initialisation");
        if (!Enum.IsDefined(NonLowRank)) throw new ArgumentOutOfRangeException(nameof(NonLowRank), NonLowRank, "unknown treatment of non-low-rank parameters");
        if (MaxGradNorm is { } max && !(max > 0)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), max, "the per-head gradient norm bound must be positive");
        if (ReinitializeA && MergeMode == LteMergeMode.Correction)
            throw new ArgumentException("ReinitializeA contradicts the correction merge mode, whose heads are never reset", nameof(ReinitializeA));
        if (!(PruneOptimizer >= 0 && PruneOptimizer <= 1)) throw new ArgumentOutOfRangeException(nameof(PruneOptimizer), PruneOptimizer, "the pruned fraction must lie in [0, 1]");
        if (ResetOptimizer && PruneOptimizer > 0) throw new ArgumentException("ResetOptimizer clears the state that PruneOptimizer would prune; choose one", nameof(PruneOptimizer));
        AdaptiveMerge?.Validate();
        RankPolicy?.Validate(Rank);
        if (RankPolicy is not null && MergeMode == LteMergeMode.Correction)
            throw new ArgumentException("RankPolicy changes ranks at merges, which needs the reset merge mode (B = 0 afterwards)", nameof(RankPolicy));
        if (ReseedAbove is { } reseed && !(reseed > 0 && reseed <= 1))
            throw new ArgumentOutOfRangeException(nameof(ReseedAbove), reseed, "the cosine above which a head is re-seeded must lie in (0, 1]");
        if (ReseedAbove is not null && MergeMode == LteMergeMode.Correction)
            throw new ArgumentException("ReseedAbove re-draws heads at merges, which the correction merge mode never resets", nameof(ReseedAbove));
        ArgumentNullException.ThrowIfNull(Targets);
        BaseQuantization?.Validate();
    }
}
