namespace LowRankBias.Torch.Data;

/// <summary>Per-channel standardisation (x − mean[c]) / std[c] of an image batch (<c>transforms.Normalize</c>).</summary>
public sealed class Normalize : IBatchTransform
{
    /// <summary>Standardises with the given per-channel statistics.</summary>
    public Normalize(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != std.Length) throw new ArgumentException($"{mean.Length} means but {std.Length} standard deviations", nameof(std));
        if (std.Any(s => !(s > 0))) throw new ArgumentException("standard deviations must be positive", nameof(std));
        this.mean = [.. mean];
        this.std = [.. std];
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<double> mean { get; }

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<double> std { get; }

    /// <summary>The statistics of a batch [B, C, H, W] (population standard deviation), e.g. of a whole training set.</summary>
    public static Normalize FromBatch(Tensor batch)
    {
        ImageBatch.Check(batch, nameof(Normalize));
        // Reduced in the batch's own dtype: a float64 copy of a whole training set would double its memory.
        using var scope = torch.NewDisposeScope();
        double[] mean = ToDoubles(batch.mean([0, 2, 3]));
        double[] std = ToDoubles(batch.std([0, 2, 3], correction: 0));
        return new Normalize(mean, std);
    }

    private static double[] ToDoubles(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        return d.ToArray<double>();
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor batch)
    {
        ImageBatch.Check(batch, nameof(Normalize));
        long channels = batch.size(1);
        if (channels != mean.Count) throw new ArgumentException($"batch has {channels} channels, the statistics {mean.Count}", nameof(batch));
        using var scope = torch.NewDisposeScope();
        Tensor m = torch.tensor(mean.ToArray(), [1, channels, 1, 1], batch.device).to(batch.dtype);
        Tensor s = torch.tensor(std.ToArray(), [1, channels, 1, 1], batch.device).to(batch.dtype);
        return ((batch - m) / s).MoveToOuterDisposeScope();
    }
}
