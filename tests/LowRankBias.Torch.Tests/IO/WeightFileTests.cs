using System.Text;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>The format sniffer every reader uses: formats told by content, never by name.</summary>
public class WeightFileTests
{
    private static string Write(TempDirectory dir, byte[] bytes)
    {
        string path = dir.File("weights.pt");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void TellsTheReadFormatsByTheirBytes()
    {
        Assert.Equal(WeightFormat.TorchSave, WeightFile.detect(PyTorchFileFixtureTests.Fixture("checkpoint.pt")));
        Assert.Equal(WeightFormat.SafeTensors, WeightFile.detect(PyTorchFileFixtureTests.Fixture("checkpoint_expected.safetensors")));
        using var dir = new TempDirectory();
        // A safetensors header of 19280 bytes: its length prefix starts "PK", like a zip.
        byte[] pk = [(byte)'P', (byte)'K', 0, 0, 0, 0, 0, 0, .. Encoding.ASCII.GetBytes("{}".PadRight(19280))];
        Assert.Equal(WeightFormat.SafeTensors, WeightFile.detect(Write(dir, pk)));
        Assert.Equal(WeightFormat.Unknown, WeightFile.detect(Write(dir, "GIF89a\x01\x00\x01\x00"u8.ToArray())));
    }

    public static TheoryData<byte[], string> Refused => new()
    {
        { [], "is empty (0 bytes)" },
        { [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20], "is in PyTorch's legacy (pre-1.6) format" },
        { "<!DOCTYPE html>\n<html><head><title>404</title>"u8.ToArray(), "is a text file (it starts \"<!DOCTYPE html>\")" },
        { "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n"u8.ToArray(), "is a Git LFS pointer (a 64-byte text file), not the weights: fetch them with 'git lfs pull'" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void NamesWhatAFileThatIsNotReadIs(byte[] bytes, string what)
    {
        using var dir = new TempDirectory();
        string path = Write(dir, bytes);
        Assert.StartsWith($"{path}: {what}", Assert.Throws<InvalidDataException>(() => WeightFile.detect(path)).Message);
    }
}
