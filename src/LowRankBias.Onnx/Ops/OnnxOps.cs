namespace LowRankBias.Onnx.Ops;

/// <summary>Every operator of the default domain this package runs, by ONNX name.</summary>
internal static class OnnxOps
{
    public static IReadOnlyDictionary<string, KernelBuilder> Builders { get; } = Create();

    private static Dictionary<string, KernelBuilder> Create()
    {
        var ops = new Dictionary<string, KernelBuilder>(StringComparer.Ordinal);
        ElementwiseOps.Register(ops);
        ShapeOps.Register(ops);
        NeuralOps.Register(ops);
        return ops;
    }
}
