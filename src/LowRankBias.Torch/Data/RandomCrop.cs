namespace LowRankBias.Torch.Data;

/// <summary>
/// Crops each image of a batch at its own random position after zero-padding every side by <c>padding</c>
/// pixels (the CIFAR recipe: 32×32 crops of images padded by 4).
/// </summary>
public sealed class RandomCrop : IBatchTransform
{
    private static readonly Op Pad = new("aten::constant_pad_nd");
    private readonly int _size, _padding;

    /// <summary>Square crops of side <paramref name="size"/> from images padded by <paramref name="padding"/>.</summary>
    public RandomCrop(int size, int padding = 0, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (_size, _padding) = (size, padding);
        Generator = new SplitMix64(seed);
    }

    /// <summary>The generator of the crop positions (save its <see cref="SplitMix64.State"/> to resume exactly).</summary>
    public SplitMix64 Generator { get; }

    /// <inheritdoc />
    public Tensor Apply(Tensor batch)
    {
        ImageBatch.Check(batch, nameof(RandomCrop));
        long[] s = batch.shape;
        long b = s[0], c = s[1], rangeY = s[2] + 2 * _padding - _size + 1, rangeX = s[3] + 2 * _padding - _size + 1;
        if (rangeY < 1 || rangeX < 1)
            throw new ArgumentException($"a {_size}×{_size} crop does not fit in {s[2]}×{s[3]} images padded by {_padding}", nameof(batch));
        var top = new long[b];
        var left = new long[b];
        for (long i = 0; i < b; i++)
        {
            top[i] = Generator.NextInt64(rangeY);
            left[i] = Generator.NextInt64(rangeX);
        }

        using var scope = torch.NewDisposeScope();
        Device device = batch.device;
        Tensor padded = Pad.Call(batch, new long[] { _padding, _padding, _padding, _padding });
        Tensor window = torch.arange(_size, device: device);
        // Advanced indexing with four broadcast index tensors picks out[i, ch, y, x] = padded[i, ch, top[i] + y, left[i] + x].
        Tensor rows = (torch.tensor(top, [b, 1], device) + window).view(b, 1, _size, 1);
        Tensor cols = (torch.tensor(left, [b, 1], device) + window).view(b, 1, 1, _size);
        Tensor images = torch.arange(b, device: device).view(b, 1, 1, 1);
        Tensor channels = torch.arange(c, device: device).view(1, c, 1, 1);
        return padded.index(images, channels, rows, cols).MoveToOuterDisposeScope();
    }
}
