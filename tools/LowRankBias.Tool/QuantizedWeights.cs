using System.Text.Json;
using LowRankBias.Torch;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Tool;

/// <summary>
/// Quantized weights in a state dict, as <see cref="QuantizedLayer"/> writes them (bitsandbytes' keys): NF4 as
/// <c>P.weight</c> (packed uint8) with <c>P.weight.absmax</c>, <c>P.weight.quant_map</c> and the JSON
/// <c>P.weight.quant_state.bitsandbytes__nf4</c> (quant_type, blocksize, shape; with double quantization also
/// nested_blocksize and the <c>P.weight.nested_absmax</c>, <c>nested_quant_map</c>, <c>nested_offset</c> tensors);
/// int8 as <c>P.weight</c> (int8) with the row scales <c>P.SCB</c>. Each is shown as one float32 weight of its full
/// shape, dequantized when loaded with the layers' own codec; the auxiliary tensors are hidden.
/// </summary>
internal sealed class QuantizedWeights
{
    private const string Nf4State = ".quant_state.bitsandbytes__nf4";
    private readonly Dictionary<string, (long[] Shape, int Blocksize, int? Nested)> _nf4 = [];
    private readonly HashSet<string> _int8 = [], _hidden = [];

    public QuantizedWeights(IReadOnlyList<(string Name, long[] Shape, ScalarType DType)> entries, Func<string, Tensor> load, string source)
    {
        var names = entries.ToDictionary(e => e.Name, e => e.DType);
        foreach ((string name, _, _) in entries)
        {
            if (name.EndsWith(Nf4State, StringComparison.Ordinal))
            {
                string weight = name[..^Nf4State.Length];
                using Tensor bytes = load(name);
                QuantState state;
                try { state = JsonSerializer.Deserialize<QuantState>(bytes.ToArray<byte>()) ?? throw new JsonException("null"); }
                catch (JsonException e) { throw new InvalidDataException($"{source}: {name} is not a bitsandbytes NF4 quant_state: {e.Message}", e); }
                if (state.quant_type != "nf4" || state.shape is null || state.blocksize < 1)
                    throw new InvalidDataException($"{source}: {name} describes quant_type {state.quant_type}, blocksize {state.blocksize}; only NF4 with a shape is read");
                string[] parts = state.nested_blocksize is null ? ["absmax", "quant_map"] : ["absmax", "quant_map", "nested_absmax", "nested_quant_map", "nested_offset"];
                string? missing = parts.Select(p => $"{weight}.{p}").Prepend(weight).FirstOrDefault(k => !names.ContainsKey(k));
                if (missing is not null) throw new InvalidDataException($"{source}: the NF4 weight {weight} has no {missing}");
                _nf4[weight] = (state.shape, state.blocksize, state.nested_blocksize);
                _hidden.UnionWith(parts.Select(p => $"{weight}.{p}").Append(name));
            }
            else if ((name == "SCB" || name.EndsWith(".SCB", StringComparison.Ordinal)) && names.GetValueOrDefault(name[..^3] + "weight") == ScalarType.Int8)
            {
                _int8.Add(name[..^3] + "weight");
                _hidden.Add(name);
            }
        }
    }

    /// <summary>The entries as analysed: quantized weights as float32 of their full shape, auxiliary tensors left out.</summary>
    public List<(string Name, long[] Shape, ScalarType DType)> Present(IEnumerable<(string Name, long[] Shape, ScalarType DType)> entries) =>
        entries.Where(e => !_hidden.Contains(e.Name))
            .Select(e => _nf4.TryGetValue(e.Name, out var s) ? (e.Name, s.Shape, ScalarType.Float32) : _int8.Contains(e.Name) ? (e.Name, e.Shape, ScalarType.Float32) : e)
            .ToList();

    /// <summary>The dequantized weight <paramref name="name"/>, or null when it is not quantized.</summary>
    public Tensor? Dequantize(string name, Func<string, Tensor> load)
    {
        if (_int8.Contains(name)) return QuantizedCodec.DequantizeInt8(load(name), load(name[..^"weight".Length] + "SCB"));
        if (!_nf4.TryGetValue(name, out var s)) return null;
        using var scope = torch.NewDisposeScope();
        Tensor absmax = s.Nested is int nested
            ? QuantizedCodec.DequantizeScales(load($"{name}.absmax"), load($"{name}.nested_absmax"), load($"{name}.nested_quant_map"), load($"{name}.nested_offset"), nested)
            : load($"{name}.absmax");
        return QuantizedCodec.DequantizeNF4(load(name), absmax, load($"{name}.quant_map"), s.Blocksize).reshape(s.Shape).MoveToOuterDisposeScope();
    }

    private sealed record QuantState(string? quant_type, int blocksize, long[]? shape, int? nested_blocksize);
}
