using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lte;

/// <summary>
/// LTE's per-head state on one module of the wrapped model besides LoRA factors: <see cref="HeadOffsets"/> of the
/// parameters without a low-rank form (see <see cref="LteNonLowRank"/>), named after the parameter, and in
/// <see cref="LteMergeMode.Correction"/> the correction factors A′ₙ, B′ₙ with Vₙ = B′ₙA′ₙ. The module is an adapted
/// layer (a <see cref="LoraLayer"/>), a <see cref="Linear"/>, <see cref="Conv2d"/>, <see cref="Embedding"/> or
/// <see cref="LayerNorm"/>, or a <see cref="VisionTransformer"/> (its class token and position embedding). While heads
/// train, a hook adds to group n of the module's output what head n's offsets change — exactly, since every supported
/// parameter enters its module's output through a sum — and subtracts s·x A′ₙᵀB′ₙᵀ. <see cref="Fold"/> writes the
/// current merged model into the shared tensors.
/// </summary>
internal sealed class LteSite : Module
{
    private readonly Handle _module;
    private readonly Func<bool> _splitting;
    private readonly RemovableHandle _hook;
    private readonly List<(string name, HeadOffsets offsets)> _offsets = [];

    /// <summary>State for <paramref name="module"/> at <paramref name="path"/>, with offsets for the named parameters in <paramref name="replicated"/>.</summary>
    public LteSite(string path, Module module, int heads, IReadOnlyList<(string name, Tensor parameter)> replicated, LteNonLowRank mode,
        double scale, bool correction, Func<bool> splitting)
    {
        this.path = path;
        _module = new Handle(module);
        _splitting = splitting;
        this.heads = heads;
        foreach ((string name, Tensor parameter) in replicated)
            _offsets.Add((name, register_module(name, new HeadOffsets(parameter, heads, mode, scale))));
        if (correction && Lora is { } lora)
        {
            (Tensor a, Tensor b) = lora.HeadFactors(Adapter);
            using Tensor ownedA = a, ownedB = b;
            correction_A = register_buffer(nameof(correction_A), torch.zeros_like(a));
            correction_B = register_buffer(nameof(correction_B), torch.zeros_like(b));
        }
        _hook = module is VisionTransformer vit
            ? vit.dropout.register_forward_pre_hook((_, tokens) => _splitting() ? WithTokenOffsets(tokens) : null)
            : module.register_forward_hook(PerHeadOutput);
    }

    /// <summary>The LoRA adapter name LTE uses.</summary>
    public const string Adapter = "default";

    /// <summary>Path of the module in the wrapped model.</summary>
    public string path { get; }

    /// <summary>Number of heads N.</summary>
    public int heads { get; }

    /// <summary>The layer's heads, or null for a module left out of the targets.</summary>
    public LoraLayer? Lora => _module.Module as LoraLayer;

    /// <summary>The offsets of each replicated parameter, by parameter name.</summary>
    public IEnumerable<(string name, HeadOffsets offsets)> Offsets => _offsets;

    /// <summary>Correction factors A′ [N, r, in] (Vₙ = B′ₙA′ₙ).</summary>
    public Tensor? correction_A { get; }

    /// <summary>Correction factors B′ [N, out, r].</summary>
    public Tensor? correction_B { get; }

    /// <summary>Every tensor of the wrapped model that <see cref="Fold"/> writes (a quantized base's codes and scales).</summary>
    public IEnumerable<Tensor> SharedTensors => (Lora?.BaseWeightState() ?? []).Concat(_offsets.Select(o => o.offsets.Shared));

    /// <summary>The head-averaged update of the layer's weight, (s/N) Σₙ (BₙAₙ − Vₙ) + mean δW, in the adapters' dtype;
    /// throws for a module with neither heads nor a replicated weight.</summary>
    public Tensor WeightUpdate()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        HeadOffsets? weightOffsets = _offsets.FirstOrDefault(o => o.name == "weight").offsets;
        Tensor update = HeadUpdate() ?? (weightOffsets is null
            ? throw new ArgumentException($"'{path}' has no weight that LTE trains", nameof(path))
            : torch.zeros_like(weightOffsets.Shared));
        if (weightOffsets is not null) update = update + weightOffsets.Offsets().mean(0).to(update.dtype);
        return update.DetachFromDisposeScope();
    }

    /// <summary>
    /// The heads' updates since the last merge as factors, for <see cref="HeadGeometry"/>: A [N, r, in], B [N, out, r],
    /// coefficients c [N, r] (update n = Bₙ diag(cₙ) Aₙ) and the base weight; with corrections, BₙAₙ − B′ₙA′ₙ as one
    /// factorisation of rank 2r. Null without heads. In the caller's dispose scope.
    /// </summary>
    public (Tensor a, Tensor b, Tensor coefficient, Tensor weight)? UpdateFactors()
    {
        if (Lora is not { } lora) return null;
        using var noGrad = torch.no_grad();
        (Tensor a, Tensor b) = lora.HeadFactors(Adapter);
        Tensor coefficient = lora.HeadCoefficients(Adapter);
        Tensor weight = lora.BaseWeight(ScalarType.Float64);
        if (correction_A is null) return (a, b, coefficient, weight);
        return (torch.cat([a, correction_A], 1), torch.cat([b, correction_B!], 2), torch.cat([coefficient, -coefficient], 1), weight);
    }

    /// <summary>Writes the current merged model into the shared tensors: W ← W + (s/N) Σₙ (BₙAₙ − Vₙ), p ← p + mean δ.
    /// A quantized base is dequantized, updated and re-quantized: W ← q(deq(W) + update).</summary>
    public void Fold()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (Lora is { } lora && HeadUpdate() is { } update) lora.SetBaseWeight(lora.BaseWeight(update.dtype) + update);
        foreach ((_, HeadOffsets offsets) in _offsets) offsets.Fold();
    }

    /// <summary>After a <see cref="Fold"/>: restart the offsets, and reset the heads (B ← 0, optionally a new A)
    /// or, in correction mode, remember their contribution (A′ ← A, B′ ← B).</summary>
    public void RestartHeads(bool reinitializeA, LteInit init)
    {
        using var noGrad = torch.no_grad();
        foreach ((_, HeadOffsets offsets) in _offsets) offsets.Restart();
        if (Lora is not { } lora) return;
        if (correction_A is not null)
        {
            (Tensor a, Tensor b) = lora.HeadFactors(Adapter);
            using Tensor ownedA = a, ownedB = b;
            correction_A.copy_(a);
            correction_B!.copy_(b);
        }
        else if (reinitializeA) DrawFactors(lora, init);
        else lora.lora_B[Adapter].zero_();
    }

    /// <summary>Draws every head's A per <paramref name="init"/> and zeroes B.</summary>
    public static void DrawFactors(LoraLayer lora, LteInit init)
    {
        lora.reset_lora_parameters(Adapter);
        if (init != LteInit.ScaledOrthogonal) return;
        using var noGrad = torch.no_grad();
        (Tensor a, Tensor b) = lora.HeadFactors(Adapter);
        using Tensor ownedA = a, ownedB = b;
        a.mul_(Math.Sqrt((double)a.size(2) / a.size(1)));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _hook.remove();
        base.Dispose(disposing);
    }

    // (s/N) Σₙ (BₙAₙ − Vₙ), or null without heads.
    private Tensor? HeadUpdate()
    {
        if (Lora is not { } lora) return null;
        Tensor update = lora.get_delta_weight(Adapter);
        if (correction_A is null) return update;
        using Tensor products = correction_B!.bmm(correction_A), mean = products.mean(0), scaled = mean * lora.scaling[Adapter];
        using Tensor previous = update;
        return previous - scaled;
    }

    private Tensor? Offset(string name) => _offsets.FirstOrDefault(o => o.name == name).offsets?.Offsets();

    // Group n of the output gains what head n's offsets and correction change; nothing outside training.
    private Tensor? PerHeadOutput(Module module, Tensor input, Tensor output)
    {
        if (!_splitting() || (_offsets.Count == 0 && correction_A is null)) return null;
        HeadGroups.Check(input, heads, $"LTE layer '{path}'");
        using var scope = torch.NewDisposeScope();
        Tensor change = (Lora?.base_layer ?? module) switch
        {
            Linear or QuantizedLinear => LinearChange(input, output),
            Conv2d conv => ConvChange(conv, input, output),
            Embedding table => EmbeddingChange(table, input, output),
            LayerNorm norm => NormChange(norm, input, output),
            var other => throw new InvalidOperationException($"LTE has no per-head offsets for a {other.GetType().Name}"),
        };
        Tensor result = (output.reshape(change.shape) + change.to(output.dtype)).reshape(output.shape);
        output.Dispose();
        return result.MoveToOuterDisposeScope();
    }

    // [N, rows, out]: δbₙ + x δWₙᵀ − s·x A′ₙᵀ B′ₙᵀ.
    private Tensor LinearChange(Tensor input, Tensor output)
    {
        Tensor x = input.reshape(heads, -1, input.size(-1));
        Tensor change = torch.zeros([heads, 1, output.size(-1)], output.dtype, output.device);
        if (Offset("bias") is { } db) change = change + db.unsqueeze(1);
        if (Offset("weight") is { } dw) change = change + x.to(dw.dtype).bmm(dw.transpose(1, 2));
        if (correction_A is not null)
            change = change - x.to(correction_A.dtype).bmm(correction_A.transpose(1, 2)).mul(Lora!.scaling[Adapter]).bmm(correction_B!.transpose(1, 2));
        return change.expand(heads, x.size(1), output.size(-1));
    }

    // [N, b, O, H, W]: δbₙ + conv(xₙ, δWₙ).
    private Tensor ConvChange(Conv2d conv, Tensor input, Tensor output)
    {
        Tensor change = torch.zeros([heads, 1, output.size(1), 1, 1], output.dtype, output.device);
        if (Offset("bias") is { } db) change = change + db.reshape(heads, 1, -1, 1, 1);
        if (Offset("weight") is { } dw) change = change + HeadGroups.Conv2d(input.to(dw.dtype), dw, conv, heads);
        return change.expand([heads, input.size(0) / heads, .. output.shape.Skip(1)]);
    }

    // [N, rows, D]: row i of δWₙ for every index i of group n (none for the padding index).
    private Tensor EmbeddingChange(Embedding table, Tensor input, Tensor output)
    {
        Tensor rows = HeadGroups.Lookup(input, Offset("weight")!, heads);
        if (table.padding_idx is long padding) rows = rows * (input.reshape(heads, -1) != padding).unsqueeze(-1).to(rows.dtype);
        return rows;
    }

    // [N, rows, k]: normalised xₙ ⊙ δγₙ + δβₙ over the k normalised elements.
    private Tensor NormChange(LayerNorm norm, Tensor input, Tensor output)
    {
        long k = norm.normalized_shape.Aggregate(1L, (a, b) => a * b);
        Tensor change = torch.zeros([heads, 1, k], output.dtype, output.device);
        if (Offset("weight") is { } dg)
            change = change + F.layer_norm(input, norm.normalized_shape, null, null, norm.eps).reshape(heads, -1, k) * dg.reshape(heads, 1, k);
        if (Offset("bias") is { } db) change = change + db.reshape(heads, 1, k);
        return change.expand(heads, output.numel() / (heads * k), k);
    }

    // Tokens [N·b, T, D] before the ViT's dropout (= class token and patches plus position embedding) gain δposₙ and,
    // at position 0, δclsₙ.
    private Tensor WithTokenOffsets(Tensor tokens)
    {
        HeadGroups.Check(tokens, heads, $"LTE tokens of '{path}'");
        using var scope = torch.NewDisposeScope();
        long length = tokens.size(1), width = tokens.size(2);
        Tensor change = torch.zeros([heads, 1, length, width], tokens.dtype, tokens.device);
        if (Offset("pos_embedding") is { } dp) change = change + dp;
        if (Offset("class_token") is { } dc) change = change + torch.cat([dc, torch.zeros([heads, 1, length - 1, width], dc.dtype, dc.device)], 2);
        Tensor grouped = tokens.reshape(heads, -1, length, width);
        return (grouped + change.to(tokens.dtype)).reshape(tokens.shape).MoveToOuterDisposeScope();
    }

    // Holds the module without making it a child module (it belongs to the wrapped model).
    private sealed record Handle(Module Module);
}
