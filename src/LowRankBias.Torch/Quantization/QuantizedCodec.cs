namespace LowRankBias.Torch.Quantization;

/// <summary>
/// The quantize and dequantize arithmetic of the three storage formats, from libtorch ops alone (so CPU and CUDA
/// alike). Layouts follow bitsandbytes: NF4 codes packed two per byte, the first in the high nibble, into
/// [n/2, 1] uint8 with one float32 absmax per block of consecutive elements; double quantization stores the absmaxes
/// minus their mean as 8-bit codes into a 256-entry map (ours: the symmetric linear code (k − 127)/127, stored in
/// the file so any reader that applies the map decodes it); int8 is [out, …] codes with a float32 absmax per row (SCB).
/// </summary>
internal static class QuantizedCodec
{
    private static readonly Op s_bucketize = new("aten::bucketize", "Tensor");

    /// <summary>The 256-entry map of the nested 8-bit code: (k − 127)/127.</summary>
    public static Tensor NestedMap(Device device)
    {
        float[] map = Enumerable.Range(0, 256).Select(k => (k - 127) / 127f).ToArray();
        using Tensor host = torch.tensor(map);
        return host.to(device);
    }

    /// <summary>NF4 codes of <paramref name="weight"/> (any shape, numel divisible by <paramref name="blocksize"/>):
    /// packed [n/2, 1] uint8 and absmax [n / blocksize] float32. Rounds to the nearest level, or with
    /// <paramref name="stochastic"/> to one of the two levels around each value with the probabilities that make the
    /// expected result the value itself (drawn from the global generator).</summary>
    public static (Tensor packed, Tensor absmax) QuantizeNF4(Tensor weight, int blocksize, bool stochastic = false)
    {
        using var scope = torch.NewDisposeScope();
        Tensor blocks = weight.to(ScalarType.Float32).reshape(-1, blocksize);
        Tensor absmax = blocks.abs().amax([1]);
        // A block of zeros keeps scale 0 and codes for 0.0 (dividing by a tiny positive number leaves it 0).
        Tensor scaled = blocks / absmax.clamp(min: float.Epsilon).unsqueeze(1);
        Tensor pairs = (stochastic ? StochasticCodes(scaled) : s_bucketize.Call(scaled, torch.tensor(NormalFloat4.Midpoints()).to(weight.device))).reshape(-1, 2);
        Tensor packed = (pairs.select(1, 0) * 16 + pairs.select(1, 1)).to(ScalarType.Byte).reshape(-1, 1);
        return (packed.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope());
    }

    // Level k ≤ x < level k+1 (k = number of inner levels at or below x); up to k+1 with probability (x − lₖ)/(lₖ₊₁ − lₖ).
    private static Tensor StochasticCodes(Tensor scaled)
    {
        Tensor levels = torch.tensor(NormalFloat4.Levels.ToArray()).to(scaled.device);
        Tensor lower = s_bucketize.Call(scaled, levels.narrow(0, 1, 14), false, true);
        Tensor low = levels.index_select(0, lower.reshape(-1)).reshape(lower.shape);
        Tensor high = levels.index_select(0, (lower + 1).reshape(-1)).reshape(lower.shape);
        Tensor up = torch.bernoulli(((scaled - low) / (high - low)).clamp(0, 1));
        return lower + up.to(ScalarType.Int64);
    }

    /// <summary>The weights of NF4 codes: level[code] · absmax of the block, in float32, flat.</summary>
    public static Tensor DequantizeNF4(Tensor packed, Tensor absmax, Tensor quantMap, int blocksize)
    {
        using var scope = torch.NewDisposeScope();
        // One lookup per byte into the 256 possible (high, low) pairs of levels.
        long[] high = Enumerable.Range(0, 256).Select(b => (long)(b >> 4)).ToArray();
        long[] low = Enumerable.Range(0, 256).Select(b => (long)(b & 15)).ToArray();
        Tensor pairTable = torch.stack([
            quantMap.index_select(0, torch.tensor(high).to(quantMap.device)),
            quantMap.index_select(0, torch.tensor(low).to(quantMap.device))], 1);
        Tensor values = pairTable.index_select(0, packed.reshape(-1).to(ScalarType.Int64));
        return (values.reshape(-1, blocksize) * absmax.unsqueeze(1)).reshape(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Double quantization of the block scales: codes [n] uint8, nested_absmax [⌈n / nested⌉] float32 and the offset (their mean) [1].</summary>
    public static (Tensor codes, Tensor nestedAbsmax, Tensor offset) QuantizeScales(Tensor absmax, int nested)
    {
        using var scope = torch.NewDisposeScope();
        long n = absmax.numel(), padding = (nested - n % nested) % nested;
        Tensor offset = absmax.mean().reshape(1);
        Tensor centred = absmax - offset;
        Tensor padded = torch.cat([centred, torch.zeros([padding], ScalarType.Float32, absmax.device)]).reshape(-1, nested);
        Tensor nestedAbsmax = padded.abs().amax([1]);
        Tensor codes = (padded / nestedAbsmax.clamp(min: float.Epsilon).unsqueeze(1) * 127).round() + 127;
        codes = codes.reshape(-1).narrow(0, 0, n).to(ScalarType.Byte);
        return (codes.MoveToOuterDisposeScope(), nestedAbsmax.MoveToOuterDisposeScope(), offset.MoveToOuterDisposeScope());
    }

    /// <summary>The block scales back from their 8-bit codes: map[code] · nested absmax + offset.</summary>
    public static Tensor DequantizeScales(Tensor codes, Tensor nestedAbsmax, Tensor nestedMap, Tensor offset, int nested)
    {
        using var scope = torch.NewDisposeScope();
        long n = codes.numel();
        Tensor scales = nestedMap.index_select(0, codes.to(ScalarType.Int64));
        Tensor padded = torch.cat([scales, torch.zeros([nestedAbsmax.numel() * nested - n], ScalarType.Float32, codes.device)]).reshape(-1, nested);
        Tensor restored = (padded * nestedAbsmax.unsqueeze(1)).reshape(-1).narrow(0, 0, n) + offset;
        return restored.MoveToOuterDisposeScope();
    }

    /// <summary>Row-wise int8 (LLM.int8()'s vector-wise code): q = round(127 · w / absmax of the row); codes shaped
    /// like <paramref name="weight"/> and SCB [rows] float32. <paramref name="stochastic"/> rounds up with probability
    /// equal to the fractional part (unbiased), from the global generator.</summary>
    public static (Tensor codes, Tensor scb) QuantizeInt8(Tensor weight, bool stochastic = false)
    {
        using var scope = torch.NewDisposeScope();
        Tensor rows = weight.to(ScalarType.Float32).reshape(weight.size(0), -1);
        Tensor scb = rows.abs().amax([1]);
        Tensor scaled = rows * (127 / scb.clamp(min: float.Epsilon)).unsqueeze(1);
        Tensor rounded = stochastic ? (scaled + torch.empty_like(scaled).uniform_(0, 1)).floor() : scaled.round();
        Tensor codes = rounded.clamp(-127, 127).to(ScalarType.Int8);
        return (codes.reshape(weight.shape).MoveToOuterDisposeScope(), scb.MoveToOuterDisposeScope());
    }

    /// <summary>The float32 weights of row-wise int8 codes: q · SCB / 127.</summary>
    public static Tensor DequantizeInt8(Tensor codes, Tensor scb)
    {
        using var scope = torch.NewDisposeScope();
        Tensor rows = codes.to(ScalarType.Float32).reshape(codes.size(0), -1) * (scb / 127).unsqueeze(1);
        return rows.reshape(codes.shape).MoveToOuterDisposeScope();
    }
}
