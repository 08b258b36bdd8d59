using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// N LoRA heads on one <see cref="Linear"/>, stored stacked (A [N, r, in], B [N, out, r]) and computed together
/// without a loop over heads. With <see cref="HeadInput.Shared"/> every head sees x: y = W x + (s/N) Σₙ Bₙ Aₙ x
/// (MHLoRA), evaluated as one LoRA of rank N·r with the heads' factors concatenated. With
/// <see cref="HeadInput.Split"/> the batch is cut into N consecutive groups and head n, scaled by s like a lone
/// LoRA, sees only group n (LTE's N workers on one device): two batched matrix products. In both modes merging folds
/// the heads' average, W ← W + (1/N) Σₙ sₙ Bₙ Aₙ (LTE's merge step).
/// <para>Heterogeneous ranks (<see cref="LoraConfig.head_ranks"/>): the factors are padded to the largest rank r_max
/// and a per-head coefficient, sₙ/N (sₙ in split mode) on a head's first rₙ components and 0 on the padding, multiplies
/// the rank-r_max intermediate. The padding therefore never contributes and never receives gradient; each head's
/// scale sₙ uses its own rank. The coefficient is a non-persistent buffer <c>lora_head_scale.&lt;adapter&gt;</c>.</para>
/// </summary>
public sealed class MultiHeadLoraLinear : LoraLayer
{
    private const string HeadScale = "lora_head_scale";

    /// <summary>
    /// Wraps <paramref name="base_layer"/> and adds one multi-head adapter; <paramref name="config"/> sets
    /// <see cref="LoraConfig.num_heads"/>, <see cref="LoraConfig.head_input"/> and optionally <see cref="LoraConfig.head_ranks"/>.
    /// </summary>
    public MultiHeadLoraLinear(Linear base_layer, LoraConfig config, string adapter_name = "default") : this((Module)base_layer, config, adapter_name)
    {
    }

    /// <summary>Wraps a quantized <paramref name="base_layer"/> (its weight stays quantized; merges re-quantize) and adds one multi-head adapter.</summary>
    public MultiHeadLoraLinear(QuantizedLinear base_layer, LoraConfig config, string adapter_name = "default") : this((Module)base_layer, config, adapter_name)
    {
    }

    private MultiHeadLoraLinear(Module base_layer, LoraConfig config, string adapter_name) : base(base_layer)
    {
        register_module(HeadScale, new AdapterTensors(asParameters: false));
        update_layer(adapter_name, config);
    }

    /// <inheritdoc />
    public override Tensor weight => (base_layer as Linear)?.weight ?? throw QuantizedWeight();

    /// <summary>Number of heads of each adapter.</summary>
    public IReadOnlyDictionary<string, int> num_heads => adapter_configs.ToDictionary(c => c.Key, c => c.Value.num_heads);

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => LinearShape.Of(base_layer);


    /// <inheritdoc />
    protected override void CheckConfig(LoraConfig config) { }

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config)
    {
        int rMax = config.HeadRanks().Max();
        return ([config.num_heads, rMax, MatrixShape.cols], [config.num_heads, MatrixShape.rows, rMax]);
    }

    /// <inheritdoc />
    protected override void InitFactors(LoraConfig config, Tensor a, Tensor b)
    {
        IReadOnlyList<int> ranks = config.HeadRanks();
        for (int n = 0; n < ranks.Count; n++)
        {
            using Tensor headA = a.select(0, n), headB = b.select(0, n);
            using Tensor usedA = headA.narrow(0, 0, ranks[n]), usedB = headB.narrow(1, 0, ranks[n]);
            base.InitFactors(config, usedA, usedB);
        }
    }

    /// <inheritdoc />
    protected override void AdapterAdded(string adapter, LoraConfig config)
    {
        IReadOnlyList<int> ranks = config.HeadRanks();
        int rMax = ranks.Max();
        double share = config.head_input == HeadInput.Shared ? 1.0 / config.num_heads : 1.0;
        var coefficient = new double[config.num_heads * rMax];
        for (int n = 0; n < ranks.Count; n++)
            for (int j = 0; j < ranks[n]; j++) coefficient[n * rMax + j] = config.Scaling(ranks[n]) * share;
        using Tensor host = torch.tensor(coefficient, [config.num_heads, rMax]);
        Factors(HeadScale).Add(adapter, host.to(BaseDevice, adapter_dtype));
    }

    /// <summary>Every head of <paramref name="adapter"/> uses its first <paramref name="rank"/> components, scaled by
    /// s(rank); the others get a zero coefficient (LTE's rank per layer). The factors are not touched.</summary>
    internal void SetActiveRank(string adapter, int rank)
    {
        LoraConfig config = Config(adapter);
        Tensor coefficient = Factors(HeadScale)[adapter];
        if (rank < 1 || rank > coefficient.size(1))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the heads hold {coefficient.size(1)} components");
        double share = config.head_input == HeadInput.Shared ? 1.0 / config.num_heads : 1.0;
        using var noGrad = torch.no_grad();
        coefficient.zero_();
        using Tensor used = coefficient.narrow(1, 0, rank);
        used.fill_(config.Scaling(rank) * share);
    }

    /// <summary>Components each head uses: those with a non-zero coefficient in head 0.</summary>
    internal int ActiveRank(string adapter)
    {
        using Tensor nonzero = (Factors(HeadScale)[adapter].select(0, 0) != 0).sum();
        return (int)nonzero.item<long>();
    }

    /// <inheritdoc />
    internal override Tensor HeadCoefficients(string adapter) => Factors(HeadScale)[adapter].to(ScalarType.Float64);

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        LoraConfig config = Config(adapter);
        return config.head_input == HeadInput.Shared ? SharedOutput(adapter, input) : SplitOutput(adapter, input, config.num_heads);
    }

    // Σₙ Bₙ cₙ Aₙ x = B_cat diag(c) A_cat x: two matrix products over the concatenated heads.
    private Tensor SharedOutput(string adapter, Tensor x)
    {
        Tensor a = lora_A[adapter], b = lora_B[adapter];
        long heads = a.size(0), rank = a.size(1), inFeatures = a.size(2), outFeatures = b.size(1);
        using Tensor aCat = a.reshape(heads * rank, inFeatures);
        using Tensor down = F.linear(x, aCat);
        using Tensor coefficient = Factors(HeadScale)[adapter].reshape(heads * rank);
        using Tensor scaled = down * coefficient;
        using Tensor bByHead = b.permute(1, 0, 2);
        using Tensor bCat = bByHead.reshape(outFeatures, heads * rank);
        return F.linear(scaled, bCat);
    }

    // Group n of the batch goes through head n: [N, rows of the group, in] × Aᵀ, then × Bᵀ, both batched over heads.
    private Tensor SplitOutput(string adapter, Tensor x, int heads)
    {
        if (x.dim() < 2)
            throw new ArgumentException($"split head input needs a batch dimension; got shape [{string.Join(", ", x.shape)}]", nameof(x));
        long[] shape = x.shape;
        long batch = shape[0];
        if (batch % heads != 0)
            throw new ArgumentException($"split head input: the batch of {batch} rows cannot be divided into {heads} equal groups, one per head", nameof(x));
        long inFeatures = shape[^1];
        using Tensor groups = x.reshape(heads, -1, inFeatures);
        using Tensor aT = lora_A[adapter].transpose(1, 2), bT = lora_B[adapter].transpose(1, 2);
        using Tensor down = groups.bmm(aT);
        using Tensor coefficient = Factors(HeadScale)[adapter].unsqueeze(1);
        using Tensor scaled = down * coefficient;
        using Tensor up = scaled.bmm(bT);
        long[] outShape = [.. shape[..^1], up.size(-1)];
        return up.reshape(outShape);
    }

    internal override Tensor ApplyWeight(Tensor input, Tensor weight) => F.linear(input, weight);

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        LoraConfig config = Config(adapter);
        using Tensor a = lora_A[adapter].to(work), b = lora_B[adapter].to(work);
        long heads = a.size(0), rank = a.size(1), inFeatures = a.size(2), outFeatures = b.size(1);
        // The merge averages the heads whatever the forward mode: the coefficient is sₙ/N on the used components.
        double toAverage = config.head_input == HeadInput.Shared ? 1.0 : 1.0 / heads;
        using Tensor coefficient = Factors(HeadScale)[adapter].to(work).reshape(heads * rank);
        using Tensor bByHead = b.permute(1, 0, 2);
        using Tensor bCat = bByHead.reshape(outFeatures, heads * rank);
        using Tensor bScaled = bCat * coefficient;
        using Tensor aCat = a.reshape(heads * rank, inFeatures);
        using Tensor product = bScaled.mm(aCat);
        return product * toAverage;
    }
}
