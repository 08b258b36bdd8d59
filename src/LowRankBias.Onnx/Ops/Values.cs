using LowRankBias.Torch;

namespace LowRankBias.Onnx.Ops;

/// <summary>Reading the small integer tensors that carry shapes, axes and indices.</summary>
internal static class Values
{
    public static long[] Longs(Tensor t) => (t.dtype == ScalarType.Int64 ? t : t.to(ScalarType.Int64)).ToArray<long>();

    public static double Scalar(Tensor t) => t.to(ScalarType.Float64).item<double>();

    /// <summary>A possibly negative axis as an index into <paramref name="rank"/> dimensions.</summary>
    public static long Axis(long axis, long rank) => axis < 0 ? axis + rank : axis;

    public static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>An int64 vector on the device of <paramref name="like"/>.</summary>
    public static Tensor Vector(long[] values, Tensor like) => torch.tensor(values, [values.LongLength], like.device);
}
