using LowRankBias.Lora.Merging;
using LowRankBias.Torch;

namespace LowRankBias.Lora;

public sealed partial class LoraModel
{
    /// <summary>Every <c>combination_type</c> of <see cref="add_weighted_adapter"/>.</summary>
    public static IReadOnlyList<string> CombinationTypes { get; } =
        ["linear", "cat", .. WeightedLayerMerge.FactorSpace[1..], .. WeightedLayerMerge.WeightSpace];

    private static readonly string[] s_needDensity = ["ties", "ties_svd", "dare_linear", "dare_linear_svd", "dare_ties", "dare_ties_svd", "magnitude_prune", "magnitude_prune_svd"];

    /// <summary>
    /// Adds adapter <paramref name="adapter_name"/>, a weighted combination of <paramref name="adapters"/> (PEFT's
    /// <c>add_weighted_adapter</c>, with its rules and formulas). In every layer that holds some of them, with weights wᵢ
    /// and the adapters' scales sᵢ:
    /// <list type="bullet">
    /// <item><c>linear</c>, <c>ties</c>, <c>dare_linear</c>, <c>dare_ties</c>, <c>magnitude_prune</c>: A and B are merged
    /// separately (<see cref="MergeUtils"/>) with weights √|wᵢsᵢ|, the sign on A; equal ranks required; the new rank is theirs.</item>
    /// <item><c>cat</c>: A = [w₁s₁A₁; …], B = [B₁ …], so BA = Σ wᵢsᵢBᵢAᵢ exactly; the new rank is the sum of the ranks.</item>
    /// <item><c>svd</c>, <c>ties_svd</c>, <c>dare_linear_svd</c>, <c>dare_ties_svd</c>, <c>magnitude_prune_svd</c>: the
    /// ΔWᵢ (<see cref="LoraLayer.get_delta_weight"/>, which carries sᵢ) are merged with weights wᵢsᵢ — so sᵢ enters
    /// twice, as in PEFT — and factored by an SVD truncated to <paramref name="svd_rank"/> (default the largest rank);
    /// <paramref name="svd_clamp"/> clamps both factors to ± that quantile of their entries.</item>
    /// </list>
    /// A single adapter always combines linearly (PEFT). Ranks count <c>rank_pattern</c> (an adapter's largest rank).
    /// The new adapter has r = lora_alpha = the new rank (scale 1, rsLoRA off), no rank/alpha patterns, the targets of
    /// all the adapters (name lists united, regular expressions joined with <c>|</c>; the kinds may not mix) and the
    /// other settings of <c>adapters[0]</c>. It is added inactive, like any later adapter: select it with
    /// <see cref="set_adapter"/>; it saves and merges like any other. DARE draws its masks from the global generator
    /// (<c>torch.manual_seed</c>), layer by layer in module order, A before B, adapter by adapter.
    /// <para>Everything is checked before anything is added; a failure leaves the model as it was. Differences from
    /// PEFT: an existing <paramref name="adapter_name"/> is an error (PEFT returns silently); the weights are used in the
    /// factors' dtype (PEFT rounds them to float32); a layer whose combined rank is below the new rank gets zero rows/columns;
    /// targets that resolve to a layer holding none of the adapters, or miss one that holds some, are an error.</para>
    /// </summary>
    public void add_weighted_adapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapter_name,
        string combination_type = "svd", int? svd_rank = null, double? svd_clamp = null, bool svd_full_matrices = true,
        double? density = null, string majority_sign_method = "total")
    {
        string type = CheckWeightedAdapterArguments(adapters, weights, adapter_name, combination_type, svd_rank, svd_clamp, density, majority_sign_method);
        LoraConfig[] configs = adapters.Select(a => _configs[a]).ToArray();
        int[] ranks = configs.Select(c => c.rank_pattern.Count == 0 ? c.r : Math.Max(c.r, c.rank_pattern.Values.Max())).ToArray();
        int newRank = type switch
        {
            "cat" => ranks.Sum(),
            _ when WeightedLayerMerge.WeightSpace.Contains(type) => svd_rank ?? ranks.Max(),
            _ when ranks.Distinct().Count() == 1 => ranks[0],
            _ => throw new ArgumentException($"combination_type '{type}' needs adapters of equal rank, got r = [{string.Join(", ", ranks)}] " +
                $"for [{string.Join(", ", adapters)}]; use 'cat' or an svd type to combine different ranks", nameof(adapters)),
        };
        CheckSharedModulesToSave(adapters);
        LoraConfig config = configs[0] with
        {
            r = newRank,
            lora_alpha = newRank,
            use_rslora = false, // the factors carry the combination: scale 1
            target_modules = UnitedTargets(adapters, configs),
            rank_pattern = new Dictionary<string, int>(),
            alpha_pattern = new Dictionary<string, double>(),
            init_lora_weights = LoraInit.Kaiming, // drawn, then overwritten; never an init that edits the base weight
        };

        var sources = adapters.Zip(weights, (a, w) => (a, w)).ToList();
        var options = new WeightedAdapterOptions(density, majority_sign_method, svd_clamp, svd_full_matrices);
        List<(string path, LoraLayer layer)> holders = lora_layers().Where(l => adapters.Any(l.layer.adapter_configs.ContainsKey)).ToList();
        config = config with { allow_rank_above_min = config.allow_rank_above_min || holders.Any(h => newRank > RankBound(h.layer, adapters)) };

        AdapterPlan plan = PlanAdapter(adapter_name, config);
        var merged = new List<(LoraLayer layer, Tensor a, Tensor b)>();
        try
        {
            List<(string path, LoraLayer layer)> targets = plan.Layers().ToList();
            if (targets.FirstOrDefault(t => !holders.Any(h => h.path == t.path)) is { path: not null } extra)
                throw new ArgumentException($"the united targets ({config.target_modules}) select '{extra.path}', which holds none of [{string.Join(", ", adapters)}]; " +
                    "the adapters' target and exclude settings differ too much to combine", nameof(adapters));
            if (holders.FirstOrDefault(h => !targets.Any(t => t.path == h.path)) is { path: not null } missed)
                throw new ArgumentException($"'{missed.path}' holds some of [{string.Join(", ", adapters)}] but the united targets ({config.target_modules}) " +
                    $"with the exclusions of '{adapters[0]}' do not select it", nameof(adapters));
            if (WeightedLayerMerge.FactorSpace.Contains(type)) CheckEqualLayerRanks(targets, adapters, type);
            foreach ((string path, LoraLayer layer) in targets)
            {
                long[][] shapes = layer.FileShapes(config.ForModule(path)).Select(s => s.shape).ToArray();
                (Tensor a, Tensor b) = WeightedLayerMerge.Combine(layer, type, sources, options, shapes[0], shapes[1]);
                merged.Add((layer, a.DetachFromDisposeScope(), b.DetachFromDisposeScope()));
            }
        }
        catch
        {
            foreach ((_, Tensor a, Tensor b) in merged) { a.Dispose(); b.Dispose(); }
            Discard(plan);
            throw;
        }

        // Shapes and dtypes are those of the factors about to be created, so nothing below can refuse.
        Commit(plan);
        using var noGrad = torch.no_grad();
        foreach ((LoraLayer layer, Tensor a, Tensor b) in merged)
        {
            using (a) layer.lora_A[adapter_name].copy_(a);
            using (b) layer.lora_B[adapter_name].copy_(b);
        }
    }

    // Every check that needs no layer; returns the effective combination type.
    private string CheckWeightedAdapterArguments(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapter_name,
        string combination_type, int? svd_rank, double? svd_clamp, double? density, string majority_sign_method)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(weights);
        if (adapters.Count == 0) throw new ArgumentException("name at least one adapter to combine", nameof(adapters));
        if (weights.Count != adapters.Count)
            throw new ArgumentException($"{weights.Count} weights for {adapters.Count} adapters: give one weight per adapter", nameof(weights));
        foreach (string name in adapters) CheckAdapter(name);
        for (int i = 0; i < weights.Count; i++)
            if (!double.IsFinite(weights[i])) throw new ArgumentException($"weight {i} ('{adapters[i]}') is {weights[i]}; weights must be finite", nameof(weights));
        LoraLayer.CheckAdapterName(adapter_name);
        if (_configs.ContainsKey(adapter_name)) throw new ArgumentException($"the model already has an adapter named '{adapter_name}'", nameof(adapter_name));
        if (!CombinationTypes.Contains(combination_type))
            throw new ArgumentException($"unknown combination_type '{combination_type}': expected one of {string.Join(", ", CombinationTypes)}", nameof(combination_type));
        MergeUtils.CheckMajoritySignMethod(majority_sign_method);
        if (density is double d && !(d > 0 && d <= 1))
            throw new ArgumentOutOfRangeException(nameof(density), d, "density (the fraction of entries kept) must be in (0, 1]");
        if (density is null && s_needDensity.Contains(combination_type))
            throw new ArgumentException($"combination_type '{combination_type}' prunes: give a density in (0, 1]", nameof(density));
        if (svd_rank is int rank && rank <= 0) throw new ArgumentOutOfRangeException(nameof(svd_rank), rank, "svd_rank must be positive");
        if (svd_clamp is double q && !(q > 0 && q <= 1))
            throw new ArgumentOutOfRangeException(nameof(svd_clamp), q, "svd_clamp (a quantile of the factors' entries) must be in (0, 1]");
        foreach (string name in adapters)
            if (_configs[name].num_heads != 1 || _configs[name].head_ranks is not null)
                throw new ArgumentException($"adapter '{name}' has heads (num_heads = {_configs[name].num_heads}, head_ranks set: {_configs[name].head_ranks is not null}); " +
                    "add_weighted_adapter combines plain single-head adapters", nameof(adapters));
        return adapters.Count == 1 ? "linear" : combination_type;
    }

    // PEFT's rule: a module that several of the adapters save whole cannot be combined.
    private void CheckSharedModulesToSave(IReadOnlyList<string> adapters)
    {
        string? shared = adapters.Distinct().SelectMany(a => _saved[a]).GroupBy(p => p).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (shared is not null)
            throw new ArgumentException($"several of [{string.Join(", ", adapters)}] save module '{shared}' whole (modules_to_save); such modules cannot be combined", nameof(adapters));
    }

    // PEFT's _check_add_weighted_adapter: name lists are united, regular expressions joined; kinds may not mix.
    private static ModuleSelector UnitedTargets(IReadOnlyList<string> adapters, LoraConfig[] configs)
    {
        ModuleSelector[] selectors = configs.Select(c => c.target_modules!).ToArray();
        static string Kind(ModuleSelector s) => s.all_linear ? "all-linear" : s.regex is not null ? "a regular expression" : "a name list";
        if (selectors.Select(Kind).Distinct().Count() > 1)
            throw new ArgumentException($"the adapters' target_modules are of different kinds ({string.Join(", ", adapters.Zip(selectors, (a, s) => $"{a}: {Kind(s)}"))}); " +
                "combining a name list with a regular expression is not supported (PEFT's rule)", nameof(adapters));
        if (selectors[0].all_linear) return ModuleSelector.AllLinear;
        if (selectors[0].regex is not null) return ModuleSelector.Regex(string.Join("|", selectors.Select(s => $"({s.regex})")));
        return ModuleSelector.Names(selectors.SelectMany(s => s.names!).Distinct());
    }

    // Factor-space merges stack the adapters' factors of a layer, which needs them of one rank there.
    private static void CheckEqualLayerRanks(List<(string path, LoraLayer layer)> targets, IReadOnlyList<string> adapters, string type)
    {
        foreach ((string path, LoraLayer layer) in targets)
        {
            var ranks = adapters.Where(layer.adapter_configs.ContainsKey).Distinct().Select(a => (a, r: layer.lora_A[a].size(0))).ToList();
            if (ranks.Select(x => x.r).Distinct().Count() > 1)
                throw new ArgumentException($"combination_type '{type}' needs equal ranks in every layer, but '{path}' has " +
                    $"{string.Join(", ", ranks.Select(x => $"{x.a}: r={x.r}"))}; use 'cat' or an svd type", nameof(adapters));
        }
    }

    // min(rows, cols) of the layer's weight matrix, read from the factors of an adapter it holds.
    private static long RankBound(LoraLayer layer, IReadOnlyList<string> adapters)
    {
        string held = adapters.First(layer.adapter_configs.ContainsKey);
        long rows = layer.lora_B[held].size(0), cols = layer.lora_A[held].shape[1..].Aggregate(1L, (x, y) => x * y);
        return Math.Min(rows, cols);
    }
}
