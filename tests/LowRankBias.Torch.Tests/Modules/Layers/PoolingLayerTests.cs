using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>Pooling modules against window maxima and means computed by hand on a 1×1×4×5 grid.</summary>
public class PoolingLayerTests
{
    private static readonly double[] Grid = Enumerable.Range(0, 20).Select(i => (double)(i * 7 % 20) - 9.5).ToArray();

    private static Tensor Input() => tensor(Grid, [1, 1, 4, 5]);

    // Aggregate of the grid's window rows [r0, r0 + h) × columns [c0, c0 + w), clipped to the grid.
    private static double[] Window(int r0, int c0, int h, int w) =>
        (from r in Enumerable.Range(r0, h) from c in Enumerable.Range(c0, w) where r >= 0 && r < 4 && c >= 0 && c < 5 select Grid[r * 5 + c]).ToArray();

    [Fact]
    public void MaxPoolTakesTheLargestValueOfEachWindow()
    {
        using var scope = NewDisposeScope();
        using var pool = new MaxPool2d(2);
        Assert.Equal(new long[] { 2, 2 }, pool.stride);
        double[] expected = [Window(0, 0, 2, 2).Max(), Window(0, 2, 2, 2).Max(), Window(2, 0, 2, 2).Max(), Window(2, 2, 2, 2).Max()];
        Tensor y = pool.call(Input());
        Assert.Equal(new long[] { 1, 1, 2, 2 }, y.shape);
        Assert.Equal(expected, y.ToArray<double>());

        using var ceil = new MaxPool2d(2, ceil_mode: true);
        Assert.Equal(new long[] { 1, 1, 2, 3 }, ceil.call(Input()).shape);
        Assert.Equal(Window(0, 4, 2, 1).Max(), ceil.call(Input()).ToArray<double>()[2]);
    }

    [Fact]
    public void AvgPoolAveragesEachWindowWithPaddingCountedOrNot()
    {
        using var scope = NewDisposeScope();
        using var pool = new AvgPool2d(kernel_size: [2, 3], stride: [2, 2]);
        double[] expected = [Window(0, 0, 2, 3).Average(), Window(0, 2, 2, 3).Average(), Window(2, 0, 2, 3).Average(), Window(2, 2, 2, 3).Average()];
        AssertClose(expected, pool.call(Input()), 1e-14);

        using var padded = new AvgPool2d(2, stride: 2, padding: 1, count_include_pad: false);
        using var counted = new AvgPool2d(2, stride: 2, padding: 1);
        Assert.Equal(Window(-1, -1, 2, 2).Average(), padded.call(Input()).ToArray<double>()[0], 14);
        Assert.Equal(Window(-1, -1, 2, 2).Sum() / 4, counted.call(Input()).ToArray<double>()[0], 14);
    }

    [Fact]
    public void AdaptiveAvgPoolToOneIsTheGlobalMean()
    {
        using var scope = NewDisposeScope();
        using var pool = new AdaptiveAvgPool2d(1);
        Tensor x = Randn(1, 2, 3, 4, 5);
        Tensor y = pool.call(x);
        Assert.Equal(new long[] { 2, 3, 1, 1 }, y.shape);
        double[] xs = x.ToArray<double>();
        AssertClose(Enumerable.Range(0, 6).Select(i => xs[(20 * i)..(20 * i + 20)].Average()).ToArray(), y, 1e-14);
        using var rows = new AdaptiveAvgPool2d([2, 1]);
        AssertClose(new[] { Window(0, 0, 2, 5).Average(), Window(2, 0, 2, 5).Average() }, rows.call(Input()), 1e-14);
    }

    [Fact]
    public void PoolsRejectInputsWithoutSpatialDimensions()
    {
        using var scope = NewDisposeScope();
        using var max = new MaxPool2d(2);
        using var avg = new AvgPool2d(2);
        using var adaptive = new AdaptiveAvgPool2d(1);
        foreach (Module pool in new Module[] { max, avg, adaptive })
            Assert.Throws<ArgumentException>(() => pool.call(zeros([4, 4])));
        Assert.Throws<ArgumentException>(() => new MaxPool2d(2, padding: 2));
    }
}
