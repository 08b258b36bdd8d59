namespace LowRankBias.Lora;

/// <summary>What each head of a <see cref="MultiHeadLoraLinear"/> sees.</summary>
public enum HeadInput
{
    /// <summary>Every head sees the whole input: y = W x + (s/N) Σₙ Bₙ Aₙ x (MHLoRA).</summary>
    Shared,

    /// <summary>
    /// The batch is cut into N equal consecutive groups and head n, scaled by s, sees only group n: output row i uses
    /// head ⌊i/(B/N)⌋. This simulates LTE's N workers on one device.
    /// </summary>
    Split,
}
