using System.Diagnostics;
using Xunit.Abstractions;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>
/// The hostile checkpoints of tests/fixtures/hostile (written by make_hostile.py, one per report of issue 30) and the
/// cause each must be refused for; shared by the engine's readers' tests and the tool's.
/// </summary>
public static class HostileFiles
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "hostile", name);

    /// <summary>Files that <c>PyTorchFile.load</c> itself refuses, with a part of the message naming the cause.</summary>
    public static TheoryData<string, string> Unreadable => new()
    {
        { "deep_list.pt", "nests containers more than 1000 levels deep" },
        { "cyclic.pt", "the saved object contains itself" },
        { "expanded_20000.pt", "has 400000000 elements, more than the 1 its storage holds" },
        { "expanded_1e6.pt", "has 1000000000000 elements, more than the 1 its storage holds" },
        { "memo_bomb.pt", "'archive/data.pkl' declares 100000004 bytes, more than the 97449 the whole file holds" },
        { "memo_repeat.pt", "memoizes more values (2) than it has built (1)" },
        { "zip64_storage.pt", "'archive/data/0' declares 4398046511104 bytes, but its 6 compressed bytes can hold at most 6192" },
        { "byteorder_3gib.pt", "'archive/byteorder' declares 3221225472 bytes, but its 8 compressed bytes can hold at most 8256" },
        { "legacy.pt", "legacy (pre-1.6) format" },
        { "text.pt", "is a Git LFS pointer" },
    };

    /// <summary>Everything a state-dict reader refuses: the unreadable files, and a memo DAG of 2^60 paths that loads but holds no state dict.</summary>
    public static TheoryData<string, string> NoStateDict
    {
        get
        {
            TheoryData<string, string> cases = Unreadable;
            cases.Add("dag.pt", "holds no state dict: the saved list");
            return cases;
        }
    }

    /// <summary>
    /// Asserts that <paramref name="read"/> of hostile file <paramref name="name"/> throws an InvalidDataException naming
    /// the file and <paramref name="cause"/>, and logs its time and managed allocations (process-wide, so approximate).
    /// </summary>
    public static void AssertRefused(string name, string cause, Action<string> read, ITestOutputHelper log)
    {
        string path = Path(name);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => read(path));
        log.WriteLine($"{name}: refused in {clock.ElapsedMilliseconds} ms, {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1e6:F1} MB allocated: {e.Message}");
        Assert.StartsWith(path, e.Message);
        Assert.Contains(cause, e.Message);
    }
}
