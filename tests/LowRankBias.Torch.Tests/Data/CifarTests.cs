using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

public class CifarTests
{
    // One record per the CIFAR spec: label bytes, then the red, green and blue 32×32 planes, rows in order.
    // Pixel (c, y, x) of record `seed` is (seed + 3c + y + x) mod 256, so every position is recognisable.
    private static byte[] Record(int seed, params byte[] labels)
    {
        var r = new byte[labels.Length + 3072];
        labels.CopyTo(r, 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    r[labels.Length + c * 1024 + y * 32 + x] = (byte)((seed + 3 * c + y + x) % 256);
        return r;
    }

    private static float Expected(int seed, int c, int y, int x) => (seed + 3 * c + y + x) % 256 / 255f;

    [Fact]
    public void Cifar10ConcatenatesTheFiveTrainingBatchesInOrder()
    {
        using var folder = new TempFolder();
        for (int i = 1; i <= 5; i++) folder.Write($"data_batch_{i}.bin", [.. Record(10 * i, (byte)i), .. Record(10 * i + 1, (byte)(9 - i))]);
        using var scope = NewDisposeScope();
        using TensorDataset data = Cifar10.Load(folder.Path);
        Tensor images = data.tensors[0];
        Assert.Equal(new long[] { 10, 3, 32, 32 }, images.shape);
        Assert.Equal(new long[] { 1, 8, 2, 7, 3, 6, 4, 5, 5, 4 }, data.tensors[1].ToArray<long>());
        float[] pixels = images.ToArray<float>();
        int[] seeds = [10, 11, 20, 21, 30, 31, 40, 41, 50, 51];
        for (int n = 0; n < 10; n++)
            foreach ((int c, int y, int x) in new[] { (0, 0, 0), (1, 5, 7), (2, 31, 30) })
                Assert.Equal(Expected(seeds[n], c, y, x), pixels[((n * 3 + c) * 32 + y) * 32 + x]);
    }

    [Fact]
    public void Cifar100GivesFineThenCoarseLabels()
    {
        using var folder = new TempFolder();
        folder.Write("test.bin", [.. Record(1, 19, 99), .. Record(2, 0, 42)]); // coarse, fine
        using var scope = NewDisposeScope();
        using TensorDataset data = Cifar100.Load(folder.Path, train: false);
        Assert.Equal(3, data.tensors.Count);
        Assert.Equal(new long[] { 99, 42 }, data.tensors[1].ToArray<long>());
        Assert.Equal(new long[] { 19, 0 }, data.tensors[2].ToArray<long>());
        Assert.Equal(Expected(2, 2, 3, 4), data.tensors[0][1][2][3][4].item<float>());
    }

    [Fact]
    public void FileSizeMustBeAMultipleOfTheRecordSize()
    {
        using var folder = new TempFolder();
        string path = folder.Write("test_batch.bin", [.. Record(0, 1), .. Record(1, 2)[..100]]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(folder.Path, train: false));
        Assert.Contains($"{path}: size 3173 is not a multiple of the 3073-byte record", e.Message);

        folder.Write("train.bin", Record(0, 1, 2)[..3073]);
        e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(folder.Path));
        Assert.Contains("not a multiple of the 3074-byte record", e.Message);
    }

    [Fact]
    public void EmptyFileAndOutOfRangeLabelsAreRejected()
    {
        using var folder = new TempFolder();
        folder.Write("test_batch.bin", []);
        Assert.Contains("the file is empty", Assert.Throws<InvalidDataException>(() => Cifar10.Load(folder.Path, train: false)).Message);

        folder.Write("test_batch.bin", [.. Record(0, 3), .. Record(1, 10)]);
        Assert.Contains("test_batch.bin: label 10 of sample 1 is outside 0…9",
            Assert.Throws<InvalidDataException>(() => Cifar10.Load(folder.Path, train: false)).Message);

        folder.Write("test.bin", Record(0, 20, 5));
        Assert.Contains("test.bin: coarse label 20 of sample 0 is outside 0…19",
            Assert.Throws<InvalidDataException>(() => Cifar100.Load(folder.Path, train: false)).Message);
    }

    [Fact]
    public void MissingBatchFileIsNamed()
    {
        using var folder = new TempFolder();
        for (int i = 1; i <= 4; i++) folder.Write($"data_batch_{i}.bin", Record(i, 0));
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(folder.Path));
        Assert.Contains(Path.Combine(folder.Path, "data_batch_5.bin"), e.Message);
    }
}
