using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Tests.Lora;

/// <summary>Seeded float64 layers and factors, and comparisons, for the LoRA tests.</summary>
internal static class LoraTestKit
{
    public const ScalarType F64 = ScalarType.Float64;

    /// <summary>Overwrites <paramref name="target"/> (a parameter) with <paramref name="values"/>, outside autograd.</summary>
    public static void Fill(Tensor target, Tensor values)
    {
        using var noGrad = no_grad();
        target.copy_(values);
    }

    /// <summary>Fills both factors of <paramref name="adapter"/> with seeded normal values, so the adapter is not a no-op.</summary>
    public static void Randomize(LoraLayer layer, string adapter, int seed)
    {
        using var scope = NewDisposeScope();
        Fill(layer.lora_A[adapter], TestData.Randn(seed, layer.lora_A[adapter].shape));
        Fill(layer.lora_B[adapter], TestData.Randn(seed + 1, layer.lora_B[adapter].shape));
    }

    /// <summary>A float64 Linear whose weight and bias are seeded normal values.</summary>
    public static Linear Linear64(long inFeatures, long outFeatures, int seed, bool bias = true)
    {
        var linear = new Linear(inFeatures, outFeatures, bias, dtype: F64);
        using var scope = NewDisposeScope();
        Fill(linear.weight, TestData.Randn(seed, outFeatures, inFeatures));
        if (linear.bias is not null) Fill(linear.bias, TestData.Randn(seed + 1, outFeatures));
        return linear;
    }

    /// <summary>max |expected − actual| / max |expected| ≤ <paramref name="tolerance"/>.</summary>
    public static void AssertRelative(Tensor expected, Tensor actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        double[] e = ToDoubles(expected), a = ToDoubles(actual);
        double scale = e.Max(Math.Abs);
        Assert.True(scale > 0, $"{what}: the reference is zero, so the comparison would prove nothing");
        double worst = e.Zip(a, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= tolerance * scale, $"{what}: relative error {worst / scale:E3} exceeds {tolerance:E1}");
    }

    /// <summary>The tensor's values as float64, row-major.</summary>
    public static double[] ToDoubles(Tensor t)
    {
        using Tensor d = t.detach().to(F64);
        using Tensor c = d.contiguous();
        return c.ToArray<double>();
    }

    /// <summary>A 2-D tensor as a MathNet matrix (the independent float64 arithmetic).</summary>
    public static Matrix<double> M(Tensor t)
    {
        Assert.Equal(2, t.dim());
        return Matrix<double>.Build.DenseOfRowMajor((int)t.size(0), (int)t.size(1), ToDoubles(t));
    }
}
