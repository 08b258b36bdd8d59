using System.Buffers.Binary;
using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

public class MnistTests
{
    // An IDX file as the format defines it: 0, 0, type 0x08, dimension count, big-endian int32 sizes, data.
    private static byte[] Idx(int[] shape, byte[] data, byte type = 0x08, byte? dims = null, byte firstByte = 0)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        bytes[0] = firstByte;
        bytes[2] = type;
        bytes[3] = dims ?? (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    private static readonly byte[] Pixels = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 20)).ToArray();

    // Three 2×2 images with labels 7, 0, 9, written as the t10k split.
    private static void WriteSplit(TempFolder folder, bool gzip, byte[]? images = null, byte[]? labels = null)
    {
        string suffix = gzip ? ".gz" : "";
        folder.Write("t10k-images-idx3-ubyte" + suffix, images ?? Idx([3, 2, 2], Pixels), gzip);
        folder.Write("t10k-labels-idx1-ubyte" + suffix, labels ?? Idx([3], [7, 0, 9]), gzip);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsImagesScaledToUnitIntervalAndLabels(bool gzip)
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip);
        using var scope = NewDisposeScope();
        using TensorDataset data = Mnist.Load(folder.Path, train: false);
        Tensor images = data.tensors[0], labels = data.tensors[1];
        Assert.Equal(new long[] { 3, 1, 2, 2 }, images.shape);
        Assert.Equal(ScalarType.Float32, images.dtype);
        Assert.Equal(Pixels.Select(b => b / 255f), images.ToArray<float>());
        Assert.Equal(new long[] { 7, 0, 9 }, labels.ToArray<long>());
    }

    [Fact]
    public void ReadsTheRawFormatOfAGeneralIdxFile()
    {
        using var folder = new TempFolder();
        string path = folder.Write("cube.idx", Idx([2, 3, 1, 2], Enumerable.Range(0, 12).Select(i => (byte)i).ToArray()));
        IdxData data = IdxFile.Read(path, expectedDimensions: 4);
        Assert.Equal(new[] { 2, 3, 1, 2 }, data.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), data.Data);
    }

    public static TheoryData<string, Func<byte[]>, string> MalformedImageFiles => new()
    {
        { "wrong magic", () => Idx([3, 2, 2], Pixels, firstByte: 8), "wrong magic number 0x08000803" },
        { "wrong dimension count", () => Idx([3, 4], Pixels), "wrong dimension count 2, expected 3" },
        { "unsupported element type", () => Idx([3, 2, 2], Pixels, type: 0x0D), "element type 0x0D is not supported" },
        { "truncated data", () => Idx([3, 2, 2], Pixels[..10]), "needs 12 bytes, the file holds 10" },
        { "trailing data", () => Idx([3, 2, 2], [.. Pixels, 1]), "needs 12 bytes, the file holds 13" },
        { "truncated header", () => Idx([3, 2, 2], [])[..9], "header truncated" },
        { "tiny", () => [0, 0], "too short for an IDX header" },
        { "huge sizes", () => Idx([int.MaxValue, int.MaxValue, int.MaxValue], Pixels), "needs 9903520300447984150353281023 bytes, the file holds 12" },
    };

    [Theory]
    [MemberData(nameof(MalformedImageFiles))]
    public void MalformedImageFileIsReportedWithItsNameAndProblem(string _, Func<byte[]> images, string problem)
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip: true, images: images());
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(folder.Path, train: false));
        Assert.Contains(Path.Combine(folder.Path, "t10k-images-idx3-ubyte.gz"), e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void LabelCountMustMatchImageCount()
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip: false, labels: Idx([2], [1, 2]));
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(folder.Path, train: false));
        Assert.Contains("t10k-labels-idx1-ubyte: 2 labels but", e.Message);
        Assert.Contains("holds 3 images", e.Message);
    }

    [Fact]
    public void LabelsOutsideTheTenClassesAreRejected()
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip: false, labels: Idx([3], [1, 10, 2]));
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(folder.Path, train: false));
        Assert.Contains("label 10 of sample 1 is outside 0…9", e.Message);
    }

    [Fact]
    public void TruncatedOrCorruptGzipIsReported()
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip: false);
        byte[] gz = TempFolder.Gzip(Idx([3, 2, 2], Pixels));
        File.Delete(Path.Combine(folder.Path, "t10k-images-idx3-ubyte"));
        folder.Write("t10k-images-idx3-ubyte.gz", gz[..(gz.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(folder.Path, train: false));
        Assert.Contains("t10k-images-idx3-ubyte.gz: truncated gzip data", e.Message);

        gz[12] ^= 0xFF; // corrupt the deflate stream itself
        folder.Write("t10k-images-idx3-ubyte.gz", gz);
        e = Assert.Throws<InvalidDataException>(() => Mnist.Load(folder.Path, train: false));
        Assert.Contains("t10k-images-idx3-ubyte.gz: corrupt gzip data", e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var folder = new TempFolder();
        WriteSplit(folder, gzip: true);
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Load(folder.Path, train: true));
        Assert.Contains(Path.Combine(folder.Path, "train-images-idx3-ubyte.gz"), e.Message);
    }

    [Fact]
    public void FashionMnistTestSplitHasTenBalancedClassesOf28x28Images()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = FashionMnist.Load(train: false);
        Tensor images = data.tensors[0], labels = data.tensors[1];
        Assert.Equal(new long[] { 10_000, 1, 28, 28 }, images.shape);
        Assert.Equal(0f, images.min().item<float>());
        Assert.Equal(1f, images.max().item<float>());
        // The published test split holds exactly 1000 images of each class.
        long[] counts = new long[10];
        foreach (long y in labels.ToArray<long>()) counts[y]++;
        Assert.All(counts, c => Assert.Equal(1000, c));
    }
}
