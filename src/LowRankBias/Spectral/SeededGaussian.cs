using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// Random start vectors drawn on the host from their own seeded generator, so that measuring a model during training
// neither consumes nor depends on libtorch's random stream (runs stay reproducible with and without monitoring).
internal static class SeededGaussian
{
    /// <summary>A [rows, cols] tensor of standard normal samples (Box–Muller over System.Random(seed)).</summary>
    public static Tensor Matrix(long rows, long cols, int seed, ScalarType dtype, Device device)
    {
        var random = new Random(seed);
        var values = new double[rows * cols];
        for (long i = 0; i < values.LongLength; i++)
        {
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            values[i] = radius * Math.Cos(2 * Math.PI * random.NextDouble());
        }
        using Tensor host = torch.from_array<double>(values, [rows, cols]);
        return host.to(device, dtype);
    }
}
