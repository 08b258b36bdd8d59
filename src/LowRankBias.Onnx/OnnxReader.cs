using Google.Protobuf;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>Reads and checks an .onnx file before anything is built from it: a protobuf that does not parse, or parses
/// into something without a graph, is an <see cref="InvalidDataException"/>; an opset outside
/// <see cref="OnnxModel.MinOpset"/>–<see cref="OnnxModel.MaxOpset"/> a <see cref="NotSupportedException"/>.</summary>
internal static class OnnxReader
{
    // Nesting deeper than this (graphs in attributes of graphs) is no model anyone exports; protobuf's default is 100.
    private const int RecursionLimit = 100;

    public static (ModelProto model, int opset) Read(string path)
    {
        ModelProto model = Parse(path);
        return (model, Opset(model, path));
    }

    /// <summary>The file parsed and checked to hold a graph, whatever its opset.</summary>
    public static ModelProto Parse(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model file '{path}' does not exist", path);
        ModelProto model;
        try
        {
            using FileStream stream = File.OpenRead(path);
            // Files up to protobuf's 2 GiB; larger models keep their weights in external data files.
            model = ModelProto.Parser.ParseFrom(CodedInputStream.CreateWithLimits(stream, int.MaxValue, RecursionLimit));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path} is not a valid ONNX model (truncated or not a protobuf ModelProto): {e.Message}", e);
        }
        if (model.IrVersion <= 0 || model.Graph is null || model.Graph.Node.Count == 0)
            throw new InvalidDataException($"{path} is not an ONNX model: it has no ir_version or no graph with nodes");
        return model;
    }

    private static int Opset(ModelProto model, string path)
    {
        // The default domain is "" or "ai.onnx"; a model without opset_import predates IR version 3 (opset 1).
        OperatorSetIdProto? main = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        long version = main?.Version ?? 1;
        if (version < OnnxModel.MinOpset || version > OnnxModel.MaxOpset)
            throw new NotSupportedException($"{path} uses ONNX opset {version}; LowRankBias.Onnx reads opsets {OnnxModel.MinOpset} to {OnnxModel.MaxOpset}");
        return (int)version;
    }
}
