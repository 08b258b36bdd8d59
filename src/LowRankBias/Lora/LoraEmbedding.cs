using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA on an <see cref="Embedding"/> in PEFT's layout: factors <c>lora_embedding_A</c> [r, num_embeddings] and
/// <c>lora_embedding_B</c> [embedding_dim, r]; row i of the output gains s·B A[:, i], so ΔW = s (B A)ᵀ. A starts at
/// zero and B ~ N(0, 1) for the kaiming and gaussian inits (PEFT's); xavier, orthogonal and semi_orthogonal draw B
/// with that scheme instead. Dropout does not apply (the input is indices). The base's padding row gets no gradient
/// in A either. Merging changes the table in place, so a table tied to an output layer changes for both.
/// <para>With <see cref="LoraConfig.num_heads"/> N &gt; 1 the factors gain a leading head dimension (A [N, r, V],
/// B [N, D, r]) and, as for linear heads, A is drawn and B starts at zero, so a head restarted with B ← 0 (LTE's
/// merge) learns again. In <see cref="HeadInput.Shared"/> mode every head reads every index and contributes s/N; in
/// <see cref="HeadInput.Split"/> mode group n of the batch looks up head n's rows alone, scaled by s. The padding
/// index yields no adapter output at all. Merging folds (s/N) Σₙ (Bₙ Aₙ)ᵀ.</para>
/// </summary>
public sealed class LoraEmbedding : LoraLayer
{
    /// <summary>Wraps <paramref name="base_layer"/> and adds one adapter.</summary>
    public LoraEmbedding(Embedding base_layer, LoraConfig? config = null, string adapter_name = "default")
        : base(base_layer, "lora_embedding_A", "lora_embedding_B", fileSuffix: "") =>
        update_layer(adapter_name, config ?? new LoraConfig());

    private protected override bool TakesIndices => true;

    /// <inheritdoc />
    public override Tensor weight => Table.weight;

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => (Table.embedding_dim, Table.num_embeddings);

    private Embedding Table => (Embedding)base_layer;

    /// <inheritdoc />
    protected override void CheckConfig(LoraConfig config) => RejectHeadRanks(config, nameof(Embedding));

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config)
    {
        long[] a = [config.r, Table.num_embeddings], b = [Table.embedding_dim, config.r];
        return config.num_heads == 1 ? (a, b) : ([config.num_heads, .. a], [config.num_heads, .. b]);
    }

    /// <inheritdoc />
    protected override void InitFactors(LoraConfig config, Tensor a, Tensor b)
    {
        if (config.num_heads > 1)
        {
            for (int n = 0; n < config.num_heads; n++)
            {
                using Tensor headA = a.select(0, n), headB = b.select(0, n);
                base.InitFactors(config, headA, headB);
            }
            return;
        }
        switch (config.init_lora_weights)
        {
            case LoraInit.Kaiming or LoraInit.Gaussian: torch.nn.init.normal_(b); break;
            case LoraInit.Random: torch.nn.init.normal_(a); torch.nn.init.normal_(b); break;
            default: LoraInit.Draw(config.init_lora_weights, b); break;
        }
    }

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        LoraConfig config = Config(adapter);
        if (config.num_heads == 1)
        {
            using Tensor aT = lora_A[adapter].t();
            using Tensor rows = F.embedding(input, aT, Table.padding_idx);
            using Tensor scaled = rows * Scaling(adapter);
            return F.linear(scaled, lora_B[adapter]);
        }
        using var scope = torch.NewDisposeScope();
        Tensor output = config.head_input == HeadInput.Shared ? SharedOutput(adapter, input, config.num_heads) : SplitOutput(adapter, input, config.num_heads);
        if (Table.padding_idx is long padding) output = output * (input != padding).unsqueeze(-1).to(output.dtype);
        return output.MoveToOuterDisposeScope();
    }

    // Every head reads every index: the rows of all heads side by side [.., N·r], then B concatenated, scale s/N.
    private Tensor SharedOutput(string adapter, Tensor input, int heads)
    {
        Tensor a = lora_A[adapter], b = lora_B[adapter];
        long rank = a.size(1);
        Tensor table = a.permute(2, 0, 1).reshape(Table.num_embeddings, heads * rank);
        Tensor bCat = b.permute(1, 0, 2).reshape(Table.embedding_dim, heads * rank);
        return F.linear(F.embedding(input, table) * (Scaling(adapter) / heads), bCat);
    }

    // Group n looks its indices up in head n's rows, then goes through head n's B.
    private Tensor SplitOutput(string adapter, Tensor input, int heads)
    {
        HeadGroups.Check(input, heads, "split head input");
        Tensor rows = HeadGroups.Lookup(input, lora_A[adapter].transpose(1, 2), heads) * Scaling(adapter);
        Tensor up = rows.bmm(lora_B[adapter].transpose(1, 2));
        return up.reshape([.. input.shape, Table.embedding_dim]);
    }

    internal override Tensor ApplyWeight(Tensor input, Tensor weight) => F.embedding(input, weight, Table.padding_idx);

    // The table is [num_embeddings, embedding_dim]: its output channels are its columns.
    internal override int WeightOutputAxis => 1;

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor product = MeanHeadProduct(adapter, work);
        using Tensor table = product.t();
        return table * Scaling(adapter);
    }
}
