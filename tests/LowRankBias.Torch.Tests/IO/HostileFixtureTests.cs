using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using Xunit.Abstractions;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>
/// The reported hostile checkpoints (tests/fixtures/hostile): every entry point that reads weights refuses each one
/// with an InvalidDataException naming the file and the cause — before, they overflowed the stack, hung, allocated
/// gigabytes, or called a legacy file a bad safetensors file.
/// </summary>
[Collection(SerialCollection.Name)]
public class HostileFixtureTests(ITestOutputHelper log)
{
    [Theory]
    [MemberData(nameof(HostileFiles.Unreadable), MemberType = typeof(HostileFiles))]
    public void LoadRefusesNamingTheCause(string file, string cause)
    {
        long before = TestData.SettledLiveCount();
        HostileFiles.AssertRefused(file, cause, path => { using var scope = NewDisposeScope(); PyTorchFile.load(path); }, log);
        Assert.Equal(before, TestData.SettledLiveCount());
    }

    [Theory]
    [MemberData(nameof(HostileFiles.NoStateDict), MemberType = typeof(HostileFiles))]
    public void LoadStateDictRefusesNamingTheCause(string file, string cause) =>
        HostileFiles.AssertRefused(file, cause, path => { using var scope = NewDisposeScope(); PyTorchFile.load_state_dict(path); }, log);

    [Theory]
    [MemberData(nameof(HostileFiles.NoStateDict), MemberType = typeof(HostileFiles))]
    public void VisionTransformerFromPretrainedRefusesNamingTheCause(string file, string cause) =>
        HostileFiles.AssertRefused(file, cause, path => VisionTransformer.from_pretrained(path).Dispose(), log);

    [Fact]
    public void AMemoDagLoadsWithItsValuesShared()
    {
        // x(i) = [x(i-1), x(i-1)] for 60 levels: 61 lists, 2^60 paths. Python loads it at once, and so do we.
        var top = Assert.IsType<List<object?>>(PyTorchFile.load(HostileFiles.Path("dag.pt")));
        int levels = 0;
        for (List<object?> list = top; list.Count == 2; list = (List<object?>)list[0]!, levels++)
            Assert.Same(list[0], list[1]);
        Assert.Equal(60, levels);
    }

    [Fact]
    public void ADirectoryIsNamedAsOne()
    {
        using var dir = new TempDirectory();
        var load = Assert.Throws<FileNotFoundException>(() => PyTorchFile.load(dir.Path));
        Assert.Equal($"{dir.Path}: is a directory, not a weights file", load.Message);
        var safetensors = Assert.Throws<FileNotFoundException>(() => SafeTensors.load_file(dir.Path));
        Assert.Equal(load.Message, safetensors.Message);
    }

    [Fact]
    public void EachReaderNamesTheOtherFormat()
    {
        string torchSave = PyTorchFileFixtureTests.Fixture("checkpoint.pt"), safetensors = PyTorchFileFixtureTests.Fixture("checkpoint_expected.safetensors");
        Assert.Equal($"{torchSave}: is a torch.save zip archive, not a safetensors file (read it with PyTorchFile.load)",
            Assert.Throws<InvalidDataException>(() => SafeTensors.load_file(torchSave)).Message);
        Assert.Equal($"{safetensors}: is a safetensors file, not a torch.save zip archive (read it with SafeTensors.load_file)",
            Assert.Throws<InvalidDataException>(() => PyTorchFile.load(safetensors)).Message);
        Assert.Contains("legacy (pre-1.6) format", Assert.Throws<InvalidDataException>(() => SafeTensors.load_file(HostileFiles.Path("legacy.pt"))).Message);
    }

    [Fact]
    public void ASafeTensorsHeaderLargerThanTheReferenceLimitIsNotRead()
    {
        // safetensors' own MAX_HEADER_SIZE is 100 MB; the file is sparse, so nothing is written or read.
        using var dir = new TempDirectory();
        string path = dir.File("huge_header.safetensors");
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes(100_000_008UL));
            file.WriteByte((byte)'{');
            file.SetLength(8 + 100_000_008);
        }
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.load_metadata(path));
        Assert.Equal($"{path}: header length 100000008 is more than the 100000000 bytes a safetensors header may have", e.Message);
    }
}
