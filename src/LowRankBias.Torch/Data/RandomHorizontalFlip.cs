namespace LowRankBias.Torch.Data;

/// <summary>Mirrors each image of a batch left–right with probability <c>p</c>, independently.</summary>
public sealed class RandomHorizontalFlip : IBatchTransform
{
    private static readonly Op Where = new("aten::where", "self");
    private readonly double _p;

    /// <summary>Flips with probability <paramref name="p"/>.</summary>
    public RandomHorizontalFlip(double p = 0.5, ulong seed = 0)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "must lie in [0, 1]");
        _p = p;
        Generator = new SplitMix64(seed);
    }

    /// <summary>The generator of the flip decisions (save its <see cref="SplitMix64.State"/> to resume exactly).</summary>
    public SplitMix64 Generator { get; }

    /// <inheritdoc />
    public Tensor Apply(Tensor batch)
    {
        ImageBatch.Check(batch, nameof(RandomHorizontalFlip));
        long b = batch.size(0);
        var flip = new bool[b];
        for (long i = 0; i < b; i++) flip[i] = Generator.NextDouble() < _p;

        using var scope = torch.NewDisposeScope();
        Tensor mask = torch.tensor(flip, [b, 1, 1, 1], batch.device);
        Tensor mirrored = batch.flip(3);
        return Where.Call(mask, mirrored, batch).MoveToOuterDisposeScope();
    }
}
