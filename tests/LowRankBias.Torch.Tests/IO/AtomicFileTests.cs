using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void WriterThatThrowsMidwayLeavesThePreviousFileIntactAndNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("state.bin");
        byte[] previous = [1, 2, 3, 4, 5];
        File.WriteAllBytes(path, previous);

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            stream.Flush();
            throw new InvalidOperationException("writer died");
        }));

        Assert.Equal("writer died", e.Message);
        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void CompleteWriteReplacesTheFileAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("state.bin");
        File.WriteAllBytes(path, new byte[100]);

        AtomicFile.Write(path, stream => stream.Write([9, 8, 7]));

        Assert.Equal([9, 8, 7], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WritesANewFileThroughARelativePath()
    {
        using var dir = new TempDirectory();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, dir.File("new.bin"));

        AtomicFile.Write(relative, stream => stream.Write([42]));

        Assert.Equal([42], File.ReadAllBytes(dir.File("new.bin")));
    }
}
