using System.Globalization;
using System.Text.RegularExpressions;
using LowRankBias.Lora.Variants;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>
/// What every LoRA layer shares: the wrapped, frozen <see cref="base_layer"/>, any number of named adapters whose
/// factors live under <c>lora_A.&lt;adapter&gt;</c> and <c>lora_B.&lt;adapter&gt;</c> (PEFT's layout), the active set,
/// enabling, merging into the base weight and the dtype rules. Subclasses supply the factor shapes, the LoRA path
/// of the forward pass and the weight update ΔW = s·BA of one adapter. What an adapter does with them — its forward pass,
/// merge, unmerge, extra tensors (DoRA's <c>lora_magnitude_vector</c>) and file entries — is its variant's
/// (<see cref="LoraConfig.use_dora"/>; plain LoRA by default), so every path here treats all variants alike.
/// <para>Dtypes: the base path runs in the base weight's dtype (which may be bfloat16, or float16 on devices with
/// half-precision matrix products such as CUDA; libtorch 1.13's CPU kernels lack them) and the adapters
/// are float32 (float64 when the base is float64); a floating-point input yields an output of the input's dtype,
/// an index input (embeddings) one of the adapters' dtype. Merging computes in float32 (float64 for a float64
/// base) and rounds once into the base weight.</para>
/// </summary>
public abstract class LoraLayer : Module, IEffectiveWeight
{
    private static readonly Regex s_adapterName = new("^[A-Za-z_][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant);
    private static readonly HashSet<string> s_reserved =
        ["base_layer", "lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_head_scale", "weight", "bias", "base_model", "model", "modules_to_save",
         .. LoraVariants.TensorNames];

    private readonly string _factorA, _factorB, _fileSuffix;
    private readonly OrderedDictionary<string, LoraConfig> _configs = new();
    private readonly Dictionary<string, LoraVariant> _variants = [];
    private readonly List<string> _merged = [];
    private string[] _active = [];
    private Tensor? _weightBeforeMerge; // the base weight as it was before the first merge, for an exact unmerge
    private Tensor[]? _quantizedBeforeMerge, _quantizedAfterMerge; // a quantized base's codes and scales around the merges

    /// <summary>Wraps <paramref name="baseLayer"/>, freezing its parameters; the factors are registered under
    /// <paramref name="factorA"/> and <paramref name="factorB"/>, and PEFT's files name them with
    /// <paramref name="fileSuffix"/> appended (".weight" where PEFT holds factors as layers).</summary>
    private protected LoraLayer(Module baseLayer, string factorA = "lora_A", string factorB = "lora_B", string fileSuffix = ".weight")
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (baseLayer is LoraLayer) throw new ArgumentException("the layer already carries LoRA: add an adapter with update_layer instead of wrapping it again", nameof(baseLayer));
        base_layer = baseLayer;
        baseLayer.requires_grad_(false);
        (_factorA, _factorB, _fileSuffix) = (factorA, factorB, fileSuffix);
        register_module(factorA, new AdapterTensors(asParameters: true));
        register_module(factorB, new AdapterTensors(asParameters: true));
    }

    /// <summary>The wrapped layer, whose weight merging changes.</summary>
    public Module base_layer { get; private set; }

    /// <summary>The base weight that <see cref="merge"/> updates; a quantized base (<see cref="quantized_base"/>) has none
    /// in full precision, and reading this throws — use <see cref="QuantizedLayer.dequantize"/>.</summary>
    public abstract Tensor weight { get; }

    /// <summary>The base layer when its weight is stored quantized (QLoRA-style), otherwise null. Merging into it
    /// dequantizes, adds ΔW and re-quantizes, so an unmerge restores W only to within the quantization error.</summary>
    public QuantizedLayer? quantized_base => base_layer as QuantizedLayer;

    /// <summary>Factor A of every adapter (for embeddings the state-dict name is <c>lora_embedding_A</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> lora_A => Factors(_factorA).All;

    /// <summary>Factor B of every adapter (for embeddings the state-dict name is <c>lora_embedding_B</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> lora_B => Factors(_factorB).All;

    /// <summary>The configuration each adapter was created with (after per-layer rank and α overrides).</summary>
    public IReadOnlyDictionary<string, LoraConfig> adapter_configs => _configs;

    /// <summary>Rank of each adapter (the largest head rank for multi-head adapters).</summary>
    public IReadOnlyDictionary<string, int> r => _configs.ToDictionary(c => c.Key, c => c.Value.HeadRanks().Max());

    /// <summary>α of each adapter.</summary>
    public IReadOnlyDictionary<string, double> lora_alpha => _configs.ToDictionary(c => c.Key, c => c.Value.lora_alpha);

    /// <summary>Scale s of each adapter: α/r, or α/√r with rsLoRA.</summary>
    public IReadOnlyDictionary<string, double> scaling => _configs.ToDictionary(c => c.Key, c => Scaling(c.Key));

    /// <summary>The adapters the forward pass applies, in order.</summary>
    public IReadOnlyList<string> active_adapters => _active;

    /// <summary>The adapters currently folded into <see cref="weight"/>, in merge order.</summary>
    public IReadOnlyList<string> merged_adapters => _merged;

    /// <summary>True while at least one adapter is merged.</summary>
    public bool merged => _merged.Count > 0;

    /// <summary>True after <c>enable_adapters(false)</c>: the layer computes its base output only.</summary>
    public bool disable_adapters { get; private set; }

    /// <summary>The dtype the factors are created in: float64 for a float64 base, float32 otherwise.</summary>
    public ScalarType adapter_dtype => BaseDtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>(rows, columns) of the weight matrix a rank-r update factors: r may not exceed the smaller one.</summary>
    protected abstract (long rows, long cols) MatrixShape { get; }

    /// <summary>Shapes of A and B for an adapter with <paramref name="config"/>.</summary>
    protected abstract (long[] a, long[] b) FactorShapes(LoraConfig config);

    /// <summary>The adapter's LoRA path s·B A x on <paramref name="input"/>, which is <see cref="LoraInput"/>'s result (cast
    /// to the adapters' dtype, dropout applied), in the adapters' dtype.</summary>
    protected abstract Tensor AdapterOutput(string adapter, Tensor input);

    /// <summary>The adapter's weight update ΔW, shaped like <see cref="weight"/>, computed in <paramref name="work"/>.</summary>
    protected abstract Tensor DeltaWeight(string adapter, ScalarType work);

    /// <summary>
    /// Adds adapter <paramref name="adapter_name"/> with <paramref name="config"/> (PEFT's <c>update_layer</c>): its
    /// factors are drawn per <see cref="LoraConfig.init_lora_weights"/>. The first adapter becomes active; later ones
    /// stay inactive, and frozen, until <see cref="set_adapter"/>.
    /// </summary>
    public void update_layer(string adapter_name, LoraConfig config) => update_layer(adapter_name, config, fullPrecisionWeight: null);

    // update_layer over a base that LoraModel has just quantized: a data-aware init fits fullPrecisionWeight, the
    // weight before quantization (null: the base's own).
    internal void update_layer(string adapter_name, LoraConfig config, Tensor? fullPrecisionWeight)
    {
        CheckFits(adapter_name, config);

        (long[] aShape, long[] bShape) = FactorShapes(config);
        Tensor a = torch.zeros(aShape, adapter_dtype, BaseDevice);
        Tensor b = torch.zeros(bShape, adapter_dtype, BaseDevice);
        using (torch.no_grad())
            if (!DataAwareInit.Apply(this, config, a, b, fullPrecisionWeight)) InitFactors(config, a, b);
        Factors(_factorA).Add(adapter_name, a);
        Factors(_factorB).Add(adapter_name, b);
        _configs.Add(adapter_name, config);
        AdapterAdded(adapter_name, config);
        AddVariant(adapter_name, config);
        if (config.bias != LoraBias.None) BaseBias?.requires_grad_(true);
        set_adapter(_active.Length == 0 ? [adapter_name] : _active);
    }

    /// <summary>Throws if adapter <paramref name="adapter_name"/> with <paramref name="config"/> cannot be added to this layer.</summary>
    internal void CheckFits(string adapter_name, LoraConfig config)
    {
        CheckAdapterName(adapter_name);
        ArgumentNullException.ThrowIfNull(config);
        if (_configs.ContainsKey(adapter_name)) throw new ArgumentException($"{GetType().Name} already has an adapter named '{adapter_name}'", nameof(adapter_name));
        config.Validate();
        CheckConfig(config);
        CheckRank(config);
        LoraVariants.Create(config).CheckFits(this, config);
    }

    // The adapter's variant (PEFT's update_layer calls lora_variant.init last, once the factors are drawn): its tensors
    // are registered as zeros, then the variant fills them.
    private void AddVariant(string adapter, LoraConfig config)
    {
        LoraVariant variant = LoraVariants.Create(config);
        _variants.Add(adapter, variant);
        foreach ((string name, long[] shape) in variant.TensorNames.Zip(variant.TensorShapes(this, config)))
        {
            if (!named_children().Any(c => c.name == name)) register_module(name, new AdapterTensors(asParameters: true));
            Factors(name).Add(adapter, torch.zeros(shape, adapter_dtype, BaseDevice));
        }
        using var noGrad = torch.no_grad();
        variant.Init(this, adapter);
    }

    /// <summary>Redraws the adapter's factors as at creation (B zero unless its init is <see cref="LoraInit.Random"/>).</summary>
    public void reset_lora_parameters(string adapter_name)
    {
        LoraConfig config = Config(adapter_name);
        if (_merged.Contains(adapter_name)) throw new InvalidOperationException($"adapter '{adapter_name}' is merged; unmerge it before resetting its factors");
        using var noGrad = torch.no_grad();
        Tensor a = lora_A[adapter_name], b = lora_B[adapter_name];
        a.zero_();
        b.zero_();
        InitFactors(config, a, b);
        _variants[adapter_name].Init(this, adapter_name);
    }

    /// <summary>Makes <paramref name="adapter_names"/> the active adapters; their factors train, the others' are frozen.</summary>
    public void set_adapter(params string[] adapter_names)
    {
        ArgumentNullException.ThrowIfNull(adapter_names);
        foreach (string name in adapter_names) Config(name);
        _active = adapter_names.Distinct().ToArray();
        foreach (string name in _configs.Keys)
            foreach (Tensor p in AdapterParameters(name)) p.requires_grad = _active.Contains(name);
    }

    /// <summary>Turns the adapters on or off. Turning them off first unmerges them, so the base weight is clean.</summary>
    public void enable_adapters(bool enabled)
    {
        if (!enabled && merged) unmerge();
        disable_adapters = !enabled;
    }

    /// <summary>
    /// Folds the adapters (<paramref name="adapter_names"/>, default the active ones) into the base weight:
    /// W ← W + ΔW (a variant's own form, e.g. DoRA's rescaled W + ΔW), computed in float32 (float64 for a float64 base) and rounded once. With
    /// <paramref name="safe_merge"/> the result is checked first and a non-finite one is refused, leaving W unchanged.
    /// Merged adapters no longer run in the forward pass. The first merge keeps a copy of the base weight (one more
    /// weight-sized tensor while merged) so that <see cref="unmerge"/> can give it back bit for bit.
    /// </summary>
    public void merge(bool safe_merge = false, IReadOnlyList<string>? adapter_names = null)
    {
        foreach (string name in adapter_names ?? _active)
        {
            Config(name);
            if (_merged.Contains(name)) continue;
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            Tensor sum = _variants[name].Merge(this, name, BaseWeight(WorkDtype));
            if (safe_merge && !sum.isfinite().all().item<bool>())
                throw new InvalidOperationException($"NaN or infinite values detected in the merged weights of adapter '{name}'; the adapter seems to be broken, so it was not merged");
            if (_merged.Count == 0) KeepBaseBeforeMerge();
            SetBaseWeight(sum);
            _merged.Add(name);
            if (_quantizedBeforeMerge is null) continue;
            foreach (Tensor t in _quantizedAfterMerge ?? []) t.Dispose();
            _quantizedAfterMerge = Snapshot();
        }
    }

    /// <summary>
    /// Takes every merged adapter out of the base weight again. Guaranteed: when neither the merged weight nor the
    /// merged adapters' factors changed since <see cref="merge"/>, the base weight comes back bit for bit (the copy
    /// kept at the first merge is restored once the merges are shown to reproduce the current weight exactly).
    /// Otherwise — the merged weight was trained or edited, or the factors changed — each adapter's current ΔW is
    /// subtracted in float32/float64 (a variant's own inverse, e.g. DoRA's W'/k − ΔW with the norm kept at the merge), last
    /// merged first, as PEFT's <c>unmerge</c> does, which is exact only up to rounding.
    /// A quantized base gets its codes and scales of before the first merge back when nothing wrote them since the last
    /// merge; otherwise ΔW is subtracted and the weight re-quantized, exact only to within the quantization error.
    /// </summary>
    public void unmerge()
    {
        if (_merged.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (quantized_base is not null)
        {
            // Re-quantizing is not reversible (and merges may round stochastically): give the codes back when nothing wrote them since.
            if (QuantizedUnchangedSinceMerge()) foreach ((Tensor target, Tensor saved) in quantized_base.quantized_state().Zip(_quantizedBeforeMerge!)) target.copy_(saved);
            else SubtractMerges();
        }
        else if (MergesReproduceWeight()) weight.copy_(_weightBeforeMerge!);
        else SubtractMerges();
        foreach (string name in _merged) _variants[name].Release();
        _merged.Clear();
        ReleaseWeightCopy();
    }

    private void SubtractMerges()
    {
        for (int i = _merged.Count - 1; i >= 0; i--) SetBaseWeight(_variants[_merged[i]].Unmerged(this, _merged[i], BaseWeight(WorkDtype)));
    }

    private void KeepBaseBeforeMerge()
    {
        if (quantized_base is null) _weightBeforeMerge = weight.detach().clone().DetachFromDisposeScope();
        else _quantizedBeforeMerge = Snapshot();
    }

    private Tensor[] Snapshot() => quantized_base!.quantized_state().Select(t => t.clone().DetachFromDisposeScope()).ToArray();

    private bool QuantizedUnchangedSinceMerge() =>
        _quantizedAfterMerge is not null && quantized_base!.quantized_state().Zip(_quantizedAfterMerge)
            .All(pair => pair.First.device == pair.Second.device && (pair.First == pair.Second).all().item<bool>());

    /// <summary>True when replaying the merges on the saved base weight gives the current weight exactly.</summary>
    private bool MergesReproduceWeight()
    {
        if (_weightBeforeMerge is null || _weightBeforeMerge.device != weight.device) return false;
        Tensor replay = _weightBeforeMerge;
        foreach (string name in _merged) replay = _variants[name].Merged(this, name, replay.to(WorkDtype)).to(weight.dtype);
        return (replay == weight).all().item<bool>();
    }

    private void ReleaseWeightCopy()
    {
        _weightBeforeMerge?.Dispose();
        _weightBeforeMerge = null;
        foreach (Tensor t in (_quantizedBeforeMerge ?? []).Concat(_quantizedAfterMerge ?? [])) t.Dispose();
        (_quantizedBeforeMerge, _quantizedAfterMerge) = (null, null);
    }

    /// <summary>What merging the adapter alone would add to the current base weight, shaped like <see cref="weight"/>, in
    /// float32 or float64: ΔW = s·BA for plain LoRA; for a variant whose merge depends on the base weight (DoRA) the
    /// difference of its merged weight and the base weight.</summary>
    public Tensor get_delta_weight(string adapter)
    {
        Config(adapter);
        using var noGrad = torch.no_grad();
        LoraVariant variant = _variants[adapter];
        if (variant.MergesAdditively) return DeltaWeight(adapter, WorkDtype);
        using var scope = torch.NewDisposeScope();
        Tensor before = BaseWeight(WorkDtype);
        return (variant.Merged(this, adapter, before) - before).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The weight the layer computes with: the base weight (dequantized) with every active adapter that is not merged
    /// folded in as merging would fold it, in float32 or float64, detached, in the base weight's layout — what
    /// <see cref="merge"/> would write, so that the spectral monitor measures what the layer applies.
    /// </summary>
    public Tensor EffectiveWeight()
    {
        using var noGrad = torch.no_grad();
        Tensor result = BaseWeight(WorkDtype).detach();
        if (disable_adapters) return result;
        foreach (string name in _active.Except(_merged))
        {
            using Tensor previous = result;
            result = _variants[name].Merged(this, name, previous);
        }
        return result;
    }

    /// <inheritdoc />
    public bool EffectiveWeightIsTable => TakesIndices;

    /// <summary>base_layer(x) plus the output of every active adapter that is not merged.</summary>
    public override Tensor forward(Tensor input)
    {
        if (!TakesIndices && !input.dtype.IsFloatingPoint())
            throw new ArgumentException($"{GetType().Name} over {base_layer.GetType().Name}({base_layer.extra_repr()}) takes floating-point " +
                $"input (its base weight is {BaseDtype}, its factors {adapter_dtype}), got {input.dtype}", nameof(input));
        ScalarType outType = input.dtype.IsFloatingPoint() ? input.dtype : adapter_dtype;
        string[] running = disable_adapters ? [] : _active.Except(_merged).ToArray();
        // A variant that reads the base weight (DoRA) gets it once per pass, shared by its adapters; a quantized base
        // then computes its output from that same dequantized weight rather than dequantizing a second time.
        using Tensor? weight = running.Any(name => _variants[name].ReadsBaseWeight) ? BaseWeight(WorkDtype) : null;
        Tensor result;
        using (Tensor baseInput = input.dtype.IsFloatingPoint() ? input.to(BaseDtype) : input.alias())
        using (Tensor baseOutput = BaseOutput(baseInput, weight))
            result = baseOutput.to(outType);
        foreach (string name in running)
        {
            using Tensor previous = result;
            result = _variants[name].Forward(this, name, input, previous, _variants[name].ReadsBaseWeight ? weight : null);
        }
        return result;
    }

    // The base layer's output; a quantized base given its weight (dequantized in the work dtype) computes with that weight
    // cast to its compute dtype, which rounds as dequantizing to it would (the dequantized values are float32 or bfloat16,
    // the work dtype float32 or float64, so the first cast is exact).
    private Tensor BaseOutput(Tensor baseInput, Tensor? weight)
    {
        if (weight is null || quantized_base is null) return base_layer.call(baseInput);
        using Tensor cast = weight.to(BaseDtype);
        return quantized_base.call(baseInput, cast);
    }

    /// <summary>
    /// The adapter's factors as matrices with a leading head dimension, views of the parameters: A [N, r, fan_in] and
    /// B [N, fan_out, r] (N = 1 for single-head layers; a convolution's kernel dimensions flattened into fan_in, an
    /// embedding's fan_in being its number of rows). Head n's update is Bₙ Aₙ in the layer's matrix shape.
    /// </summary>
    internal (Tensor a, Tensor b) HeadFactors(string adapter)
    {
        LoraConfig config = Config(adapter);
        int heads = config.num_heads, rank = config.HeadRanks().Max();
        return (lora_A[adapter].reshape(heads, rank, -1), lora_B[adapter].reshape(heads, -1, rank));
    }

    /// <summary>[N, r] float64: the coefficient each rank component of each head carries in the layer's output, so that
    /// head n's update is Bₙ diag(cₙ) Aₙ (the scaling s everywhere, unless a layer gives heads ranks of their own).</summary>
    internal virtual Tensor HeadCoefficients(string adapter)
    {
        LoraConfig config = Config(adapter);
        return torch.full([config.num_heads, config.HeadRanks().Max()], Scaling(adapter), ScalarType.Float64);
    }

    /// <summary>(1/N) Σₙ Bₙ Aₙ of homogeneous heads as one [fan_out, fan_in] matrix in <paramref name="work"/>: one
    /// product of the concatenated factors.</summary>
    private protected Tensor MeanHeadProduct(string adapter, ScalarType work)
    {
        using var scope = torch.NewDisposeScope();
        (Tensor a, Tensor b) = HeadFactors(adapter);
        long heads = a.size(0), rank = a.size(1);
        Tensor aCat = a.to(work).reshape(heads * rank, a.size(2));
        Tensor bCat = b.to(work).permute(1, 0, 2).reshape(b.size(1), heads * rank);
        return (bCat.mm(aCat) * (1.0 / heads)).MoveToOuterDisposeScope();
    }

    /// <summary>Rejects per-head ranks, which only <see cref="MultiHeadLoraLinear"/> supports.</summary>
    private protected static void RejectHeadRanks(LoraConfig config, string layer)
    {
        if (config.head_ranks is not null)
            throw new ArgumentException($"per-head ranks (head_ranks) are supported on linear layers only; this layer is a {layer}", nameof(config));
    }

    /// <summary>The adapter's factors under their names in PEFT's files, relative to the layer's path
    /// (<c>lora_A.weight</c>, <c>lora_B.weight</c>; <c>lora_embedding_A</c>, <c>lora_embedding_B</c>).</summary>
    internal IEnumerable<(string key, Tensor factor)> FileEntries(string adapter)
    {
        Config(adapter);
        yield return (_factorA + _fileSuffix, lora_A[adapter]);
        yield return (_factorB + _fileSuffix, lora_B[adapter]);
        foreach (string name in _variants[adapter].TensorNames) yield return (name, VariantTensor(name, adapter));
    }

    /// <summary>The names and shapes <see cref="FileEntries"/> gives for an adapter with <paramref name="config"/> that is
    /// not added yet.</summary>
    internal IEnumerable<(string key, long[] shape)> FileShapes(LoraConfig config)
    {
        (long[] a, long[] b) = FactorShapes(config);
        yield return (_factorA + _fileSuffix, a);
        yield return (_factorB + _fileSuffix, b);
        LoraVariant variant = LoraVariants.Create(config);
        foreach ((string name, long[] shape) in variant.TensorNames.Zip(variant.TensorShapes(this, config))) yield return (name, shape);
    }

    /// <summary>The adapter's trainable tensors: its factors and its variant's tensors.</summary>
    internal IEnumerable<Tensor> AdapterParameters(string adapter) =>
        new[] { lora_A[adapter], lora_B[adapter] }.Concat(_variants[adapter].TensorNames.Select(name => VariantTensor(name, adapter)));

    /// <summary>The variant of <paramref name="adapter"/>.</summary>
    internal LoraVariant Variant(string adapter)
    {
        Config(adapter);
        return _variants[adapter];
    }

    /// <summary>The variant tensor <paramref name="name"/> of <paramref name="adapter"/>.</summary>
    internal Tensor VariantTensor(string name, string adapter) => Factors(name)[adapter];

    /// <summary><see cref="AdapterOutput"/>, for the variants.</summary>
    internal Tensor LoraOutput(string adapter, Tensor x) => AdapterOutput(adapter, x);

    /// <summary><see cref="DeltaWeight"/> (s·BA in the weight's layout), for the variants.</summary>
    internal Tensor LoraDelta(string adapter, ScalarType work) => DeltaWeight(adapter, work);

    /// <summary>The base layer's operation on <paramref name="input"/> with <paramref name="weight"/> in place of its own, without bias.</summary>
    internal abstract Tensor ApplyWeight(Tensor input, Tensor weight);

    /// <summary>The axis of the base weight that indexes the output channels (0, or 1 for an embedding's table).</summary>
    internal virtual int WeightOutputAxis => 0;

    /// <summary>The shape that lines a per-output-channel vector up with the layer's output (for broadcasting): [out] by default.</summary>
    internal virtual long[] ChannelShape => [MatrixShape.rows];

    /// <summary>The base weight in <paramref name="dtype"/> (dequantized for a quantized base), owned by the caller; it may
    /// alias the weight, so treat it as read-only.</summary>
    internal Tensor BaseWeight(ScalarType dtype) => quantized_base?.dequantize(dtype) ?? weight.to(dtype);

    /// <summary>Writes <paramref name="value"/> into the base weight (re-quantizing it for a quantized base).</summary>
    internal void SetBaseWeight(Tensor value)
    {
        using var noGrad = torch.no_grad();
        if (quantized_base is { } quantized) quantized.requantize_(value);
        else weight.copy_(value);
    }

    /// <summary>The tensors that hold the base weight: the weight, or a quantized base's codes and scales.</summary>
    internal IEnumerable<Tensor> BaseWeightState() => quantized_base?.quantized_state() ?? [weight];

    /// <summary>The exception for reading <see cref="weight"/> of a quantized base.</summary>
    private protected InvalidOperationException QuantizedWeight() => new(
        $"the base weight of this {GetType().Name} is stored quantized ({quantized_base!.quant_config.quant_type}); read it with quantized_base.dequantize()");

    /// <summary>Whether the input holds indices (an embedding) rather than floating-point features.</summary>
    private protected virtual bool TakesIndices => false;

    /// <summary>The dtype the base path computes in: the base weight's, or a quantized base's compute dtype.</summary>
    private protected ScalarType BaseDtype => quantized_base?.quant_config.compute_dtype ?? weight.dtype;

    /// <summary>The device of the base weight.</summary>
    private protected Device BaseDevice => quantized_base?.quantized_state().First().device ?? weight.device;

    /// <summary>Releases the adapters and hands back the base layer, which this layer no longer owns or runs.</summary>
    internal Module Unwrap()
    {
        Module baseLayer = base_layer;
        base_layer = null!;
        Dispose();
        return baseLayer;
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Join(", ", _configs.Select(c => string.Create(CultureInfo.InvariantCulture,
        $"{c.Key}: r={r[c.Key]}, lora_alpha={c.Value.lora_alpha}, scaling={Scaling(c.Key):G6}{(_variants[c.Key] is PlainLora ? "" : $", {_variants[c.Key].Name}")}" +
        $"{(_active.Contains(c.Key) ? "" : " (inactive)")}{(_merged.Contains(c.Key) ? " (merged)" : "")}")));

    /// <summary>Throws unless <paramref name="adapter_name"/> can name an adapter: an identifier that is not one of
    /// the path segments LoRA layers and PEFT's files use (base_layer, lora_A, weight, …).</summary>
    public static void CheckAdapterName(string adapter_name)
    {
        ArgumentException.ThrowIfNullOrEmpty(adapter_name);
        if (!s_adapterName.IsMatch(adapter_name))
            throw new ArgumentException($"adapter name '{adapter_name}' must be a letter or '_' followed by letters, digits, '_' or '-' (it becomes a state-dict path segment)", nameof(adapter_name));
        if (s_reserved.Contains(adapter_name))
            throw new ArgumentException($"adapter name '{adapter_name}' clashes with a path segment LoRA uses ({string.Join(", ", s_reserved)})", nameof(adapter_name));
    }

    /// <summary>The configuration of <paramref name="adapter"/>; throws for an unknown name.</summary>
    protected LoraConfig Config(string adapter) =>
        _configs.TryGetValue(adapter, out LoraConfig? config) ? config
        : throw new ArgumentException($"{GetType().Name} has no adapter '{adapter}' (adapters: {string.Join(", ", _configs.Keys)})", nameof(adapter));

    /// <summary>The scale of <paramref name="adapter"/>.</summary>
    protected double Scaling(string adapter)
    {
        LoraConfig config = Config(adapter);
        return config.Scaling(config.r);
    }

    /// <summary>The input of the LoRA path: cast to the adapters' dtype, then dropout (in training mode); indices as they are.</summary>
    protected internal Tensor LoraInput(string adapter, Tensor input)
    {
        if (TakesIndices) return input.alias();
        double p = Config(adapter).lora_dropout;
        if (p == 0 || !training) return input.to(lora_A[adapter].dtype);
        using Tensor cast = input.to(lora_A[adapter].dtype);
        return torch.nn.functional.dropout(cast, p, training: true);
    }

    /// <summary>Rejects settings this kind of layer cannot honour (default: multi-head settings).</summary>
    protected virtual void CheckConfig(LoraConfig config)
    {
        if (config.num_heads != 1)
            throw new ArgumentException($"{GetType().Name} has one head; num_heads = {config.num_heads} needs a MultiHeadLoraLinear", nameof(config));
    }

    /// <summary>Draws fresh factors (both zero on entry) without autograd.</summary>
    protected virtual void InitFactors(LoraConfig config, Tensor a, Tensor b) => LoraInit.Apply(config.init_lora_weights, a, b);

    /// <summary>Called once an adapter's factors are registered, for per-adapter state of subclasses.</summary>
    protected virtual void AdapterAdded(string adapter, LoraConfig config) { }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseWeightCopy();
            foreach (LoraVariant variant in _variants.Values) variant.Release();
        }
        base.Dispose(disposing);
    }

    /// <summary>The registered per-adapter tensors named <paramref name="name"/>.</summary>
    private protected AdapterTensors Factors(string name) => (AdapterTensors)get_submodule(name);

    private ScalarType WorkDtype => adapter_dtype;

    internal Tensor? BaseBias => base_layer.named_parameters(recurse: false).Where(p => p.name == "bias").Select(p => p.parameter).FirstOrDefault();

    private void CheckRank(LoraConfig config)
    {
        (long rows, long cols) = MatrixShape;
        long bound = Math.Min(rows, cols);
        int rank = config.HeadRanks().Max();
        if (rank > bound && !config.allow_rank_above_min)
            throw new ArgumentException($"rank {rank} exceeds min(out, in) = min({rows}, {cols}) = {bound} of the wrapped {base_layer.GetType().Name}: " +
                "the extra rank adds parameters but no expressiveness. Set allow_rank_above_min to permit it.", nameof(config));
    }
}
