namespace LowRankBias.Torch.Quantization;

/// <summary>
/// How a frozen base weight is stored (bitsandbytes' <c>BitsAndBytesConfig</c> in spirit): <see cref="quant_type"/>
/// <c>"bf16"</c> (bfloat16, 2 bytes per weight), <c>"int8"</c> (one absmax scale per output row, LLM.int8()'s
/// row-wise code, ≈1 byte) or <c>"nf4"</c> (QLoRA's 4-bit NormalFloat with one absmax per <see cref="blocksize"/>
/// consecutive weights of a row, ≈0.5 byte; with <see cref="use_double_quant"/> the scales themselves are stored as
/// 8-bit codes in blocks of <see cref="nested_blocksize"/>). The weight is dequantized to <see cref="compute_dtype"/>
/// on the fly in every forward pass. <see cref="Validate"/> runs wherever a config is used.
/// </summary>
public sealed record QuantizationConfig
{
    /// <summary>bfloat16 storage.</summary>
    public const string BFloat16 = "bf16";

    /// <summary>int8 codes with one absmax per output row.</summary>
    public const string Int8 = "int8";

    /// <summary>4-bit NormalFloat codes with blockwise absmax (QLoRA).</summary>
    public const string NF4 = "nf4";

    /// <summary>The storage formats, for error messages.</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = [BFloat16, Int8, NF4];

    /// <summary>Storage format: "bf16", "int8" or "nf4" (default).</summary>
    public string quant_type { get; init; } = NF4;

    /// <summary>NF4 only: weights per absmax scale; must divide a row (in_features, or in_channels·kH·kW). Default 64 (QLoRA's).</summary>
    public int blocksize { get; init; } = 64;

    /// <summary>NF4 only: store the float32 block scales as 8-bit codes (QLoRA's double quantization). Default false.</summary>
    public bool use_double_quant { get; init; }

    /// <summary>NF4 with double quantization: block scales per second-level scale. Default 256 (QLoRA's).</summary>
    public int nested_blocksize { get; init; } = 256;

    /// <summary>
    /// How <see cref="QuantizedLayer.requantize_"/> (LoRA merges, LTE merges) rounds int8 and NF4 codes: true (default)
    /// rounds each weight to one of its two neighbouring levels at random, with the probabilities that make the expected
    /// result exact, so an update smaller than a level gap survives on average and the errors of successive merges add up
    /// as a zero-mean random walk (√merges); false rounds to the nearest level, which silently drops small updates and
    /// lets merge errors drift. The first quantization always rounds to nearest (bitsandbytes' rule); bf16 rounds to
    /// nearest even. Random draws come from the global generator, so a seeded run repeats.
    /// </summary>
    public bool stochastic_rounding { get; init; } = true;

    /// <summary>The dtype the weight is dequantized to for computing: float32 (default), bfloat16 or float16.</summary>
    public ScalarType compute_dtype { get; init; } = ScalarType.Float32;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!SupportedTypes.Contains(quant_type))
            throw new ArgumentException($"unsupported quantization type '{quant_type}'; supported: {string.Join(", ", SupportedTypes)}", nameof(quant_type));
        if (blocksize < 2 || blocksize % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(blocksize), blocksize, "the NF4 block size must be a positive even number (two 4-bit codes per byte)");
        if (nested_blocksize < 1)
            throw new ArgumentOutOfRangeException(nameof(nested_blocksize), nested_blocksize, "the nested block size must be positive");
        if (compute_dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"unsupported compute dtype {compute_dtype}: use Float32, BFloat16, Float16 or Float64", nameof(compute_dtype));
    }

    /// <summary>Throws unless a weight whose rows hold <paramref name="rowLength"/> elements can be stored with this config.</summary>
    internal void CheckRow(long rowLength, string layer)
    {
        if (quant_type == NF4 && rowLength % blocksize != 0)
            throw new ArgumentException($"NF4 block size {blocksize} does not divide the rows of {layer} ({rowLength} elements per row); " +
                "choose a block size that divides it", nameof(blocksize));
    }
}
