using System.Buffers.Binary;
using System.Text;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

public class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lrb-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Bytes(Tensor t)
    {
        var bytes = new byte[t.numel() * t.dtype.ElementSize()];
        t.CopyBytesTo(bytes);
        return bytes;
    }

    [Fact]
    public void EveryDtypeRoundTripsBitExactly()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var source = randn([3, 4], ScalarType.Float64);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = source, ["f32"] = source.to(ScalarType.Float32), ["f16"] = source.to(ScalarType.Float16),
            ["bf16"] = source.to(ScalarType.BFloat16), ["i64"] = (source * 1e6).to(ScalarType.Int64),
            ["i32"] = (source * 1e4).to(ScalarType.Int32), ["i16"] = (source * 100).to(ScalarType.Int16),
            ["i8"] = (source * 20).to(ScalarType.Int8), ["u8"] = (source.abs() * 50).to(ScalarType.Byte),
            ["bool"] = source > 0.0, ["scalar"] = scalar_tensor(3.25, ScalarType.Float64), ["empty"] = zeros([0, 5]),
        };
        string path = Path.Combine(_dir, "all.safetensors");
        SafeTensors.save_file(tensors, path);
        var loaded = SafeTensors.load_file(path);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.Equal(Bytes(t), Bytes(loaded[name]));
        }
    }

    [Fact]
    public void MetadataRoundTripsAndHeaderIsPaddedToEightBytes()
    {
        using var scope = NewDisposeScope();
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode ✓" };
        byte[] file = SafeTensors.save(new Dictionary<string, Tensor> { ["w"] = ones([2]) }, meta);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + 8, file.Length);
        string path = Path.Combine(_dir, "meta.safetensors");
        System.IO.File.WriteAllBytes(path, file);
        Assert.Equal(meta, SafeTensors.load_metadata(path));
    }

    [Fact]
    public void ReadsTheFixtureWrittenIndependentlyFromTheSpecification()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", "fixture.safetensors");
        var t = SafeTensors.load_file(path);
        Assert.Equal(new long[] { 2, 3 }, t["f32"].shape);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i * 0.5f), t["f32"].ToArray<float>());
        Assert.Equal(Enumerable.Range(0, 4).Select(i => i - 1.5), t["f64"].ToArray<double>());
        Assert.Equal(new[] { 1.0f, -2.5f, 0.15625f }, t["bf16"].ToArray<BFloat16>().Select(v => (float)v));
        Assert.Equal(new[] { 0.5f, -1.25f, 65504f }, t["f16"].ToArray<Half>().Select(v => (float)v));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => i * 1_000_000_000_000L - 3), t["i64"].ToArray<long>());
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (i % 2 == 0 ? 1 : -1) * i), t["i32"].ToArray<int>());
        Assert.Equal(new[] { true, false, true }, t["flags"].ToArray<bool>());
        Assert.Empty(t["scalar"].shape);
        Assert.Equal(7f, t["scalar"].item<float>());
        Assert.Equal(new long[] { 0, 4 }, t["empty"].shape);
        Assert.Equal("make_safetensors.py", SafeTensors.load_metadata(path)["writer"]);
    }

    private static byte[] Header(string json, int dataBytes, int? declaredLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(declaredLength ?? header.Length));
        header.CopyTo(file, 8);
        return file;
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "too short", new byte[5], "too short" },
        { "header longer than file", Header("{}", 0, declaredLength: 100), "exceeds" },
        { "invalid json", Header("{\"a\":", 0), "not valid JSON" },
        { "not an object", Header("[1,2]", 0), "not a JSON object" },
        { "unknown dtype", Header("{\"a\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "unknown dtype 'F8'" },
        { "size mismatch", Header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "needs 8 bytes" },
        { "out of range", Header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "truncated" },
        { "overlap", Header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlap" },
        { "duplicate", Header("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2), "appears twice" },
        { "negative dim", Header("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1), "invalid dimension" },
        { "missing field", Header("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "data_offsets" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesRaiseInvalidDataNamingFileAndProblem(string name, byte[] content, string problem)
    {
        string path = Path.Combine(_dir, $"{name.Replace(' ', '_')}.safetensors");
        System.IO.File.WriteAllBytes(path, content);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.load_file(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void MissingFileIsReportedByName()
    {
        string path = Path.Combine(_dir, "nope.safetensors");
        Assert.Contains(path, Assert.Throws<FileNotFoundException>(() => SafeTensors.load_file(path)).Message);
    }

    [Fact]
    public void AWriterThatFailsMidwayLeavesThePreviousFileIntact()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(_dir, "ckpt.safetensors");
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["w"] = full([3], 2.0) }, path);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100]);
            throw new IOException("disk pulled out");
        }));
        Assert.Equal(new[] { 2f, 2f, 2f }, SafeTensors.load_file(path)["w"].ToArray<float>());
        Assert.Single(Directory.GetFiles(_dir));
    }
}
