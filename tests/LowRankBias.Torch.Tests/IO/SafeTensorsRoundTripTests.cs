using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

public class SafeTensorsRoundTripTests
{
    private static readonly long[][] Shapes = [[2, 3], [], [0], [4, 0, 2], [3, 1, 2]];

    public static TheoryData<ScalarType> AllTypes => new(RawTensors.AllTypes);

    private static Dictionary<string, byte[]> RandomContents(ScalarType type, out Dictionary<string, Tensor> tensors)
    {
        var raw = new Dictionary<string, byte[]>();
        tensors = new Dictionary<string, Tensor>();
        for (int s = 0; s < Shapes.Length; s++)
        {
            long[] shape = Shapes[s];
            string name = $"{type}[{string.Join(",", shape)}]";
            raw[name] = RawTensors.RandomBytes(type, shape.Aggregate(1L, (n, d) => n * d), seed: s);
            tensors[name] = RawTensors.FromBytes(type, raw[name], shape);
        }
        return raw;
    }

    private static void AssertSameContents(Dictionary<string, byte[]> raw, Dictionary<string, Tensor> originals, Dictionary<string, Tensor> loaded, ScalarType type)
    {
        Assert.Equal(raw.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, bytes) in raw)
        {
            Assert.Equal(type, loaded[name].dtype);
            Assert.Equal(originals[name].shape, loaded[name].shape);
            Assert.Equal(bytes, RawTensors.ToBytes(loaded[name]));
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void FileRoundTripIsBitExactForEveryShape(ScalarType type)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var raw = RandomContents(type, out var tensors);

        SafeTensors.save_file(tensors, dir.File("t.safetensors"));
        var loaded = SafeTensors.load_file(dir.File("t.safetensors"));

        AssertSameContents(raw, tensors, loaded, type);
        Assert.All(loaded.Values, t => Assert.Equal(Device.CPU, t.device));
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void InMemoryRoundTripIsBitExactForEveryShape(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var raw = RandomContents(type, out var tensors);

        var loaded = SafeTensors.load(SafeTensors.save(tensors));

        AssertSameContents(raw, tensors, loaded, type);
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcødé \"quoted\" + <tags>", ["empty"] = "" };
        var tensors = new Dictionary<string, Tensor> { ["x"] = tensor(new float[] { 1, 2 }) };

        SafeTensors.save_file(tensors, dir.File("m.safetensors"), metadata);

        Assert.Equal(metadata, SafeTensors.load_metadata(dir.File("m.safetensors")));
        SafeTensors.save_file(tensors, dir.File("none.safetensors"));
        Assert.Empty(SafeTensors.load_metadata(dir.File("none.safetensors")));
    }

    [Fact]
    public void NonContiguousTensorIsWrittenInRowMajorOrderOfItsLogicalShape()
    {
        using var scope = NewDisposeScope();
        var transposed = tensor(new long[] { 0, 1, 2, 3, 4, 5 }, [2, 3]).t();

        var loaded = SafeTensors.load(SafeTensors.save(new Dictionary<string, Tensor> { ["t"] = transposed }));

        Assert.Equal([3L, 2L], loaded["t"].shape);
        Assert.Equal([0L, 3, 1, 4, 2, 5], loaded["t"].ToArray<long>());
    }

    [Fact]
    public void LoadedTensorsDoNotRequireGradEvenWhenTheSavedOnesDid()
    {
        using var scope = NewDisposeScope();
        var weights = tensor(new double[] { 0.5, -1.5 }, requires_grad: true);

        var loaded = SafeTensors.load(SafeTensors.save(new Dictionary<string, Tensor> { ["w"] = weights }));

        Assert.False(loaded["w"].requires_grad);
        Assert.Equal([0.5, -1.5], loaded["w"].ToArray<double>());
    }

    /// <summary>Reads our output with a minimal reader written from the specification, independent of the library's.</summary>
    [Fact]
    public void WrittenBytesFollowTheSpecification()
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>
        {
            ["flag"] = tensor(new bool[] { true, false, true }),
            ["w"] = tensor(new double[] { 1.0, -2.5 }, [2, 1]),
            ["b"] = tensor(new float[] { 3.25f }),
            ["n"] = tensor(new short[] { -2, 300 }),
        };
        byte[] file = SafeTensors.save(values, new Dictionary<string, string> { ["k"] = "v" });

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, n % 8);
        string json = Encoding.UTF8.GetString(file, 8, (int)n);
        string padding = json[(json.LastIndexOf('}') + 1)..];
        Assert.True(padding.Length < 8 && padding.All(c => c == ' '), $"padding '{padding}' must be fewer than 8 spaces");
        using var header = JsonDocument.Parse(json);
        Assert.Equal("v", header.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        byte[] data = file[(8 + (int)n)..];

        byte[] Bytes(string name, string dtype, long[] shape, int elementSize)
        {
            JsonElement e = header.RootElement.GetProperty(name);
            Assert.Equal(dtype, e.GetProperty("dtype").GetString());
            Assert.Equal(shape, e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            long begin = e.GetProperty("data_offsets")[0].GetInt64(), end = e.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal(0, begin % elementSize);  // widest dtypes first keeps every tensor aligned
            return data[(int)begin..(int)end];
        }

        Assert.Equal(new byte[] { 1, 0, 1 }, Bytes("flag", "BOOL", [3], 1));
        Assert.Equal(1.0, BinaryPrimitives.ReadDoubleLittleEndian(Bytes("w", "F64", [2, 1], 8)));
        Assert.Equal(-2.5, BinaryPrimitives.ReadDoubleLittleEndian(Bytes("w", "F64", [2, 1], 8).AsSpan(8)));
        Assert.Equal(3.25f, BinaryPrimitives.ReadSingleLittleEndian(Bytes("b", "F32", [1], 4)));
        Assert.Equal(new byte[] { 0xFE, 0xFF, 0x2C, 0x01 }, Bytes("n", "I16", [2], 2));
        Assert.Equal(16 + 4 + 4 + 3, data.Length);
    }

    [Fact]
    public void RejectsTheReservedNameAndNullTensors()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1 });
        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.save(new Dictionary<string, Tensor> { ["__metadata__"] = x }));
        Assert.Contains("reserved", reserved.Message);
        var nul = Assert.Throws<ArgumentException>(() => SafeTensors.save(new Dictionary<string, Tensor> { ["x"] = null! }));
        Assert.Contains("'x' is null", nul.Message);
    }

    [Fact]
    public void SavingADisposedTensorFailsBeforeTouchingTheExistingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("keep.safetensors");
        using (var scope = NewDisposeScope())
            SafeTensors.save_file(new Dictionary<string, Tensor> { ["a"] = tensor(new int[] { 7 }) }, path);
        byte[] before = File.ReadAllBytes(path);
        var dead = tensor(new int[] { 1 });
        dead.Dispose();

        Assert.Throws<ObjectDisposedException>(() => SafeTensors.save_file(new Dictionary<string, Tensor> { ["a"] = dead }, path));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }
}
