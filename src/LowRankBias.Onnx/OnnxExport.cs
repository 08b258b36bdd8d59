using Google.Protobuf;
using LowRankBias.Onnx.Export;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>
/// Writes our models as ONNX files (PyTorch's <c>torch.onnx.export</c>): <see cref="export_onnx"/>.
/// </summary>
public static class OnnxExport
{
    /// <summary>The oldest opset written (Squeeze, Unsqueeze and Split take their axes as inputs from 13 on).</summary>
    public const int MinOpset = 13;

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> as an ONNX model (IR version 8) of
    /// <paramref name="opset_version"/> (13–17; LayerNorm needs 17), for inputs like <paramref name="example_input"/>:
    /// its dtype and rank, axis 0 dynamic ("batch"), and for token ids (an int64 [N, L] input) axis 1 too ("sequence");
    /// the output's axes 0 (and 1) are named alike. Inputs and outputs are named "input" and "output"; initializers carry
    /// the state-dict keys (a tied weight once, under its first key). The graph computes the model's inference forward
    /// (dropout off, BatchNorm with running statistics, as <c>torch.onnx.export</c> exports by default); the model runs
    /// once on <paramref name="example_input"/> in eval mode for the output's shape, and its train/eval state is restored.
    /// </summary>
    /// <remarks>
    /// Each module type has an emitter that writes the nodes its forward computes, walking the tree in forward order
    /// (no tracing): the models MLP, ConvNet, ResNet (basic and bottleneck blocks), VisionTransformer, MlpMixer and GPT,
    /// and the layers they are built of (Linear, Conv2d, BatchNorm2d, FrozenBatchNorm2d, LayerNorm, Embedding,
    /// MaxPool2d, global AdaptiveAvgPool2d, ImagePreprocess, ReLU, GELU, SiLU, Tanh, Sigmoid, Identity, Dropout, Sequential, MlpBlock,
    /// MultiheadSelfAttention, TransformerBlock, MixerBlock). Any other module is a <see cref="NotSupportedException"/>
    /// naming its path and type; LoRA and other adapter layers an <see cref="InvalidOperationException"/>: merge them
    /// into the weights first (<c>LoraModel.merge_and_unload()</c>) and export the model it returns. Nothing is written
    /// unless the whole graph could be built; the file is written atomically.
    /// </remarks>
    public static void export_onnx(this Module model, string path, Tensor example_input, int opset_version = OnnxModel.MaxOpset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(example_input);
        if (opset_version < MinOpset || opset_version > OnnxModel.MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset_version), opset_version, $"the exporter writes opsets {MinOpset} to {OnnxModel.MaxOpset}");
        if (example_input.dim() == 0)
            throw new ArgumentException("example_input must have a batch axis (dimension 0)", nameof(example_input));
        var adapters = model.named_modules().Where(m => m.module.GetType().Namespace is { } ns
            && (ns.StartsWith("LowRankBias.Lora", StringComparison.Ordinal) || ns.StartsWith("LowRankBias.Lte", StringComparison.Ordinal)))
            .Select(m => $"'{(m.name.Length == 0 ? "(the model)" : m.name)}' ({m.module.GetType().Name})").ToList();
        if (adapters.Count > 0)
            throw new InvalidOperationException($"export_onnx: {string.Join(", ", adapters.Take(4))}{(adapters.Count > 4 ? ", …" : "")} hold adapters; " +
                "merge them into the weights first (LoraModel.merge_and_unload()) and export the model that returns");

        long[] outputShape;
        ScalarType outputType;
        using (DisposeScope scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var modes = model.named_modules().Select(m => (m.module, m.module.training)).ToList();
            model.eval();
            try
            {
                Tensor y = model.call(example_input);
                (outputShape, outputType) = (y.shape, y.dtype);
            }
            finally
            {
                foreach ((Module module, bool training) in modes) module.train(training);
            }
        }

        var dynamic = new Dictionary<int, string> { [0] = "batch" };
        if (example_input.dtype == ScalarType.Int64 && example_input.dim() == 2) dynamic[1] = "sequence";
        var graph = new ExportGraph(model, opset_version);
        string input = graph.Input("input", example_input.dtype, example_input.shape, dynamic);
        string output = new ExportContext(graph).Emit(model, "", input);
        graph.Output(output, "output", outputType, outputShape, dynamic.Where(d => d.Key < outputShape.Length).ToDictionary());
        var proto = new ModelProto
        {
            IrVersion = 8, ProducerName = "LowRankBias", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset_version } }, Graph = graph.Graph,
        };
        string full = Path.GetFullPath(path), temporary = full + ".tmp";
        using (FileStream stream = File.Create(temporary)) proto.WriteTo(stream);
        File.Move(temporary, full, overwrite: true);
    }
}
