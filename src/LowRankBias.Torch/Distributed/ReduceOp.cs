namespace LowRankBias.Torch.Distributed;

/// <summary>Reductions of <see cref="ProcessGroup.all_reduce"/> (c10d's codes; <c>AVG</c> is NCCL-only, so it is left out).</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum.</summary>
    SUM = 0,

    /// <summary>Element-wise product.</summary>
    PRODUCT = 2,

    /// <summary>Element-wise minimum.</summary>
    MIN = 3,

    /// <summary>Element-wise maximum.</summary>
    MAX = 4,
}
