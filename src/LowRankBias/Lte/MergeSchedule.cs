namespace LowRankBias.Lte;

/// <summary>
/// When the heads of an LTE run merge — the one place <see cref="LteTrainer"/> and <see cref="DistributedLteTrainer"/>
/// ask: on every multiple of <see cref="LteOptions.MergeEvery"/>, or as <see cref="LteOptions.AdaptiveMerge"/> decides
/// from the heads' statistics. Its state, the number of steps since the last merge, is saved in checkpoints.
/// </summary>
internal sealed class MergeSchedule(LteOptions options, Func<HeadGeometry> geometry)
{
    /// <summary>Training steps since the last merge (or since the start).</summary>
    public long SinceMerge { get; set; }

    /// <summary>The statistics the controller last computed, or null.</summary>
    public LteHeadStatistics? Last { get; private set; }

    /// <summary>Called once after training step <paramref name="iteration"/> (counted from 1): whether to merge now.</summary>
    public bool Due(long iteration)
    {
        SinceMerge++;
        if (options.AdaptiveMerge is not { } adaptive) return options.MergeEvery > 0 && iteration % options.MergeEvery == 0;
        if (SinceMerge >= adaptive.MaxEvery) return true;
        if (SinceMerge < adaptive.MinEvery || !adaptive.Watches) return false;
        Last = geometry().Statistics(iteration);
        return adaptive.Triggers(Last);
    }

    /// <summary>Called after every merge, scheduled or not.</summary>
    public void Merged() => SinceMerge = 0;
}
