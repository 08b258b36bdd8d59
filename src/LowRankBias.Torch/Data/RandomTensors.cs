namespace LowRankBias.Torch.Data;

/// <summary>Random tensors drawn from a <see cref="SplitMix64"/> stream, so synthetic data depends only on its seed.</summary>
internal static class RandomTensors
{
    private static readonly Op LinalgQr = new("aten::linalg_qr");

    /// <summary>Independent standard normal entries.</summary>
    public static Tensor Normal(SplitMix64 rng, long[] shape, ScalarType dtype = ScalarType.Float32)
    {
        var values = new double[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextGaussian();
        using Tensor t = torch.from_array<double>(values, shape);
        return t.to(dtype, copy: true);
    }

    /// <summary>A float64 n×k matrix with orthonormal columns, uniformly (Haar) distributed.</summary>
    public static Tensor Orthonormal(SplitMix64 rng, long n, long k)
    {
        if (k > n) throw new ArgumentException($"{k} orthonormal columns do not fit in dimension {n}");
        using Tensor gaussian = Normal(rng, [n, k], ScalarType.Float64);
        Tensor[] qr = LinalgQr.CallMany(gaussian);
        using Tensor q = qr[0], r = qr[1];
        // Making R's diagonal positive turns QR of a Gaussian into a Haar sample (QR alone is sign-biased).
        using Tensor diagonal = r.diagonal();
        using Tensor signs = diagonal.sign();
        return q * signs;
    }
}
