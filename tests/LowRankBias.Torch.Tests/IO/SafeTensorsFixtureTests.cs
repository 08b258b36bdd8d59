using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>
/// Reads tests/fixtures/sample.safetensors, written by tests/fixtures/make_safetensors.py with Python's standard
/// library alone. The expected values follow the formulas documented in that script, over the flat index i.
/// </summary>
public class SafeTensorsFixtureTests
{
    private static readonly string Sample = Path.Combine(AppContext.BaseDirectory, "fixtures", "sample.safetensors");

    private static T[] Expected<T>(int count, Func<int, T> formula) => Enumerable.Range(0, count).Select(formula).ToArray();

    private static void AssertFixtureContents(Dictionary<string, Tensor> t)
    {
        Assert.Equal(["bf16", "bool", "empty", "f16", "f32", "f64", "i32", "i64", "scalar"], t.Keys.Order());

        Assert.Equal([2L, 3], t["f32"].shape);
        Assert.Equal(Expected(6, i => i * 0.5f - 1), t["f32"].ToArray<float>());
        Assert.Equal([4L], t["f64"].shape);
        Assert.Equal(Expected(4, i => i + 0.1), t["f64"].ToArray<double>());
        Assert.Equal([3L, 2], t["bf16"].shape);
        Assert.Equal(Expected(6, i => (i - 2) * 0.25f), t["bf16"].ToArray<BFloat16>().Select(v => (float)v));
        Assert.Equal([5L], t["f16"].shape);
        Assert.Equal(Expected(5, i => i * 1.5f - 3), t["f16"].ToArray<Half>().Select(v => (float)v));
        Assert.Equal([2L, 2], t["i64"].shape);
        Assert.Equal(Expected(4, i => i * (1L << 40) - 3), t["i64"].ToArray<long>());
        Assert.Equal([3L], t["i32"].shape);
        Assert.Equal(Expected(3, i => -100000 * i + 7), t["i32"].ToArray<int>());
        Assert.Equal([2L, 2], t["bool"].shape);
        Assert.Equal(Expected(4, i => i % 3 == 0), t["bool"].ToArray<bool>());
        Assert.Empty(t["scalar"].shape);
        Assert.Equal(42f, t["scalar"].item<float>());
        Assert.Equal([0L, 3], t["empty"].shape);
        Assert.Equal(ScalarType.Int32, t["empty"].dtype);
    }

    [Fact]
    public void ReadsAFileWrittenIndependentlyFromTheSpecification()
    {
        using var scope = NewDisposeScope();
        AssertFixtureContents(SafeTensors.load_file(Sample));
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "make_safetensors.py" }, SafeTensors.load_metadata(Sample));
    }

    [Fact]
    public void RewritingTheFixtureKeepsEveryValue()
    {
        using var scope = NewDisposeScope();
        var again = SafeTensors.load(SafeTensors.save(SafeTensors.load_file(Sample)));
        AssertFixtureContents(again);
    }

    [Fact]
    public void SafeOpenReadsEachTensorFromTheMappedFile()
    {
        using var scope = NewDisposeScope();
        using SafeTensorsReader reader = SafeTensors.safe_open(Sample);
        Assert.Equal(["f32", "f64", "bf16", "f16", "i64", "i32", "bool", "scalar", "empty"], reader.keys());
        Assert.Equal([3L, 2], reader.shape("bf16"));
        Assert.Equal(ScalarType.BFloat16, reader.dtype("bf16"));
        Assert.Equal("make_safetensors.py", reader.metadata()["producer"]);
        AssertFixtureContents(reader.keys().ToDictionary(k => k, k => reader.get_tensor(k)));
        Assert.Contains("no tensor named 'nope'", Assert.Throws<KeyNotFoundException>(() => reader.get_tensor("nope")).Message);
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.get_tensor("f32"));
    }

    [Fact]
    public void ATensorReadTwiceIsWholeAfterItsMappedPagesWereReleased()
    {
        // 64 × 1024 float32 = 64 pages: after the first copy its pages leave the resident set; the second read faults
        // them in again from the file.
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string file = Path.Combine(dir.Path, "pages.safetensors");
        Tensor original = arange(0, 64 * 1024, dtype: ScalarType.Float32).reshape(64, 1024);
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["head"] = ones([3]), ["w"] = original, ["tail"] = ones([5]) }, file);
        using SafeTensorsReader reader = SafeTensors.safe_open(file);
        float[] expected = original.ToArray<float>();
        for (int read = 0; read < 2; read++)
        {
            Assert.Equal(expected, reader.get_tensor("w").ToArray<float>());
            Assert.Equal([1f, 1, 1], reader.get_tensor("head").ToArray<float>());
            Assert.Equal([1f, 1, 1, 1, 1], reader.get_tensor("tail").ToArray<float>());
        }
    }
}
