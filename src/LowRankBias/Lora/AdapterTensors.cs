using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

/// <summary>
/// One tensor per adapter name, held as parameters (or non-persistent buffers) of a small module, so a LoRA
/// layer's factors have PEFT's state-dict paths such as <c>lora_A.default</c> and move with <see cref="Module.to(ScalarType)"/>.
/// </summary>
internal sealed class AdapterTensors(bool asParameters) : Module
{
    private readonly Dictionary<string, Tensor> _byAdapter = [];

    /// <summary>Registers <paramref name="value"/> for <paramref name="adapter"/> (the module takes ownership).</summary>
    public Tensor Add(string adapter, Tensor value)
    {
        Tensor owned = asParameters ? register_parameter(adapter, value) : register_buffer(adapter, value, persistent: false);
        _byAdapter.Add(adapter, owned);
        return owned;
    }

    /// <summary>The tensor of <paramref name="adapter"/>.</summary>
    public Tensor this[string adapter] => _byAdapter[adapter];

    /// <summary>The adapters' tensors by name.</summary>
    public IReadOnlyDictionary<string, Tensor> All => _byAdapter;

    /// <summary>Refuses a tensor read from an adapter file that holds NaN or ±∞: loaded, it would make every output of its
    /// layer NaN.</summary>
    public static void RequireFinite(Tensor value, string file, string key)
    {
        using Tensor finite = value.isfinite();
        using Tensor count = finite.sum();
        long bad = value.numel() - count.item<long>();
        if (bad > 0) throw new InvalidDataException($"{file}: '{key}' holds {bad} NaN or ±∞ value(s) of {value.numel()}; no tensor was copied from the file");
    }

    /// <inheritdoc />
    public override string extra_repr() =>
        string.Join(", ", _byAdapter.Select(a => $"{a.Key}: [{string.Join(", ", a.Value.shape)}] {a.Value.dtype}"));
}
