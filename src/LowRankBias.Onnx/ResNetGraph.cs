using LowRankBias.Torch.Modules;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>Finds a ResNet's layers in an ONNX graph by its structure (see <see cref="OnnxResNet"/>): every
/// Conv → BatchNormalization pair with the torchvision state-dict prefixes it becomes.</summary>
internal sealed class ResNetGraph
{
    /// <summary>A Conv, the BatchNormalization after it, and the torchvision names of the two.</summary>
    public sealed record Layer(string ConvKey, string BnKey, NodeProto Conv, NodeProto Bn);

    private readonly string _path;
    private readonly Dictionary<string, List<NodeProto>> _readers = new(StringComparer.Ordinal);

    public ResNetGraph(GraphProto graph, string path)
    {
        _path = path;
        foreach (NodeProto node in graph.Node)
            foreach (string input in node.Input.Where(i => i.Length > 0))
                (_readers.TryGetValue(input, out var list) ? list : _readers[input] = []).Add(node);
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Select(i => i.Name).Where(n => !initializers.Contains(n)).ToList();
        if (inputs.Count != 1) throw Invalid($"a ResNet has one input, the graph has {inputs.Count} ({string.Join(", ", inputs)})");

        NodeProto stem = Single(inputs[0], "Conv");
        NodeProto stemBn = Single(stem.Output[0], "BatchNormalization");
        NodeProto maxpool = Single(Single(stemBn.Output[0], "Relu").Output[0], "MaxPool");
        CheckPool(maxpool, 3, 2, 1);
        Layers.Add(new Layer("conv1", "bn1", stem, stemBn));

        string current = maxpool.Output[0];
        int stage = 0, block = 0, branchLength = 0;
        while (true)
        {
            List<NodeProto> readers = _readers.GetValueOrDefault(current) ?? [];
            if (readers.Count == 1 && readers[0].OpType is "AveragePool" or "GlobalAveragePool")
            {
                if (!graph.Output.Any(o => o.Name == readers[0].Output[0]))
                    throw Invalid($"the pooling '{readers[0].Name}' must end the graph (a features model), but its output is read further");
                break;
            }
            (List<(NodeProto conv, NodeProto bn)> branch, (NodeProto conv, NodeProto bn)? shortcut, NodeProto relu) = Block(current, readers);
            if (branchLength == 0) branchLength = branch.Count;
            if (branch.Count != branchLength || branch.Count is not (2 or 3))
                throw Invalid($"the block at '{current}' has {branch.Count} convolutions on its residual branch; a ResNet's blocks all have 2 (basic) or all 3 (bottleneck)");
            bool strided = branch.Any(p => Strides(p.conv).Any(s => s != 1));
            if (Layers.Count > 1 && strided) (stage, block) = (stage + 1, 0);
            string prefix = $"layer{stage + 1}.{block}";
            for (int k = 0; k < branch.Count; k++) Layers.Add(new Layer($"{prefix}.conv{k + 1}", $"{prefix}.bn{k + 1}", branch[k].conv, branch[k].bn));
            if (shortcut is { } s2) Layers.Add(new Layer($"{prefix}.downsample.0", $"{prefix}.downsample.1", s2.conv, s2.bn));
            block++;
            current = relu.Output[0];
        }
        if (stage != 3) throw Invalid($"found {stage + 1} stages of residual blocks, a ResNet has 4");
        Bottleneck = branchLength == 3;
    }

    /// <summary>Every Conv → BatchNormalization pair, in graph order within each block.</summary>
    public List<Layer> Layers { get; } = [];

    /// <summary>Whether the blocks are bottlenecks (three convolutions).</summary>
    public bool Bottleneck { get; }

    /// <summary>Throws unless the nodes compute what the torchvision layer <paramref name="conv"/> and a BatchNorm of
    /// epsilon <paramref name="eps"/> compute (see <see cref="OnnxResNet"/> for the trailing pads).</summary>
    public void CheckGeometry(Layer layer, Conv2d conv, double eps)
    {
        NodeProto c = layer.Conv;
        if (c.Input.Count > 2 && c.Input[2].Length > 0) throw Invalid($"Conv '{c.Name}' has a bias; torchvision's ResNet convolutions have none");
        long[] strides = Strides(c), dilations = Ints(c, "dilations") ?? [1, 1];
        long[] pads = Ints(c, "pads") ?? [0, 0, 0, 0];
        string autoPad = c.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        if (Int(c, "group", 1) != 1 || !dilations.All(d => d == 1) || autoPad is not ("NOTSET" or "") || !strides.SequenceEqual(conv.stride)
            || pads.Length != 4 || pads[0] != conv.padding[0] || pads[1] != conv.padding[1] || !TrailingPadsFit(pads, strides))
            throw Invalid($"Conv '{c.Name}' (strides [{string.Join(", ", strides)}], pads [{string.Join(", ", pads)}], auto_pad {autoPad}) is not " +
                $"'{layer.ConvKey}' of torchvision's ResNet (stride {conv.stride[0]}, padding {conv.padding[0]}, no groups or dilation)");
        NodeProto bn = layer.Bn;
        double epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
        if (Math.Abs(epsilon - eps) > 1e-6 * eps || Int(bn, "spatial", 1) != 1)
            throw Invalid($"BatchNormalization '{bn.Name}' has epsilon {epsilon:G6} (spatial {Int(bn, "spatial", 1)}); '{layer.BnKey}' normalises per channel with epsilon {eps:G6}");
    }

    // Trailing pads may be up to stride − 1 short of the leading ones: the same output at even sizes.
    private static bool TrailingPadsFit(long[] pads, long[] strides) =>
        pads[2] <= pads[0] && pads[3] <= pads[1] && pads[0] - pads[2] < strides[0] && pads[1] - pads[3] < strides[1];

    private (List<(NodeProto conv, NodeProto bn)> branch, (NodeProto conv, NodeProto bn)? shortcut, NodeProto relu) Block(string input, List<NodeProto> readers)
    {
        List<NodeProto> convs = readers.Where(r => r.OpType == "Conv").ToList();
        if (convs.Count is not (1 or 2) || readers.Any(r => r.OpType is not ("Conv" or "Add")))
            throw Invalid($"'{input}' should start a residual block (one or two Conv, an Add for the identity shortcut), but is read by " +
                string.Join(", ", readers.Select(r => $"{r.OpType} '{r.Name}'")));
        (NodeProto conv, NodeProto bn)? shortcut = null;
        List<(NodeProto conv, NodeProto bn)>? branch = null;
        foreach (NodeProto first in convs)
        {
            var chain = new List<(NodeProto conv, NodeProto bn)>();
            NodeProto conv = first;
            while (true)
            {
                NodeProto bn = Single(conv.Output[0], "BatchNormalization");
                chain.Add((conv, bn));
                NodeProto next = Single(bn.Output[0], "Relu", "Add");
                if (next.OpType == "Add") break;
                conv = Single(next.Output[0], "Conv");
            }
            if (chain.Count == 1 && convs.Count == 2) shortcut = chain[0];
            else branch = chain;
        }
        if (branch is null) throw Invalid($"no residual branch found after '{input}'");
        NodeProto add = Single(branch[^1].bn.Output[0], "Add");
        string other = add.Input[0] == branch[^1].bn.Output[0] ? add.Input[1] : add.Input[0];
        if (other != (shortcut is { } s ? s.bn.Output[0] : input))
            throw Invalid($"Add '{add.Name}' adds '{other}', neither the block's input '{input}' nor its 1×1 projection");
        return (branch, shortcut, Single(add.Output[0], "Relu"));
    }

    private void CheckPool(NodeProto pool, long kernel, long stride, long pad)
    {
        long[] k = Ints(pool, "kernel_shape") ?? [], s = Strides(pool), p = Ints(pool, "pads") ?? [0, 0, 0, 0];
        if (!k.SequenceEqual([kernel, kernel]) || !s.SequenceEqual([stride, stride]) || p.Length != 4 || p[0] != pad || p[1] != pad || !TrailingPadsFit(p, s))
            throw Invalid($"MaxPool '{pool.Name}' (kernel [{string.Join(", ", k)}], strides [{string.Join(", ", s)}], pads [{string.Join(", ", p)}]) " +
                $"is not torchvision's {kernel}×{kernel} max pooling with stride {stride} and padding {pad}");
    }

    private NodeProto Single(string value, params string[] opTypes)
    {
        List<NodeProto> readers = _readers.GetValueOrDefault(value) ?? [];
        List<NodeProto> matching = readers.Where(r => opTypes.Contains(r.OpType)).ToList();
        return matching.Count == 1 ? matching[0]
            : throw Invalid($"expected one {string.Join(" or ", opTypes)} reading '{value}', found " +
                (readers.Count == 0 ? "no reader" : string.Join(", ", readers.Select(r => $"{r.OpType} '{r.Name}'"))));
    }

    private static long[] Strides(NodeProto node) => Ints(node, "strides") ?? [1, 1];

    private static long[]? Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray();

    private static long Int(NodeProto node, string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    private InvalidDataException Invalid(string why) => new($"{_path}: not a torchvision-layout ResNet: {why}");
}
