using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lte;

/// <summary>
/// LTE's per-head state on one linear layer besides its LoRA factors: replica offsets of the weight (layers left out
/// of the targets) and of the bias (<see cref="LteNonLowRank.Averaged"/>), and the correction factors A′ₙ, B′ₙ with
/// Vₙ = B′ₙA′ₙ (<see cref="LteMergeMode.Correction"/>). While heads train, a forward hook on the layer adds to group
/// n of the output δbₙ + xδWₙᵀ − s·x A′ₙᵀB′ₙᵀ. <see cref="Fold"/> writes the current merged model into the base tensors.
/// </summary>
internal sealed class LteSite : Module
{
    private readonly Handle _layer;
    private readonly Func<bool> _splitting;
    private readonly RemovableHandle _hook;

    /// <summary>State for the layer at <paramref name="path"/>: <paramref name="layer"/> is a
    /// <see cref="MultiHeadLoraLinear"/> (adapted) or a <see cref="Linear"/> (left out of the targets).</summary>
    public LteSite(string path, Module layer, int heads, bool replicateWeight, bool replicateBias, bool correction, Func<bool> splitting)
    {
        this.path = path;
        _layer = new Handle(layer);
        _splitting = splitting;
        this.heads = heads;
        (Tensor w, Tensor? b) = BaseTensors;
        if (replicateWeight && layer is Linear) weight_delta = register_parameter(nameof(weight_delta), torch.zeros([heads, .. w.shape], w.dtype, w.device));
        if (replicateBias && b is not null) bias_delta = register_parameter(nameof(bias_delta), torch.zeros([heads, .. b.shape], b.dtype, b.device));
        if (correction && Lora is { } lora)
        {
            correction_A = register_buffer(nameof(correction_A), torch.zeros_like(lora.lora_A[Adapter]));
            correction_B = register_buffer(nameof(correction_B), torch.zeros_like(lora.lora_B[Adapter]));
        }
        _hook = layer.register_forward_hook(PerHeadOutput);
    }

    /// <summary>The LoRA adapter name LTE uses.</summary>
    public const string Adapter = "default";

    /// <summary>Path of the layer in the wrapped model.</summary>
    public string path { get; }

    /// <summary>Number of heads N.</summary>
    public int heads { get; }

    /// <summary>The layer's heads, or null for a layer left out of the targets.</summary>
    public MultiHeadLoraLinear? Lora => _layer.Module as MultiHeadLoraLinear;

    /// <summary>Replica offsets δWₙ [N, out, in] of a layer left out of the targets.</summary>
    public Tensor? weight_delta { get; }

    /// <summary>Replica offsets δbₙ [N, out] of the bias.</summary>
    public Tensor? bias_delta { get; }

    /// <summary>Correction factors A′ [N, r, in] (Vₙ = B′ₙA′ₙ).</summary>
    public Tensor? correction_A { get; }

    /// <summary>Correction factors B′ [N, out, r].</summary>
    public Tensor? correction_B { get; }

    /// <summary>The base weight and bias the merges update.</summary>
    public (Tensor weight, Tensor? bias) BaseTensors
    {
        get
        {
            var linear = (Linear)(Lora?.base_layer ?? _layer.Module);
            return (linear.weight, linear.bias);
        }
    }

    /// <summary>The head-averaged update of the weight, (s/N) Σₙ (BₙAₙ − Vₙ) + mean δW, in the adapters' dtype.</summary>
    public Tensor WeightUpdate()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (Tensor w, _) = BaseTensors;
        Tensor update = Lora is { } lora ? lora.get_delta_weight(Adapter) : torch.zeros_like(w);
        if (correction_A is not null) update = update - Products(correction_A, correction_B!).mean(0) * Scale;
        if (weight_delta is not null) update = update + weight_delta.to(update.dtype).mean(0);
        return update.DetachFromDisposeScope();
    }

    /// <summary>Writes the current merged model into the base tensors: W ← W + <see cref="WeightUpdate"/>, b ← b + mean δb.</summary>
    public void Fold()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (Tensor w, Tensor? b) = BaseTensors;
        using Tensor update = WeightUpdate();
        w.copy_(w.to(update.dtype) + update);
        if (bias_delta is not null) b!.copy_(b + bias_delta.mean(0));
    }

    /// <summary>After a <see cref="Fold"/>: zero the replica offsets, and reset the heads (B ← 0, optionally a new A)
    /// or, in correction mode, remember their contribution (A′ ← A, B′ ← B).</summary>
    public void RestartHeads(bool reinitializeA, LteInit init)
    {
        using var noGrad = torch.no_grad();
        weight_delta?.zero_();
        bias_delta?.zero_();
        if (Lora is not { } lora) return;
        if (correction_A is not null)
        {
            correction_A.copy_(lora.lora_A[Adapter]);
            correction_B!.copy_(lora.lora_B[Adapter]);
        }
        else if (reinitializeA) DrawFactors(lora, init);
        else lora.lora_B[Adapter].zero_();
    }

    /// <summary>Draws every head's A per <paramref name="init"/> and zeroes B.</summary>
    public static void DrawFactors(MultiHeadLoraLinear lora, LteInit init)
    {
        lora.reset_lora_parameters(Adapter);
        if (init != LteInit.ScaledOrthogonal) return;
        using var noGrad = torch.no_grad();
        Tensor a = lora.lora_A[Adapter];
        a.mul_(Math.Sqrt((double)a.size(2) / a.size(1)));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _hook.remove();
        base.Dispose(disposing);
    }

    private double Scale => Lora!.scaling[Adapter];

    private static Tensor Products(Tensor a, Tensor b) => b.bmm(a);

    // Group n of the batch gets head n's offsets and correction; nothing to add outside training (or without state).
    private Tensor? PerHeadOutput(Module module, Tensor input, Tensor output)
    {
        if (!_splitting() || (weight_delta is null && bias_delta is null && correction_A is null)) return null;
        long batch = input.size(0);
        if (input.dim() < 2 || batch % heads != 0)
            throw new ArgumentException($"LTE layer '{path}': a batch of {batch} rows cannot be divided into {heads} equal groups, one per head", nameof(input));
        using Tensor x = input.reshape(heads, -1, input.size(-1));
        Tensor y = output.reshape(heads, -1, output.size(-1));
        if (bias_delta is not null)
        {
            using Tensor b = bias_delta.unsqueeze(1).to(y.dtype);
            y = Replaced(y, y + b);
        }
        if (weight_delta is not null)
        {
            using Tensor xw = x.to(weight_delta.dtype), wT = weight_delta.transpose(1, 2), product = xw.bmm(wT), cast = product.to(y.dtype);
            y = Replaced(y, y + cast);
        }
        if (correction_A is not null)
        {
            using Tensor xa = x.to(correction_A.dtype), aT = correction_A.transpose(1, 2), bT = correction_B!.transpose(1, 2);
            using Tensor down = xa.bmm(aT), scaled = down * Scale, up = scaled.bmm(bT), cast = up.to(y.dtype);
            y = Replaced(y, y - cast);
        }
        Tensor result = y.reshape(output.shape);
        y.Dispose();
        output.Dispose();
        return result;
    }

    private static Tensor Replaced(Tensor previous, Tensor next)
    {
        previous.Dispose();
        return next;
    }

    // Holds the layer without making it a child module (it belongs to the wrapped model).
    private sealed record Handle(Module Module);
}
