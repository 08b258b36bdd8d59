using System.Buffers.Binary;
using System.Text;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

public class SafeTensorsMalformedTests
{
    /// <summary>A file with the given header text (length prefix exact, no padding) followed by <paramref name="data"/>.</summary>
    private static byte[] Build(string header, params byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        return file;
    }

    private static string F32(string name, long[] shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";

    private static byte[] HeaderLengthBeyondFile()
    {
        byte[] file = Build("{}");
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        return file;
    }

    public static TheoryData<string, byte[], string> Cases => new()
    {
        { "shorter than the length prefix", [1, 2, 3, 4, 5], "truncated: 5 bytes" },
        { "header length beyond the file", HeaderLengthBeyondFile(), "header length 1000 is larger than the 2 bytes" },
        { "invalid JSON", Build("{\"a\": "), "not valid JSON" },
        { "header not an object", Build("[1, 2]"), "must be a JSON object" },
        { "unknown dtype", Build("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 0), "unknown dtype \"F8_E4M3\"" },
        { "shape inconsistent with offsets", Build("{" + F32("a", [2], 0, 4) + "}", new byte[4]), "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] span 4" },
        { "offsets out of range", Build("{" + F32("a", [4], 0, 16) + "}", new byte[8]), "beyond the 8-byte data buffer" },
        { "offsets end before begin", Build("{" + F32("a", [0], 8, 0) + "}", new byte[8]), "end before they begin" },
        { "overlapping tensors", Build("{" + F32("a", [2], 0, 8) + "," + F32("b", [2], 4, 12) + "}", new byte[12]), "'a' [0, 8] and 'b' [4, 12] overlap" },
        { "duplicate names", Build("{" + F32("a", [1], 0, 4) + "," + F32("a", [1], 4, 8) + "}", new byte[8]), "'a' appears more than once" },
        { "gap in the data", Build("{" + F32("a", [1], 4, 8) + "}", new byte[8]), "bytes [0, 4) of the data buffer belong to no tensor" },
        { "trailing bytes", Build("{" + F32("a", [1], 0, 4) + "}", new byte[8]), "holds 8 bytes but the tensors cover only 4" },
        { "missing shape", Build("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "\"shape\" is missing" },
        { "negative dimension", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]), "must hold non-negative integers, not -1" },
        { "shape too large", Build("{" + F32("a", [1L << 40, 1L << 40], 0, 4) + "}", new byte[4]), "is too large" },
        { "metadata value not a string", Build("{\"__metadata__\":{\"epoch\":3}}"), "'epoch' holds a Number" },
        { "bool byte neither 0 nor 1", Build("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", 1, 0, 2), "BOOL element 2 holds the byte 2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LoadRejectsNamingTheSourceAndTheProblem(string name, byte[] contents, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.File(name.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, contents);

        var fromFile = Assert.Throws<InvalidDataException>(() => SafeTensors.load_file(path));
        var fromMemory = Assert.Throws<InvalidDataException>(() => SafeTensors.load(contents));

        Assert.StartsWith(path + ": ", fromFile.Message);
        Assert.Contains(problem, fromFile.Message);
        Assert.StartsWith("safetensors buffer: ", fromMemory.Message);
        Assert.Contains(problem, fromMemory.Message);
    }

    [Fact]
    public void LoadMetadataValidatesTheHeaderToo()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, Build("{" + F32("a", [2], 0, 4) + "}", new byte[4]));

        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.load_metadata(path));
        Assert.Contains("needs 8 bytes", e.Message);
    }

    [Fact]
    public void AFailureAfterSomeTensorsWereCreatedFreesThem()
    {
        // 'a' is valid and read first; 'b' holds an invalid bool, so the load fails after creating 'a'.
        byte[] file = Build("{" + F32("a", [1], 0, 4) + ",\"b\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[4,5]}}", 0, 0, 0x80, 0x3F, 7);
        using var scope = NewDisposeScope();

        Assert.Throws<InvalidDataException>(() => SafeTensors.load(file));

        Assert.Equal(0, scope.Count);
    }
}
