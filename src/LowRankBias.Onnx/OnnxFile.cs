using LowRankBias.Torch;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>An ONNX file's weights without building its model (what <c>onnx.numpy_helper.to_array</c> gives over
/// <c>model.graph.initializer</c>), for tools that only read them.</summary>
public static class OnnxFile
{
    /// <summary>
    /// Every initializer of <paramref name="path"/>'s graph, by name in file order, as tensors of its element type and
    /// shape (external data read from the model's directory), whatever the opset and operators. The caller owns them. A
    /// file that is not ONNX, or an unnamed or twice-named initializer, is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static Dictionary<string, Tensor> load_initializers(string path)
    {
        ModelProto model = OnnxReader.Parse(path);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorProto t in model.Graph.Initializer)
            if (t.Name.Length == 0 || !names.Add(t.Name))
                throw new InvalidDataException($"{path}: an initializer is {(t.Name.Length == 0 ? "unnamed" : $"named '{t.Name}' twice")}");
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using DisposeScope scope = torch.NewDisposeScope();
        foreach (TensorProto t in model.Graph.Initializer) result[t.Name] = OnnxTensors.ToTensor(t, path, $"initializer '{t.Name}'");
        foreach (Tensor t in result.Values) t.DetachFromDisposeScope();
        return result;
    }
}
