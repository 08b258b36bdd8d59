using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>conv2d, pooling and padding against naive C# loops over N×C×H×W arrays.</summary>
public class FunctionalConvolutionTests
{
    private const double Tol = 1e-12;

    /// <summary>A row-major N×C×H×W array with bounds-checked reads.</summary>
    private sealed class Grid(Tensor t)
    {
        public readonly long[] Shape = t.shape;
        private readonly double[] _values = t.ToArray<double>();
        public int N => (int)Shape[0];
        public int C => (int)Shape[1];
        public int H => (int)Shape[2];
        public int W => (int)Shape[3];
        public bool Inside(int h, int w) => h >= 0 && h < H && w >= 0 && w < W;
        public double this[int n, int c, int h, int w] => _values[((n * C + c) * H + h) * W + w];
    }

    private static int OutSize(int size, int kernel, int stride, int padding, int dilation, bool ceil = false)
    {
        int span = size + 2 * padding - dilation * (kernel - 1) - 1;
        int count = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // With ceil_mode the last window must still start inside the input or its left padding.
        if (ceil && (count - 1) * stride >= size + padding) count--;
        return count;
    }

    private static double[] NaiveConv(Grid x, Grid w, double[]? bias, int[] stride, int[] padding, int[] dilation, int groups)
    {
        int outC = w.N, inPerGroup = w.C, outPerGroup = outC / groups;
        int oh = OutSize(x.H, w.H, stride[0], padding[0], dilation[0]), ow = OutSize(x.W, w.W, stride[1], padding[1], dilation[1]);
        var result = new List<double>();
        for (int n = 0; n < x.N; n++)
            for (int o = 0; o < outC; o++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int c = 0; c < inPerGroup; c++)
                            for (int ki = 0; ki < w.H; ki++)
                                for (int kj = 0; kj < w.W; kj++)
                                {
                                    int h = i * stride[0] - padding[0] + ki * dilation[0], v = j * stride[1] - padding[1] + kj * dilation[1];
                                    if (x.Inside(h, v)) sum += x[n, o / outPerGroup * inPerGroup + c, h, v] * w[o, c, ki, kj];
                                }
                        result.Add(sum);
                    }
        return result.ToArray();
    }

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 1, 2)]
    public void Conv2dMatchesNaiveLoops(int stride, int padding, int dilation, int groups)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(1, 2, 4, 6, 5), w = Randn(2, 4, 4 / groups, 3, 2), b = Randn(3, 4);
        Tensor y = F.conv2d(x, w, b, stride: [stride], padding: [padding, padding + 1], dilation: [dilation, 1], groups: groups);
        double[] expected = NaiveConv(new Grid(x), new Grid(w), b.ToArray<double>(), [stride, stride], [padding, padding + 1], [dilation, 1], groups);
        AssertClose(expected, y, Tol);
    }

    private static double[] NaivePool(Grid x, int[] k, int[] s, int[] p, int[] d, bool ceil, Func<List<double>, int, double> reduce)
    {
        int oh = OutSize(x.H, k[0], s[0], p[0], d[0], ceil), ow = OutSize(x.W, k[1], s[1], p[1], d[1], ceil);
        var result = new List<double>();
        for (int n = 0; n < x.N; n++)
            for (int c = 0; c < x.C; c++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        var window = new List<double>();
                        int padded = 0;
                        for (int ki = 0; ki < k[0]; ki++)
                            for (int kj = 0; kj < k[1]; kj++)
                            {
                                int h = i * s[0] - p[0] + ki * d[0], v = j * s[1] - p[1] + kj * d[1];
                                if (x.Inside(h, v)) window.Add(x[n, c, h, v]);
                                // Positions in the zero padding (not beyond it) count in avg_pool2d's default divisor.
                                if (h < x.H + p[0] && v < x.W + p[1]) padded++;
                            }
                        result.Add(reduce(window, padded));
                    }
        return result.ToArray();
    }

    [Theory]
    [InlineData(2, 2, 0, 1, false)]
    [InlineData(3, 1, 1, 1, false)]
    [InlineData(2, 2, 1, 2, true)]
    [InlineData(3, 2, 1, 1, true)]
    public void MaxPool2dMatchesNaiveLoops(int kernel, int stride, int padding, int dilation, bool ceil)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(4, 2, 2, 7, 6);
        Tensor y = F.max_pool2d(x, [kernel], [stride], [padding], [dilation], ceil);
        double[] expected = NaivePool(new Grid(x), [kernel, kernel], [stride, stride], [padding, padding], [dilation, dilation], ceil,
            (window, _) => window.Max());
        AssertClose(expected, y, 0);
    }

    [Theory]
    [InlineData(2, 2, 0, false, true)]
    [InlineData(3, 2, 1, false, true)]
    [InlineData(3, 2, 1, false, false)]
    [InlineData(3, 2, 1, true, true)]
    public void AvgPool2dMatchesNaiveLoops(int kernel, int stride, int padding, bool ceil, bool countIncludePad)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(5, 1, 2, 6, 7);
        Tensor y = F.avg_pool2d(x, [kernel], [stride], [padding], ceil, countIncludePad);
        double[] expected = NaivePool(new Grid(x), [kernel, kernel], [stride, stride], [padding, padding], [1, 1], ceil,
            (window, padded) => window.Sum() / (countIncludePad ? padded : window.Count));
        AssertClose(expected, y, Tol);

        Tensor overridden = F.avg_pool2d(x, [kernel], [stride], [padding], ceil, countIncludePad, divisor_override: 5);
        double[] sums = NaivePool(new Grid(x), [kernel, kernel], [stride, stride], [padding, padding], [1, 1], ceil, (window, _) => window.Sum() / 5);
        AssertClose(sums, overridden, Tol);
    }

    [Fact]
    public void AdaptiveAvgPool2dAveragesCoveringWindows()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(6, 1, 2, 5, 7);
        Tensor y = F.adaptive_avg_pool2d(x, [3, 4]);
        Assert.Equal([1L, 2, 3, 4], y.shape);
        var g = new Grid(x);
        var expected = new List<double>();
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                {
                    // Window i spans [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉).
                    int h0 = i * 5 / 3, h1 = ((i + 1) * 5 + 2) / 3, w0 = j * 7 / 4, w1 = ((j + 1) * 7 + 3) / 4;
                    double sum = 0;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) sum += g[0, c, h, w];
                    expected.Add(sum / ((h1 - h0) * (w1 - w0)));
                }
        AssertClose(expected.ToArray(), y, Tol);
        // One value for both sides gives a square output.
        Assert.Equal([1L, 2, 2, 2], F.adaptive_avg_pool2d(x, [2]).shape);
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("replicate")]
    [InlineData("circular")]
    public void PadReadsTheDocumentedSourcePositions(string mode)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(7, 1, 1, 3, 4);
        // (left, right) for the last dimension, then (top, bottom).
        Tensor y = mode == "constant" ? F.pad(x, [2, 1, 1, 2], value: -7) : F.pad(x, [2, 1, 1, 2], mode);
        Assert.Equal([1L, 1, 6, 7], y.shape);
        var g = new Grid(x);
        var expected = new List<double>();
        for (int i = -1; i < 5; i++)
            for (int j = -2; j < 5; j++)
            {
                if (mode == "constant") expected.Add(g.Inside(i, j) ? g[0, 0, i, j] : -7);
                else expected.Add(g[0, 0, Source(i, 3, mode), Source(j, 4, mode)]);
            }
        AssertClose(expected.ToArray(), y, 0);
    }

    private static int Source(int u, int size, string mode) => mode switch
    {
        "reflect" => u < 0 ? -u : u >= size ? 2 * (size - 1) - u : u,
        "replicate" => Math.Clamp(u, 0, size - 1),
        _ => (u % size + size) % size,
    };
}
