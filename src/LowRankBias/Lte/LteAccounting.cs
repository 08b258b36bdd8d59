using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lte;

/// <summary>
/// Memory and communication of LTE against data-parallel training (DDP) with AdamW, per the LTE paper's section 4.5,
/// for N devices (one per head) holding a model of M parameters of which each LTE worker trains M_lte. Memory per
/// device: DDP 3M (weights and two moments), LTE q·M + 3·M_lte (q: the base weights' quantised size, 1 when not
/// quantised). Exchanged elements: all-reduce N(N−1)·M per step for DDP and N(N−1)·M_lte per merge for LTE (the
/// workers exchange their heads; the paper's text prints M here); with a parameter server 2(N−1)·M per step for DDP
/// and (N−1)·M_lte + (N−1)·q·M per merge for LTE. Bytes use the element size of the base weights.
/// </summary>
public sealed record LteAccounting
{
    /// <summary>Number of heads, i.e. simulated devices N.</summary>
    public required int Devices { get; init; }

    /// <summary>Merge period T (0: never merges).</summary>
    public required int MergeEvery { get; init; }

    /// <summary>M: parameters of the model itself (frozen base weights and shared values of the replicas), without LTE's heads.</summary>
    public required long ModelParameters { get; init; }

    /// <summary>M_lte: parameters one head (worker) trains — its factors and replica offsets.</summary>
    public required long HeadParameters { get; init; }

    /// <summary>Bytes of optimizer state one head holds, measured from the optimizer (0 before its first step).</summary>
    public required long OptimizerBytesPerHead { get; init; }

    /// <summary>Bytes per element of the base weights.</summary>
    public required int ElementBytes { get; init; }

    /// <summary>q, the size of the base weights each LTE worker holds relative to full precision.</summary>
    public required double Quantization { get; init; }

    /// <summary>Memory per device with DDP and AdamW: 3·M elements.</summary>
    public double DdpMemoryBytesPerDevice => 3.0 * ModelParameters * ElementBytes;

    /// <summary>Memory per LTE device: (q·M + 3·M_lte) elements.</summary>
    public double LteMemoryBytesPerDevice => (Quantization * ModelParameters + 3.0 * HeadParameters) * ElementBytes;

    /// <summary>All-reduce traffic of DDP per step: N(N−1)·M elements.</summary>
    public double DdpAllReduceBytesPerStep => (double)Devices * (Devices - 1) * ModelParameters * ElementBytes;

    /// <summary>All-reduce traffic of LTE per merge: N(N−1)·M_lte elements.</summary>
    public double LteAllReduceBytesPerMerge => (double)Devices * (Devices - 1) * HeadParameters * ElementBytes;

    /// <summary>Parameter-server traffic of DDP per step: 2(N−1)·M elements.</summary>
    public double DdpParameterServerBytesPerStep => 2.0 * (Devices - 1) * ModelParameters * ElementBytes;

    /// <summary>Parameter-server traffic of LTE per merge: (N−1)·M_lte + (N−1)·q·M elements.</summary>
    public double LteParameterServerBytesPerMerge => (Devices - 1) * (HeadParameters + Quantization * ModelParameters) * ElementBytes;

    /// <summary>The accounting of <paramref name="model"/> trained by <paramref name="optimizer"/>, with base weights quantised to <paramref name="quantization"/>.</summary>
    public static LteAccounting Of(Lte model, Optimizer optimizer, double quantization = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!(quantization > 0 && quantization <= 1)) throw new ArgumentOutOfRangeException(nameof(quantization), quantization, "q must be in (0, 1]");
        var heads = new HashSet<Tensor>(model.head_parameters(), ReferenceEqualityComparer.Instance);
        long headElements = heads.Sum(p => p.numel());
        long modelElements = model.model.parameters().Where(p => !heads.Contains(p)).Sum(p => p.numel());
        long stateBytes;
        using (OptimizerStateDict state = optimizer.state_dict())
            stateBytes = state.state.Values.SelectMany(s => s.tensors.Values).Sum(t => t.numel() * t.dtype.ElementSize());
        return new LteAccounting
        {
            Devices = model.heads,
            MergeEvery = model.options.MergeEvery,
            ModelParameters = modelElements,
            HeadParameters = headElements / model.heads,
            OptimizerBytesPerHead = stateBytes / model.heads,
            ElementBytes = BaseDtype(model.lora_layers().First().layer).ElementSize(),
            Quantization = quantization,
        };
    }

    // The dtype a base weight computes in (a quantized base's compute dtype): q is measured against it.
    private static ScalarType BaseDtype(LoraLayer layer) => layer.quantized_base?.quant_config.compute_dtype ?? layer.weight.dtype;
}
