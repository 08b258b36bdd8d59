namespace LowRankBias.Lte;

/// <summary>What a merge does to the heads after folding their average update into the base weights.</summary>
public enum LteMergeMode
{
    /// <summary>
    /// The LTE paper's Algorithm 1: W ← W + (s/N) Σₙ BₙAₙ, then every Bₙ ← 0 (Aₙ kept unless
    /// <see cref="LteOptions.ReinitializeA"/>), so each cycle starts from the merged weights.
    /// </summary>
    Reset,

    /// <summary>
    /// Huh's thesis, appendix 8.2 (the official code's default): heads are never reset. Head n computes
    /// (W − s·Vₙ + s·BₙAₙ) x, a merge applies W ← W + (s/N) Σₙ (BₙAₙ − Vₙ) and then sets Vₙ ← BₙAₙ. With a merge
    /// every step and every head seeing the same batch, this reproduces multi-head LoRA's trajectory exactly.
    /// </summary>
    Correction,
}
