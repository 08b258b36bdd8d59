namespace LowRankBias.Overparam;

/// <summary>Which layer types <see cref="Overparam.Expand"/> replaces (the thesis's Table 2.1 ablates FC only, conv only and both).</summary>
[Flags]
public enum ExpansionTargets
{
    /// <summary>Fully connected layers (<c>Linear</c>).</summary>
    Linear = 1,

    /// <summary>Convolutions (<c>Conv2d</c> with groups = 1).</summary>
    Conv2d = 2,

    /// <summary>Both.</summary>
    All = Linear | Conv2d,
}
