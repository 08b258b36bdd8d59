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
/// </summary>
public sealed class LoraEmbedding : LoraLayer
{
    /// <summary>Wraps <paramref name="base_layer"/> and adds one adapter.</summary>
    public LoraEmbedding(Embedding base_layer, LoraConfig? config = null, string adapter_name = "default")
        : base(base_layer, "lora_embedding_A", "lora_embedding_B", fileSuffix: "") =>
        update_layer(adapter_name, config ?? new LoraConfig());

    /// <inheritdoc />
    public override Tensor weight => Table.weight;

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => (Table.embedding_dim, Table.num_embeddings);

    private Embedding Table => (Embedding)base_layer;

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config) =>
        ([config.r, Table.num_embeddings], [Table.embedding_dim, config.r]);

    /// <inheritdoc />
    protected override void InitFactors(LoraConfig config, Tensor a, Tensor b)
    {
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
        using Tensor aT = lora_A[adapter].t();
        using Tensor rows = F.embedding(input, aT, Table.padding_idx);
        using Tensor scaled = rows * Scaling(adapter);
        return F.linear(scaled, lora_B[adapter]);
    }

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor a = lora_A[adapter].to(work), b = lora_B[adapter].to(work);
        using Tensor aT = a.t(), bT = b.t();
        using Tensor product = aT.mm(bT);
        return product * Scaling(adapter);
    }
}
