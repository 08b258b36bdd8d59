using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

// Counts live tensors (Tensor.LiveCount), a process-wide number: serial.
[Collection(SerialCollection.Name)]
public class AugmentationTests
{
    private const int B = 16, C = 2, H = 5, W = 6;

    // Pixel (b, c, y, x) holds a value unique to its position, shifted by 1 so that zero padding is recognisable.
    private static float Value(int b, int c, int y, int x) => 1 + ((b * C + c) * H + y) * W + x;

    private static Tensor Batch() =>
        tensor(Enumerable.Range(0, B * C * H * W).Select(i => (float)(i + 1)).ToArray(), [B, C, H, W]);

    [Fact]
    public void CropIsAWindowOfTheZeroPaddedImage()
    {
        const int pad = 2, size = 5;
        using var scope = NewDisposeScope();
        float[] crops = new RandomCrop(size, pad, seed: 3).Apply(Batch()).ToArray<float>();
        var offsets = new HashSet<(int, int)>();
        for (int b = 0; b < B; b++)
        {
            // Find the window of the padded image that matches channel 0, then check every pixel of both channels.
            (int dy, int dx) = Enumerable.Range(0, H + 2 * pad - size + 1)
                .SelectMany(dy => Enumerable.Range(0, W + 2 * pad - size + 1).Select(dx => (dy, dx)))
                .Single(o => Matches(crops, b, o.dy, o.dx, pad, size));
            offsets.Add((dy, dx));
        }
        Assert.True(offsets.Count > 4, "crop positions should vary between images");
    }

    private static bool Matches(float[] crops, int b, int dy, int dx, int pad, int size)
    {
        for (int c = 0; c < C; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int sy = dy + y - pad, sx = dx + x - pad;
                    float expected = sy is >= 0 and < H && sx is >= 0 and < W ? Value(b, c, sy, sx) : 0;
                    if (crops[((b * C + c) * size + y) * size + x] != expected) return false;
                }
        return true;
    }

    [Fact]
    public void CropWithoutPaddingToTheFullSizeIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        Tensor batch = randn([3, 1, 4, 4]);
        Assert.Equal(batch.ToArray<float>(), new RandomCrop(4).Apply(batch).ToArray<float>());
        Assert.Throws<ArgumentException>(() => new RandomCrop(9, 2).Apply(batch));
    }

    [Fact]
    public void FlipMirrorsSomeImagesAndLeavesTheOthers()
    {
        using var scope = NewDisposeScope();
        float[] output = new RandomHorizontalFlip(seed: 1).Apply(Batch()).ToArray<float>();
        int flipped = 0;
        for (int b = 0; b < B; b++)
        {
            bool same = true, mirrored = true;
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++)
                    {
                        float v = output[((b * C + c) * H + y) * W + x];
                        same &= v == Value(b, c, y, x);
                        mirrored &= v == Value(b, c, y, W - 1 - x);
                    }
            Assert.True(same ^ mirrored);
            if (mirrored) flipped++;
        }
        Assert.InRange(flipped, 1, B - 1);
    }

    [Fact]
    public void FlippingTwiceWithTheSameDecisionsIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        Tensor batch = Batch();
        Tensor twice = new Compose(new RandomHorizontalFlip(p: 1), new RandomHorizontalFlip(p: 1)).Apply(batch);
        Assert.Equal(batch.ToArray<float>(), twice.ToArray<float>());
        Tensor once = new RandomHorizontalFlip(seed: 4).Apply(batch);
        Tensor back = new RandomHorizontalFlip(seed: 4).Apply(once);
        Assert.NotEqual(batch.ToArray<float>(), once.ToArray<float>());
        Assert.Equal(batch.ToArray<float>(), back.ToArray<float>());
    }

    [Fact]
    public void NormalisedChannelsHaveZeroMeanAndUnitStdOnTheirOwnBatch()
    {
        using var scope = NewDisposeScope();
        // float64, so the check is of the definition and not of float32 rounding (a 0.1-wide channel offset by 2 loses
        // ~1e-5 of its normalised mean to float32 sums).
        Tensor batch = rand([32, 3, 8, 8], ScalarType.Float64) * tensor(new double[] { 1, 5, 0.1 }, [1, 3, 1, 1]) + 2;
        Tensor normalised = Normalize.FromBatch(batch).Apply(batch);
        double[] mean = normalised.@double().mean([0, 2, 3]).ToArray<double>();
        double[] std = normalised.@double().std([0, 2, 3], correction: 0).ToArray<double>();
        Assert.All(mean, m => Assert.Equal(0, m, 1e-5));
        Assert.All(std, s => Assert.Equal(1, s, 1e-4));
    }

    [Fact]
    public void NormaliseSubtractsAndDividesPerChannel()
    {
        using var scope = NewDisposeScope();
        Tensor batch = tensor(new float[] { 1, 2, 10, 20 }, [1, 2, 1, 2]);
        Tensor output = new Normalize([1, 10], [2, 5]).Apply(batch);
        Assert.Equal(new float[] { 0, 0.5f, 0, 2 }, output.ToArray<float>());
        Assert.Throws<ArgumentException>(() => new Normalize([0], [1]).Apply(batch));
    }

    [Fact]
    public void AugmentationRepeatsBySeedAndResumesFromTheGeneratorState()
    {
        using var scope = NewDisposeScope();
        Tensor batch = Batch();
        var crop = new RandomCrop(4, 1, seed: 6);
        crop.Apply(batch);
        ulong saved = crop.Generator.State;
        float[] next = crop.Apply(batch).ToArray<float>();

        var resumed = new RandomCrop(4, 1);
        resumed.Generator.State = saved;
        Assert.Equal(next, resumed.Apply(batch).ToArray<float>());
        Assert.Equal(new RandomCrop(4, 1, seed: 6).Apply(batch).ToArray<float>(), new RandomCrop(4, 1, seed: 6).Apply(batch).ToArray<float>());
    }

    [Fact]
    public void TransformsLeakNothingAndRejectNonImageBatches()
    {
        using var outer = NewDisposeScope();
        Tensor batch = Batch();
        var pipeline = new Compose(new RandomCrop(5, 1), new RandomHorizontalFlip(), new Normalize([0, 0], [1, 1]));
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        using (NewDisposeScope()) pipeline.Apply(batch);
        Assert.Equal(before, Tensor.LiveCount);
        Assert.Contains("expects an image batch [B, C, H, W], not [3, 4]", Assert.Throws<ArgumentException>(() => pipeline.Apply(zeros([3, 4]))).Message);
    }
}
