using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests.IO;
using LowRankBias.Torch.Training;

namespace LowRankBias.Torch.Tests.Training;

/// <summary>
/// A full disk while logging metrics: every record is written whole or not at all, and a log that got nothing is
/// not left behind empty. The disk is a stream that stores a given number of bytes, then fails as ENOSPC does.
/// </summary>
public class MetricsFullDiskTests
{
    [Fact]
    public void AFullDiskAtTheStartLeavesNoEmptyLogs()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<IOException>(() => MetricsWriter.Create(dir.Path, FullDisk.After(0)));
        Assert.Contains("No space left on device", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ARecordThatDoesNotFitIsCutBackAndTheEarlierRecordsStayWhole()
    {
        using var dir = new TempDirectory();
        var disk = new FullDisk();
        using var writer = MetricsWriter.Create(dir.Path, disk.Open);
        writer.Write(new MetricsRecord(1, 0, "train") { Loss = 0.5 });
        string jsonl = File.ReadAllText(writer.JsonlPath), csv = File.ReadAllText(writer.CsvPath);

        disk.Left = 10; // part of the next record fits, the rest does not
        Assert.Throws<IOException>(() => writer.Write(new MetricsRecord(2, 0, "train") { Loss = 0.25 }));

        Assert.Equal(jsonl, File.ReadAllText(writer.JsonlPath));
        Assert.Equal(csv, File.ReadAllText(writer.CsvPath));
        Assert.Single(MetricsLog.Read(dir.Path));
        Assert.Equal(2, File.ReadAllLines(writer.CsvPath).Length); // header and step 1
    }

    [Fact]
    public void AppendToAFileThatDidNotExistRemovesItWhenNothingFits()
    {
        using var dir = new TempDirectory();
        string path = dir.File("log.jsonl");
        Assert.Throws<IOException>(() => AtomicFile.Append(path, "{\"step\":1}\n", FullDisk.After(4)));
        Assert.False(File.Exists(path));

        File.WriteAllText(path, "{\"step\":1}\n");
        Assert.Throws<IOException>(() => AtomicFile.Append(path, "{\"step\":2}\n", FullDisk.After(4)));
        Assert.Equal("{\"step\":1}\n", File.ReadAllText(path));
    }

    /// <summary>The file system with <see cref="Left"/> bytes of free space.</summary>
    private sealed class FullDisk
    {
        public long Left { get; set; } = long.MaxValue;

        public static Func<string, Stream> After(long bytes) => new FullDisk { Left = bytes }.Open;

        public Stream Open(string path) => new Limited(AtomicFile.OpenForAppend(path), this);

        private sealed class Limited(FileStream file, FullDisk disk) : Stream
        {
            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                int fits = (int)Math.Min(buffer.Length, disk.Left);
                file.Write(buffer[..fits]);
                disk.Left -= fits;
                if (fits < buffer.Length) throw new IOException($"No space left on device : '{file.Name}'");
            }

            public override bool CanRead => false;
            public override bool CanSeek => true;
            public override bool CanWrite => true;
            public override long Length => file.Length;
            public override long Position { get => file.Position; set => file.Position = value; }
            public override void Flush() => file.Flush();
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);
            public override void SetLength(long value) => file.SetLength(value);

            protected override void Dispose(bool disposing)
            {
                if (disposing) file.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
