using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>
/// PEFT's initialisations computed from the base weight W (<c>LoraLayer.pissa_init</c>, <c>olora_init</c>,
/// <c>loftq_init</c> in peft/tuners/lora/layer.py; <c>loftq_init</c> in peft/utils/loftq_utils.py), on linear layers only,
/// in the adapters' dtype (PEFT: float32; here float64 for a float64 base). With s the adapter's scale:
/// <list type="bullet">
/// <item>pissa: W = U S Vᵀ (full SVD); B = U_r √(S_r/s), A = √(S_r/s) V_rᵀ; base ← W − s·B A.</item>
/// <item>pissa_niter_N: the same from <see cref="torch.svd_lowrank"/>(W, r, N) (randomized; global generator).</item>
/// <item>olora: W = Q R (reduced QR); B = Q[:, :r], A = R[:r]; base ← W − s·B A.</item>
/// <item>loftq: res ← W; N times: Q ← dequant(quant(res)), (L, R) ← top-r SVD of W − Q split as U√S, √S Vᵀ, res ← W − L R;
/// A = R, B = L; the base holds Q's codes. As in PEFT the factors are not divided by s, so the layer computes
/// Q + s·L R, which approximates W best when s = 1 (lora_alpha = r).</item>
/// </list>
/// So pissa and olora leave the layer's output unchanged (to rounding). On a quantized base PEFT refuses PiSSA and
/// dequantizes for OLoRA; here both, and LoftQ, use the full-precision weight when <see cref="LoraModel"/> has just
/// quantized the layer (<see cref="LoraConfig.base_quantization"/>), and then quantize the residual (to nearest) —
/// QPiSSA, and LoftQ's whole point; on a base that was quantized before, OLoRA dequantizes as PEFT does, PiSSA and
/// LoftQ are refused. Conv2d and Embedding layers are refused (PEFT's raise or ignore the names), and so are multi-head
/// layers and layers with merged adapters (a merged ΔW would be split as if it were W).
/// <para>LoftQ's quantizer is the base's own NF4 (<see cref="QuantizedLayer.requantize_"/> to nearest, then
/// <see cref="QuantizedLayer.dequantize"/>), so the codes it settles on are exactly the ones stored. PEFT (≥ 0.20) calls
/// bitsandbytes' NF4 with <c>compress_statistics=False</c>: the same 16 levels, absmax per 64 consecutive weights,
/// ties to the lower level, first code in the high nibble. Ours differs in that blocks never straddle rows (the block
/// size must divide a row, so flat and row-wise blocks coincide), an all-zero block keeps scale 0 instead of NaN, and
/// with <see cref="QuantizationConfig.use_double_quant"/> the absmaxes are themselves 8-bit (PEFT's LoftQ never
/// double-quantizes). PEFT's removed <c>NFQuantizer</c> (before 0.20) computed the levels from normal quantiles
/// (equal to these in float32), picked the nearest by argmin (ties likewise to the lower level), let an all-zero block
/// divide by zero and packed the first code into the low nibble; the values it produced are the same as ours.</para>
/// </summary>
internal static class DataAwareInit
{
    /// <summary>Throws unless <paramref name="target"/> (a module about to be wrapped by <see cref="LoraModel"/>, or a
    /// <see cref="LoraLayer"/>) can take <paramref name="config"/>'s init; nothing for drawn inits.</summary>
    public static void Check(Module target, LoraConfig config, string where)
    {
        if (!LoraInit.IsDataAware(config.init_lora_weights)) return;
        bool quantizedNow = target is Linear && config.base_quantization is not null;
        Module baseLayer = target is LoraLayer layer ? layer.base_layer : target;
        string? quantType = quantizedNow ? config.base_quantization!.quant_type : (baseLayer as QuantizedLayer)?.quant_config.quant_type;
        CheckCore(target, baseLayer, quantType, quantizedNow, config, where);
    }

    /// <summary>For a data-aware init: computes <paramref name="a"/> [r, in] and <paramref name="b"/> [out, r] from the
    /// base weight of <paramref name="layer"/> and writes the residual (or LoftQ's codes) into it; false for drawn inits.
    /// <paramref name="source"/> is the full-precision weight of a base that <see cref="LoraModel"/> has just quantized
    /// (null otherwise): the init fits it instead of the dequantized base.</summary>
    public static bool Apply(LoraLayer layer, LoraConfig config, Tensor a, Tensor b, Tensor? source)
    {
        string name = config.init_lora_weights;
        if (!LoraInit.IsDataAware(name)) return false;
        QuantizedLayer? quantized = layer.quantized_base;
        CheckCore(layer, layer.base_layer, quantized?.quant_config.quant_type, source is not null, config, $"{layer.GetType().Name} over {layer.base_layer.GetType().Name}");

        using var scope = torch.NewDisposeScope();
        ScalarType work = layer.adapter_dtype;
        Tensor w = source?.to(work) ?? layer.BaseWeight(work);
        int rank = config.r;
        double scale = config.Scaling(rank);
        (Tensor A, Tensor B) = name == LoraInit.LoftQ
            ? LoftQ(w, quantized!, rank, (config.loftq_config ?? new LoftQConfig()).loftq_iter, work)
            : name == LoraInit.Olora ? Olora(w, rank) : Pissa(name, w, rank, scale);
        a.copy_(A);
        b.copy_(B);
        if (name == LoraInit.LoftQ) return true; // the base already holds the final codes
        Tensor residual = w - B.mm(A) * scale;
        if (quantized is not null) quantized.requantize_(residual, stochastic: false);
        else layer.weight.copy_(residual);
        return true;
    }

    private static void CheckCore(Module target, Module baseLayer, string? quantType, bool fullPrecisionAtHand, LoraConfig config, string where)
    {
        string name = config.init_lora_weights;
        if (config.num_heads != 1 || target is MultiHeadLoraLinear)
            throw new ArgumentException($"init_lora_weights '{name}' computes one adapter from the base weight; it has no multi-head or LTE form " +
                $"(num_heads = {config.num_heads} at '{where}')", nameof(config));
        if (baseLayer is not (Linear or QuantizedLinear))
            throw new ArgumentException($"init_lora_weights '{name}' applies to Linear layers only (PEFT's Conv2d and Embedding layers raise or " +
                $"ignore it); '{where}' is a {baseLayer.GetType().Name}", nameof(config));
        if (target is LoraLayer { merged: true })
            throw new InvalidOperationException($"'{where}' has merged adapters: init_lora_weights '{name}' would split their ΔW off as if it were the base weight; unmerge first");
        (long rows, long cols) = LinearShape.Of(baseLayer);
        if (config.r > Math.Min(rows, cols))
            throw new ArgumentException($"init_lora_weights '{name}' takes r singular vectors or QR columns of the [{rows}, {cols}] weight at '{where}': " +
                $"r = {config.r} exceeds min = {Math.Min(rows, cols)}", nameof(config));
        if (name == LoraInit.LoftQ)
        {
            if (quantType != QuantizationConfig.NF4)
                throw new ArgumentException($"init_lora_weights 'loftq' quantizes the base: it needs base_quantization with quant_type nf4 " +
                    $"(got {quantType ?? "none"} at '{where}')", nameof(config));
            if (!fullPrecisionAtHand)
                throw new ArgumentException($"init_lora_weights 'loftq' needs the full-precision weight of '{where}': it runs when LoraModel first " +
                    "wraps a full-precision Linear with base_quantization nf4, not on a base that is quantized already", nameof(config));
        }
        else if (quantType is not null && !fullPrecisionAtHand && name != LoraInit.Olora)
            throw new ArgumentException($"init_lora_weights '{name}' needs the full-precision weight (as PEFT's pissa_init), but '{where}' is stored " +
                $"{quantType}: initialise the full-precision layer (LoraModel with base_quantization quantizes the residual)", nameof(config));
    }

    // The helpers below run inside Apply's dispose scope.

    // PEFT's pissa_init: √(S/s) on both sides so that s·B A is W's top-r part.
    private static (Tensor A, Tensor B) Pissa(string name, Tensor w, int rank, double scale)
    {
        Tensor u, s, vT;
        if (name == LoraInit.Pissa)
        {
            (Tensor U, Tensor S, Tensor Vh) = torch.linalg.svd(w, full_matrices: false);
            (u, s, vT) = (U.narrow(1, 0, rank), S.narrow(0, 0, rank), Vh.narrow(0, 0, rank));
        }
        else
        {
            (Tensor U, Tensor S, Tensor V) = torch.svd_lowrank(w, rank, LoraInit.PissaIterations(name));
            (u, s, vT) = (U, S, V.t());
        }
        Tensor root = (s / scale).sqrt();
        return (root.unsqueeze(1) * vT, u * root.unsqueeze(0));
    }

    // PEFT's olora_init: the first r columns of Q and rows of R.
    private static (Tensor A, Tensor B) Olora(Tensor w, int rank)
    {
        (Tensor Q, Tensor R) = torch.linalg.qr(w);
        return (R.narrow(0, 0, rank), Q.narrow(1, 0, rank));
    }

    // PEFT's loftq_init with the base's own quantizer; the last quantization stays in the base.
    private static (Tensor A, Tensor B) LoftQ(Tensor w, QuantizedLayer quantizer, int rank, int iterations, ScalarType work)
    {
        Tensor residual = w;
        for (int i = 0; ; i++)
        {
            quantizer.requantize_(residual, stochastic: false);
            (Tensor L, Tensor R) = LowRank(w - quantizer.dequantize(work), rank);
            if (i + 1 == iterations) return (R, L);
            residual = w - L.mm(R);
        }
    }

    // PEFT's _low_rank_decomposition: L = U_r √S_r, R = √S_r V_rᵀ.
    private static (Tensor L, Tensor R) LowRank(Tensor m, int rank)
    {
        (Tensor U, Tensor S, Tensor Vh) = torch.linalg.svd(m, full_matrices: false);
        Tensor root = S.narrow(0, 0, rank).sqrt();
        return (U.narrow(1, 0, rank) * root.unsqueeze(0), root.unsqueeze(1) * Vh.narrow(0, 0, rank));
    }
}
