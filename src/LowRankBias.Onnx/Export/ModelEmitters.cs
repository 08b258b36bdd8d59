using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Onnx.Export.ExportGraph;

namespace LowRankBias.Onnx.Export;

/// <summary>Emitters of the models of <c>LowRankBias.Torch.Models</c>, each following its model's forward.</summary>
internal static class ModelEmitters
{
    public static IEnumerable<(Type type, Emitter emit)> All =>
    [
        ExportContext.On<MLP>((c, m, p, x) => Enumerable.Range(0, m.layers.Count).Aggregate(x, (h, i) =>
        {
            string y = c.Child(m.layers[i], p, $"layers.{i}", h);
            return i < m.layers.Count - 1 ? c.Child(m.act, p, "act", y) : y;
        })),
        ExportContext.On<ConvNet>(ConvNet),
        ExportContext.On<ResNet>(ResNet),
        ExportContext.On<BasicBlock>((c, m, p, x) => Residual(c, p, x, m.downsample,
            c.Child(m.bn2, p, "bn2", c.Child(m.conv2, p, "conv2", c.Child(m.relu, p, "relu", c.Child(m.bn1, p, "bn1", c.Child(m.conv1, p, "conv1", x))))))),
        ExportContext.On<Bottleneck>((c, m, p, x) =>
        {
            string h = c.Child(m.relu, p, "relu", c.Child(m.bn1, p, "bn1", c.Child(m.conv1, p, "conv1", x)));
            h = c.Child(m.relu, p, "relu", c.Child(m.bn2, p, "bn2", c.Child(m.conv2, p, "conv2", h)));
            return Residual(c, p, x, m.downsample, c.Child(m.bn3, p, "bn3", c.Child(m.conv3, p, "conv3", h)));
        }),
        ExportContext.On<VisionTransformer>(VisionTransformer),
        ExportContext.On<MlpMixer>((c, m, p, x) =>
        {
            string h = Tokens(c, p, c.Child(m.stem, p, "stem", x));
            h = Blocks(c, m.blocks, p, h);
            return c.Child(m.head, p, "head", c.Graph.Node("ReduceMean", p, [c.Child(m.ln, p, "ln", h)], 2, Attr("axes", [1L]), Attr("keepdims", 0L)));
        }),
        ExportContext.On<MixerBlock>((c, m, p, x) =>
        {
            ExportGraph g = c.Graph;
            string tokens = g.Node("Transpose", p, [c.Child(m.ln_1, p, "ln_1", x)], 3, Attr("perm", 0, 2, 1));
            string h = g.Node("Add", p, [x, g.Node("Transpose", p, [c.Child(m.mlp_tokens, p, "mlp_tokens", tokens)], 3, Attr("perm", 0, 2, 1))]);
            return g.Node("Add", p, [h, c.Child(m.mlp_channels, p, "mlp_channels", c.Child(m.ln_2, p, "ln_2", h))]);
        }),
        ExportContext.On<GPT>((c, m, p, x) =>
        {
            ExportGraph g = c.Graph;
            string length = g.Node("Gather", p, [g.Node("Shape", p, [x], 1), g.Ints([1], scalar: true)], 0);
            string positions = g.Node("Range", p, [g.Ints([0], scalar: true), length, g.Ints([1], scalar: true)], 1);
            string h = g.Node("Add", p, [c.Child(m.wte, p, "wte", x), c.Child(m.wpe, p, "wpe", positions)]);
            h = Blocks(c, m.blocks, p, c.Child(m.drop, p, "drop", h));
            return c.Child(m.lm_head, p, "lm_head", c.Child(m.ln_f, p, "ln_f", h));
        }),
    ];

    private static string ConvNet(ExportContext c, ConvNet m, string p, string x)
    {
        ExportGraph g = c.Graph;
        string h = x;
        for (int i = 0; i < m.convs.Count; i++)
        {
            h = c.Child(m.convs[i], p, $"convs.{i}", h);
            if (i < m.convs.Count - 1) h = g.Node("MaxPool", p, [h], 4, Attr("kernel_shape", 2, 2), Attr("strides", 2, 2));
            h = g.Node("Relu", p, [h]);
        }
        // amax over H and W: global max pooling, flattened.
        string pooled = g.Node("Flatten", p, [g.Node("GlobalMaxPool", p, [h])], 2, Attr("axis", 1L));
        return c.Child(m.fc2, p, "fc2", g.Node("Relu", p, [c.Child(m.fc1, p, "fc1", pooled)]));
    }

    private static string ResNet(ExportContext c, ResNet m, string p, string x)
    {
        string h = c.Child(m.maxpool, p, "maxpool", c.Child(m.relu, p, "relu", c.Child(m.bn1, p, "bn1", c.Child(m.conv1, p, "conv1", x))));
        h = c.Child(m.layer4, p, "layer4", c.Child(m.layer3, p, "layer3", c.Child(m.layer2, p, "layer2", c.Child(m.layer1, p, "layer1", h))));
        string pooled = c.Graph.Node("Flatten", p, [c.Child(m.avgpool, p, "avgpool", h)], 2, Attr("axis", 1L));
        return c.Child(m.fc, p, "fc", pooled);
    }

    private static string Residual(ExportContext c, string p, string x, Module? downsample, string branch)
    {
        string shortcut = downsample is null ? x : c.Child(downsample, p, "downsample", x);
        return c.Graph.Node("Relu", p, [c.Graph.Node("Add", p, [branch, shortcut])]);
    }

    private static string VisionTransformer(ExportContext c, VisionTransformer m, string p, string x)
    {
        ExportGraph g = c.Graph;
        string patches = Tokens(c, p, c.Child(m.conv_proj, p, "conv_proj", x));
        // The class token repeated over the batch: Expand to [N, 1, 1] broadcast with [1, 1, E].
        string batch = g.Node("Slice", p, [g.Node("Shape", p, [x], 1), g.Ints([0]), g.Ints([1])], 1);
        string classTokens = g.Node("Expand", p, [g.Weight(m.class_token, "class_token"), g.Node("Concat", p, [batch, g.Ints([1, 1])], 1, Attr("axis", 0L))], 3);
        string tokens = g.Node("Add", p, [g.Node("Concat", p, [classTokens, patches], 3, Attr("axis", 1L)), g.Weight(m.pos_embedding, "pos_embedding")]);
        string h = Blocks(c, m.blocks, p, c.Child(m.dropout, p, "dropout", tokens));
        string classState = g.Node("Gather", p, [c.Child(m.ln, p, "ln", h), g.Ints([0], scalar: true)], 2, Attr("axis", 1L));
        return c.Child(m.head, p, "head", classState);
    }

    // [N, C, H, W] → [N, H·W, C], as flatten(2).transpose(1, 2).
    private static string Tokens(ExportContext c, string p, string map) =>
        c.Graph.Node("Transpose", p, [c.Graph.Node("Reshape", p, [map, c.Graph.Ints([0, 0, -1])], 3)], 3, Attr("perm", 0, 2, 1));

    private static string Blocks(ExportContext c, ModuleList blocks, string p, string x) =>
        Enumerable.Range(0, blocks.Count).Aggregate(x, (h, i) => c.Child(blocks[i], p, $"blocks.{i}", h));
}
