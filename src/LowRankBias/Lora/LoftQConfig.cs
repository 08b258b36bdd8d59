namespace LowRankBias.Lora;

/// <summary>
/// PEFT's <c>LoftQConfig</c>, read when <see cref="LoraConfig.init_lora_weights"/> is <see cref="LoraInit.LoftQ"/>:
/// <see cref="loftq_iter"/> alternations of quantizing and low-rank fitting. The quantizer is the adapter's NF4
/// <see cref="LoraConfig.base_quantization"/>, so <see cref="loftq_bits"/> must be 4 (PEFT's 8-bit variant is not offered).
/// </summary>
public sealed record LoftQConfig
{
    /// <summary>Bits of the quantized base: 4 (NF4). Default 4.</summary>
    public int loftq_bits { get; init; } = 4;

    /// <summary>Alternating iterations (quantize W − B A, then B A ← top-r SVD of W − Q). Default 1 (PEFT's).</summary>
    public int loftq_iter { get; init; } = 1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (loftq_bits != 4)
            throw new ArgumentOutOfRangeException(nameof(loftq_bits), loftq_bits, "LoftQ quantizes with the NF4 base_quantization: loftq_bits must be 4");
        if (loftq_iter < 1) throw new ArgumentOutOfRangeException(nameof(loftq_iter), loftq_iter, "loftq_iter must be at least 1");
    }
}
