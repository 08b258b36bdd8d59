namespace LowRankBias.Torch.Tests.Optim;

/// <summary>loss(p) = Σ cᵢpᵢ²/2 + Σ dᵢpᵢ, whose gradient c⊙p + d the float64 references compute by hand.</summary>
internal sealed class Quadratic(double[] c, double[] d)
{
    public double[] Gradient(double[] p) => p.Select((v, i) => c[i] * v + d[i]).ToArray();

    /// <summary>Back-propagates the loss into <paramref name="p"/>.grad (inside the caller's dispose scope).</summary>
    public void Backward(Tensor p)
    {
        Tensor ct = tensor(c), dt = tensor(d);
        ((ct * p * p).sum() / 2 + (dt * p).sum()).backward();
    }

    public static void AssertClose(double[] expected, Tensor actual, double tolerance = 1e-12)
    {
        double[] got = actual.ToArray<double>();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], tolerance);
    }
}
