using LowRankBias.Torch.Modules;
using static LowRankBias.Onnx.Export.ExportGraph;

namespace LowRankBias.Onnx.Export;

/// <summary>Emitters of the layers: Linear, Conv2d, BatchNorm, LayerNorm, Embedding, pooling, activations, containers,
/// and the pixel preprocessing <see cref="ImagePreprocess"/>.</summary>
internal static class LayerEmitters
{
    public static IEnumerable<(Type type, Emitter emit)> All =>
    [
        ExportContext.On<Linear>(Linear),
        ExportContext.On<Conv2d>(Conv),
        ExportContext.On<BatchNorm2d>((c, m, p, x) => m.weight is null || m.running_mean is null
            ? throw new NotSupportedException($"export_onnx: BatchNorm2d '{p}' has no affine weights or no running statistics; the exporter writes inference BatchNorm")
            : BatchNorm(c, p, x, m.weight, m.bias!, m.running_mean, m.running_var!, m.eps)),
        ExportContext.On<FrozenBatchNorm2d>((c, m, p, x) => m.weight is null
            ? throw new NotSupportedException($"export_onnx: FrozenBatchNorm2d '{p}' has no affine weights")
            : BatchNorm(c, p, x, m.weight, m.bias!, m.running_mean, m.running_var, m.eps)),
        ExportContext.On<LayerNorm>(LayerNormalization),
        ExportContext.On<Embedding>((c, m, p, x) => c.Graph.Node("Gather", p, [c.Graph.Weight(m.weight, p + ".weight"), x], c.Graph.Rank(x) + 1)),
        ExportContext.On<MaxPool2d>((c, m, p, x) => c.Graph.Node("MaxPool", p, [x], null, Attr("kernel_shape", m.kernel_size), Attr("strides", m.stride),
            Attr("pads", [.. m.padding, .. m.padding]), Attr("dilations", m.dilation), Attr("ceil_mode", m.ceil_mode ? 1 : 0))),
        ExportContext.On<AdaptiveAvgPool2d>((c, m, p, x) => m.output_size is [1, 1] ? c.Graph.Node("GlobalAveragePool", p, [x])
            : throw new NotSupportedException($"export_onnx: AdaptiveAvgPool2d '{p}' pools to [{string.Join(", ", m.output_size)}]; only global pooling (1×1) is exported")),
        ExportContext.On<ReLU>((c, _, p, x) => c.Graph.Node("Relu", p, [x])),
        ExportContext.On<Tanh>((c, _, p, x) => c.Graph.Node("Tanh", p, [x])),
        ExportContext.On<Sigmoid>((c, _, p, x) => c.Graph.Node("Sigmoid", p, [x])),
        ExportContext.On<SiLU>((c, _, p, x) => c.Graph.Node("Mul", p, [x, c.Graph.Node("Sigmoid", p, [x])])),
        ExportContext.On<GELU>(Gelu),
        ExportContext.On<Identity>((_, _, _, x) => x),
        ExportContext.On<Dropout>((_, _, _, x) => x),
        ExportContext.On<ImagePreprocess>((c, m, p, x) =>
        {
            long channels = m.mean_image.size(1);
            string ordered = m.reverse_channels ? c.Graph.Node("Gather", p, [x, c.Graph.Ints([.. Enumerable.Range(0, (int)channels).Select(i => channels - 1 - i)])], 4, Attr("axis", 1L)) : x;
            return c.Graph.Node("Sub", p, [ordered, c.Graph.Weight(m.mean_image, p + ".mean_image")]);
        }),
        ExportContext.On<Sequential>((c, m, p, x) => m.named_children().Aggregate(x, (h, child) => c.Child(child.module, p, child.name, h))),
    ];

    private static string Linear(ExportContext c, Linear m, string path, string x)
    {
        ExportGraph g = c.Graph;
        string w = g.Weight(m.weight, path + ".weight");
        string? b = m.bias is null ? null : g.Weight(m.bias, path + ".bias");
        // Gemm for a batch of vectors (what torch.onnx.export writes too), MatMul with the transposed weight otherwise.
        if (g.Rank(x) == 2) return g.Node("Gemm", path, b is null ? [x, w] : [x, w, b], 2, Attr("transB", 1L));
        string y = g.Node("MatMul", path, [x, g.Node("Transpose", path, [w], 2, Attr("perm", 1, 0))], g.Rank(x));
        return b is null ? y : g.Node("Add", path, [y, b]);
    }

    private static string Conv(ExportContext c, Conv2d m, string path, string x)
    {
        ExportGraph g = c.Graph;
        string[] inputs = m.bias is null ? [x, g.Weight(m.weight, path + ".weight")] : [x, g.Weight(m.weight, path + ".weight"), g.Weight(m.bias, path + ".bias")];
        return g.Node("Conv", path, inputs, 4, Attr("kernel_shape", m.kernel_size), Attr("strides", m.stride),
            Attr("pads", [.. m.padding, .. m.padding]), Attr("dilations", m.dilation), Attr("group", m.groups));
    }

    private static string BatchNorm(ExportContext c, string path, string x, Torch.Tensor weight, Torch.Tensor bias, Torch.Tensor mean, Torch.Tensor variance, double eps)
    {
        ExportGraph g = c.Graph;
        return g.Node("BatchNormalization", path, [x, g.Weight(weight, path + ".weight"), g.Weight(bias, path + ".bias"),
            g.Weight(mean, path + ".running_mean"), g.Weight(variance, path + ".running_var")], null, Attr("epsilon", (float)eps));
    }

    private static string LayerNormalization(ExportContext c, LayerNorm m, string path, string x)
    {
        ExportGraph g = c.Graph;
        if (g.Opset < 17) throw new NotSupportedException($"export_onnx: LayerNorm '{path}' needs ONNX opset 17 (LayerNormalization), asked for {g.Opset}");
        if (m.weight is null) throw new NotSupportedException($"export_onnx: LayerNorm '{path}' has no elementwise affine weight, which ONNX's LayerNormalization requires");
        string[] inputs = m.bias is null ? [x, g.Weight(m.weight, path + ".weight")] : [x, g.Weight(m.weight, path + ".weight"), g.Weight(m.bias, path + ".bias")];
        return g.Node("LayerNormalization", path, inputs, null, Attr("axis", (long)-m.normalized_shape.Length), Attr("epsilon", (float)m.eps));
    }

    // Opset 17 has no Gelu: PyTorch's two formulas, written out.
    private static string Gelu(ExportContext c, GELU m, string p, string x)
    {
        ExportGraph g = c.Graph;
        string inner = m.approximate == "tanh"
            ? g.Node("Tanh", p, [g.Node("Mul", p, [g.Float((float)Math.Sqrt(2 / Math.PI)),
                g.Node("Add", p, [x, g.Node("Mul", p, [g.Float(0.044715f), g.Node("Mul", p, [x, g.Node("Mul", p, [x, x])])])])])])
            : g.Node("Erf", p, [g.Node("Mul", p, [x, g.Float((float)(1 / Math.Sqrt(2)))])]);
        return g.Node("Mul", p, [g.Node("Mul", p, [x, g.Float(0.5f)]), g.Node("Add", p, [inner, g.Float(1f)])]);
    }
}
