using System.IO.Compression;
using System.Text;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>
/// Malformed and hostile torch.save files: each must end in an <see cref="InvalidDataException"/> naming the problem —
/// no other exception, no crash, no code run and no file written. Pickles are assembled opcode by opcode here, as
/// Python's pickle module (protocol 2) would emit them.
/// </summary>
[Collection(SerialCollection.Name)]
public class PyTorchFileHostileTests
{
    // --- a pickle assembler -------------------------------------------------------------------------------------
    private static byte[] Op(byte code, params byte[] arg) => [code, .. arg];
    private static byte[] Str(string s) { byte[] b = Encoding.UTF8.GetBytes(s); return [0x58, .. BitConverter.GetBytes(b.Length), .. b]; }
    private static byte[] Int(int v) => [0x4a, .. BitConverter.GetBytes(v)];
    private static byte[] Long(long v) => [0x8a, 8, .. BitConverter.GetBytes(v)];
    private static byte[] Global(string module, string name) => [0x63, .. Encoding.ASCII.GetBytes($"{module}\n{name}\n")];
    private static readonly byte[] Proto = [0x80, 0x02], Mark = [0x28], Tuple = [0x74], Reduce = [0x52], Stop = [0x2e], EmptyTuple = [0x29];
    private static byte[] Pickle(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>{'w': _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict())}.</summary>
    private static byte[] TensorPickle(long numel, long offset, long[] size, long[] stride) => Pickle(
        Proto, [0x7d], Str("w"),
        Global("torch._utils", "_rebuild_tensor_v2"), Mark,
        Mark, Str("storage"), Global("torch", "FloatStorage"), Str("0"), Str("cpu"), Long(numel), Tuple, [0x51],
        Long(offset), Mark, Pickle(size.Select(Long).ToArray()), Tuple, Mark, Pickle(stride.Select(Long).ToArray()), Tuple, [0x89],
        Global("collections", "OrderedDict"), EmptyTuple, Reduce, Tuple, Reduce,
        [0x73], Stop);

    /// <summary>A torch.save-shaped zip: archive/data.pkl, archive/version and the given storage records.</summary>
    private static byte[] Zip(byte[] pickle, params (string key, byte[] data)[] storages)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create))
        {
            void Add(string name, byte[] data) { using Stream s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open(); s.Write(data); }
            Add("archive/data.pkl", pickle);
            Add("archive/version", "3\n"u8.ToArray());
            foreach ((string key, byte[] data) in storages) Add($"archive/data/{key}", data);
        }
        return memory.ToArray();
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>Loads <paramref name="file"/> from a fresh directory; asserts an InvalidDataException and that the directory still holds only the file.</summary>
    private static string Refused(byte[] file)
    {
        using var dir = new TempDirectory();
        string path = dir.File("hostile.pt");
        File.WriteAllBytes(path, file);
        long before = TestData.SettledLiveCount();
        var e = Assert.Throws<InvalidDataException>(() => { using var scope = NewDisposeScope(); PyTorchFile.load(path); });
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Path));
        Assert.Equal(before, TestData.SettledLiveCount());
        Assert.StartsWith(path, e.Message);
        return e.Message;
    }

    [Fact]
    public void TheAssembledTensorPickleLoads()
    {
        // The assembler itself is right: the well-formed case reads back the storage through offset and strides.
        using var dir = new TempDirectory();
        string path = dir.File("ok.pt");
        File.WriteAllBytes(path, Zip(TensorPickle(6, 1, [2, 2], [1, 2]), ("0", Floats(0, 1, 2, 3, 4, 5))));
        using var scope = NewDisposeScope();
        var w = (Tensor)((OrderedDictionary<object, object?>)PyTorchFile.load(path)!)["w"]!;
        Assert.Equal([1f, 3, 2, 4], w.contiguous().ToArray<float>());
    }

    [Fact]
    public void WrongMagicIsNamed() => Assert.Contains("not a torch.save zip archive", Refused("GIF89a....."u8.ToArray()));

    [Fact]
    public void LegacyFormatIsNamed() => Assert.Contains("legacy (pre-1.6) format", Refused([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]));

    [Fact]
    public void EmptyFileIsRefused() => Assert.Contains("not a torch.save zip archive", Refused([]));

    [Fact]
    public void EveryTruncationOfARealCheckpointIsRefused()
    {
        byte[] real = File.ReadAllBytes(PyTorchFileFixtureTests.Fixture("checkpoint.pt"));
        for (int length = 4; length < real.Length; length += 97)
            Refused(real[..length]);
    }

    [Fact]
    public void RandomByteCorruptionNeverEndsInAnythingButData()
    {
        // Corrupted bytes may land in tensor data (the file still loads, with other values) or anywhere else (a
        // named InvalidDataException); nothing else is allowed.
        byte[] real = File.ReadAllBytes(PyTorchFileFixtureTests.Fixture("checkpoint.pt"));
        var rng = new Random(20);
        using var dir = new TempDirectory();
        string path = dir.File("corrupt.pt");
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] copy = (byte[])real.Clone();
            for (int flips = 0; flips < 1 + trial % 4; flips++) copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            File.WriteAllBytes(path, copy);
            using var scope = NewDisposeScope();
            try { PyTorchFile.load(path); }
            catch (InvalidDataException) { }
        }
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void APickleCallingOsSystemIsRefusedBeforeAnythingRuns()
    {
        using var marker = new TempDirectory();
        string touched = marker.File("pwned");
        // posix.system('touch <marker>'), as pickle.dumps(os.system) + REDUCE spells it, and the protocol-4 STACK_GLOBAL form.
        byte[] classic = Pickle(Proto, Global("posix", "system"), Str($"touch {touched}"), [0x85], Reduce, Stop);
        byte[] stacked = Pickle([0x80, 0x04], [0x8c, 2], "os"u8.ToArray(), [0x8c, 6], "system"u8.ToArray(), [0x93], Str($"touch {touched}"), [0x85], Reduce, Stop);
        Assert.Contains("refuses the global 'posix.system'", Refused(Zip(classic)));
        Assert.Contains("refuses the global 'os.system'", Refused(Zip(stacked)));
        Assert.False(File.Exists(touched));
    }

    public static TheoryData<string, byte[], string> Hostile => new()
    {
        { "builtins.eval", Zip(Pickle(Proto, Global("builtins", "eval"), Str("1+1"), [0x85], Reduce, Stop)), "refuses the global 'builtins.eval'" },
        { "a torch function other than the rebuilders", Zip(Pickle(Proto, Global("torch", "load"), Stop)), "refuses the global 'torch.load'" },
        { "NEWOBJ", Zip(Pickle(Proto, Global("collections", "OrderedDict"), EmptyTuple, [0x81], Stop)), "creates an instance of a class" },
        { "BUILD on a str", Zip(Pickle(Proto, Str("x"), [0x7d], [0x62], Stop)), "BUILD sets the state of str" },
        { "calling a storage type", Zip(Pickle(Proto, Global("torch", "FloatStorage"), EmptyTuple, Reduce, Stop)), "cannot be called" },
        { "protocol-0 text opcode", Zip(Pickle(Proto, "I1\n"u8.ToArray(), Stop)), "unsupported pickle opcode 0x49" },
        { "string length beyond the pickle", Zip(Pickle(Proto, [0x58, 0xf0, 0xff, 0xff, 0xff], Stop)), "runs past the end" },
        { "8-byte string length of 2^62", Zip(Pickle(Proto, [0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40], Stop)), "runs past the end" },
        { "integer of 200 bytes", Zip(Pickle(Proto, [0x8a, 200], new byte[200], Stop)), "does not fit in 64 bits" },
        { "no STOP", Zip(Pickle(Proto, Int(1))), "without a STOP opcode" },
        { "memo read before write", Zip(Pickle(Proto, [0x68, 5], Stop)), "memo entry 5" },
        { "pop from an empty stack", Zip(Pickle(Proto, [0x30], Stop)), "stack underflow" },
        { "tuple without MARK", Zip(Pickle(Proto, Tuple, Stop)), "needs a MARK" },
        { "storage record missing", Zip(TensorPickle(4, 0, [4], [1])), "storage record 'archive/data/0' is missing" },
        { "storage of 2^62 elements", Zip(TensorPickle(1L << 62, 0, [4], [1]), ("0", Floats(1, 2, 3, 4))), "too many" },
        { "storage larger than its record", Zip(TensorPickle(1000, 0, [4], [1]), ("0", Floats(1, 2, 3, 4))), "claims 1000 FloatStorage elements" },
        { "shape reaching past the storage", Zip(TensorPickle(4, 0, [1L << 40, 1L << 40], [1, 1]), ("0", Floats(1, 2, 3, 4))), "reaches element" },
        { "offset past the storage", Zip(TensorPickle(4, 9, [1], [1]), ("0", Floats(1, 2, 3, 4))), "offset 9 lies outside" },
        { "negative size", Zip(TensorPickle(4, 0, [-1], [1]), ("0", Floats(1, 2, 3, 4))), "sizes must be non-negative" },
        { "size and stride overflow", Zip(TensorPickle(4, 0, [long.MaxValue], [long.MaxValue]), ("0", Floats(1, 2, 3, 4))), "Arithmetic operation resulted in an overflow" },
        // Empty, but libtorch refuses sizes whose product overflows (it threw a TorchException from as_strided).
        { "sizes multiplying past 2^63, one of them 0", Zip(TensorPickle(4, 0, [1L << 32, 1L << 32, 0], [1, 1, 1]), ("0", Floats(1, 2, 3, 4))), "multiply past 2^63" },
        { "TorchScript archive", TorchScriptLike(), "TorchScript archive" },
    };

    private static byte[] TorchScriptLike()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create))
            zip.CreateEntry("model/constants.pkl").Open().Dispose();
        return memory.ToArray();
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileOrMalformedPicklesAreRefusedWithTheirReason(string name, byte[] file, string expected)
    {
        string message = Refused(file);
        Assert.True(message.Contains(expected, StringComparison.Ordinal), $"{name}: '{message}' lacks '{expected}'");
    }
}
