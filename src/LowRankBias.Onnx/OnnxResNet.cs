using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>
/// ResNets exported to ONNX (such as the ImageNet ResNet-18 of ML.NET's <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>,
/// a CNTK export) mapped onto the torchvision-layout <see cref="ResNet"/>, so they fine-tune, take LoRA and save as our
/// own models do. It lives here, not on <see cref="ResNet"/>, because the engine does not depend on the ONNX reader.
/// </summary>
/// <remarks>
/// The mapping follows the graph, not node names: the stem is the Conv → BatchNormalization → Relu → MaxPool after the
/// input; each residual block is the chain of Conv → BatchNormalization (→ Relu → Conv → BatchNormalization …) from the
/// block's input to an Add whose other input is that block input (identity shortcut) or a 1×1 Conv → BatchNormalization
/// of it (projection, <c>downsample</c>), followed by a Relu; a block whose convolutions have stride 2 starts a stage;
/// the graph ends in a global AveragePool (or GlobalAveragePool). Two convolutions per block are basic blocks, three
/// bottlenecks. Kernel sizes, strides, channel counts, leading pads and every BatchNormalization's epsilon must be
/// torchvision's; the trailing pads may be smaller (CNTK pads [3, 3, 2, 2] where torchvision pads 3 all round), which
/// changes nothing when every strided layer sees an even size — inputs that are multiples of 32, as 224 is. Anything
/// else is an <see cref="InvalidDataException"/> naming the node.
/// </remarks>
public static class OnnxResNet
{
    /// <summary>
    /// The ResNet in <paramref name="path"/> as a torchvision-layout <see cref="ResNet"/> (convolution and BatchNorm
    /// weights, running statistics; <c>num_batches_tracked</c> 0). With <paramref name="num_classes"/> 0 (the default)
    /// <see cref="ResNet.fc"/> is an <see cref="Identity"/> and the model returns the pooled features [N, 512] of a
    /// ResNet-18; otherwise <c>fc</c> is a new classifier of that many classes with PyTorch's Linear initialisation, to
    /// be trained. The pooling is adaptive, so any input size works (see the remarks for sizes equal to the graph's).
    /// </summary>
    public static ResNet load(string path, long num_classes = 0, Device? device = null, ScalarType? dtype = null)
    {
        if (num_classes < 0) throw new ArgumentException($"num_classes must be positive, or 0 for no classifier, got {num_classes}", nameof(num_classes));
        (ModelProto proto, _) = OnnxReader.Read(path);
        using DisposeScope scope = torch.NewDisposeScope();
        var graph = new ResNetGraph(proto.Graph, path);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        string[] bnKeys = ["weight", "bias", "running_mean", "running_var"];  // BatchNormalization's inputs 1–4
        foreach (ResNetGraph.Layer layer in graph.Layers)
        {
            state[layer.ConvKey + ".weight"] = Initializer(proto.Graph, layer.Conv.Input[1], path);
            for (int i = 0; i < 4; i++) state[$"{layer.BnKey}.{bnKeys[i]}"] = Initializer(proto.Graph, layer.Bn.Input[i + 1], path);
        }
        if (num_classes > 0)
        {
            using var fc = new Linear(state["conv1.weight"].size(0) * 8 * (graph.Bottleneck ? 4 : 1), num_classes);
            state["fc.weight"] = fc.weight.detach().clone();
            state["fc.bias"] = fc.bias!.detach().clone();
        }
        ResNet model = ResNet.from_state_dict(state, device, dtype);
        try
        {
            foreach (ResNetGraph.Layer layer in graph.Layers)
                graph.CheckGeometry(layer, (Conv2d)model.get_submodule(layer.ConvKey), ((BatchNorm2d)model.get_submodule(layer.BnKey)).eps);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// The featurizer's preprocessing (<c>ResNetPrepOnnx/ResNetPreprocess.onnx</c> of the same package: RGB → BGR, then
    /// the ImageNet mean image subtracted from pixels in [0, 255]) as an <see cref="ImagePreprocess"/>. The file must be
    /// that graph (Split of the channels, Concat of them reversed or not, Sub of a [1, C, H, W] initializer).
    /// </summary>
    public static ImagePreprocess load_preprocess(string path)
    {
        (ModelProto proto, _) = OnnxReader.Read(path);
        GraphProto g = proto.Graph;
        string Fail(string why) => throw new InvalidDataException($"{path}: not a channel-order-and-mean-image preprocessing graph: {why}");
        if (g.Node.Count != 3 || g.Node[0].OpType != "Split" || g.Node[1].OpType != "Concat" || g.Node[2].OpType != "Sub")
            Fail($"expected the nodes Split, Concat, Sub, got {string.Join(", ", g.Node.Select(n => n.OpType))}");
        NodeProto split = g.Node[0], concat = g.Node[1], sub = g.Node[2];
        if (Axis(split) != 1 || Axis(concat) != 1) Fail("Split and Concat must work on axis 1 (channels)");
        bool reversed = concat.Input.SequenceEqual(split.Output.Reverse());
        if (!reversed && !concat.Input.SequenceEqual(split.Output)) Fail("Concat must take Split's outputs in order or reversed");
        if (sub.Input.Count != 2 || sub.Input[0] != concat.Output[0]) Fail("Sub must subtract from Concat's output");
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor mean = Initializer(g, sub.Input[1], path);
        if (mean.dim() != 4 || mean.size(0) != 1 || mean.size(1) != split.Output.Count)
            Fail($"the subtracted '{sub.Input[1]}' has shape [{string.Join(", ", mean.shape)}], expected [1, {split.Output.Count}, H, W]");
        return new ImagePreprocess(mean.to(ScalarType.Float32), reversed);
    }

    private static long Axis(NodeProto node) => node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;

    private static Tensor Initializer(GraphProto graph, string name, string path)
    {
        TensorProto proto = graph.Initializer.FirstOrDefault(t => t.Name == name)
            ?? throw new InvalidDataException($"{path}: '{name}' is not an initializer, so its value is not known before running the graph");
        return OnnxTensors.ToTensor(proto, path, $"initializer '{name}'");
    }
}
