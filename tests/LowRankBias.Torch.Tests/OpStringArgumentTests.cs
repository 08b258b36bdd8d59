namespace LowRankBias.Torch.Tests;

/// <summary>String arguments of boxed ops travel as NUL-terminated UTF-8 in the call's scratch space.</summary>
public class OpStringArgumentTests
{
    private static readonly Op DivMode = new("aten::div", "Tensor_mode");

    [Fact]
    public void ShortStringSelectsTheMode()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 7, -7, 9 });
        var b = tensor(new double[] { 2, 2, -4 });

        Assert.Equal([3.0, -4, -3], DivMode.Call(a, b, "floor").ToArray<double>());
        Assert.Equal([3.0, -3, -2], DivMode.Call(a, b, "trunc").ToArray<double>());
    }

    [Fact]
    public void LongNonAsciiStringArrivesIntact()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 1 });
        string mode = string.Concat(Enumerable.Repeat("défaut-ü-", 80));  // > 64 scratch words: the heap path

        var e = Assert.Throws<TorchException>(() => DivMode.Call(a, a, mode));

        Assert.Contains(mode, e.Message);
    }
}
