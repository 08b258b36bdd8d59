using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>Runs one compiled node: its inputs in the node's order (null for an omitted optional input), its outputs.</summary>
internal delegate Tensor[] Kernel(Tensor?[] inputs);

/// <summary>Turns a node into a <see cref="Kernel"/> at load time; throws <see cref="NotSupportedException"/> for
/// attributes or forms it cannot run.</summary>
internal delegate Kernel KernelBuilder(NodeContext node);

/// <summary>What the model being built offers a node: trainable layers for its weights.</summary>
internal interface ILayerHost
{
    /// <summary>Whether input <paramref name="input"/> of the node is a float initializer that no other node reads.</summary>
    bool CanOwn(NodeContext node, int input);

    /// <summary>The initializer at <paramref name="input"/> (valid when <see cref="CanOwn"/>), without taking it.</summary>
    Tensor Peek(NodeContext node, int input);

    /// <summary>Hands the initializer at <paramref name="input"/> to the layer: it is recorded under
    /// <paramref name="stateName"/> (relative to the layer), transposed or not, and not registered on the model.</summary>
    Tensor Own(NodeContext node, int input, string stateName, bool transposed);

    /// <summary>Registers <paramref name="layer"/> as the node's child module and returns how to reach the child the
    /// slot holds at run time (LoRA replaces it).</summary>
    Func<Module> AddLayer(NodeContext node, Module layer);
}

/// <summary>One node being compiled: its attributes, inputs and outputs, the model's opset and file.</summary>
internal sealed class NodeContext(NodeProto node, string displayName, int opset, string modelPath, ILayerHost host)
{
    private readonly Dictionary<string, AttributeProto> _attributes = node.Attribute.ToDictionary(a => a.Name);

    public NodeProto Node => node;
    public int Opset => opset;
    public ILayerHost Host => host;

    /// <summary>The node as errors name it: file, name, operator and opset.</summary>
    public string Describe => $"{modelPath}: node '{displayName}' ({node.OpType}, opset {opset})";

    public bool HasInput(int i) => i < node.Input.Count && node.Input[i].Length > 0;

    public long Int(string name, long fallback) => _attributes.TryGetValue(name, out var a) ? a.I : fallback;

    public float Float(string name, float fallback) => _attributes.TryGetValue(name, out var a) ? a.F : fallback;

    public string String(string name, string fallback) => _attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    public AttributeProto? Attribute(string name) => _attributes.GetValueOrDefault(name);

    public string ModelPath => modelPath;

    /// <summary>Refuses a node that asks for more outputs than the operator computes here (e.g. MaxPool's indices).</summary>
    public void AllowOutputs(int count)
    {
        for (int i = count; i < node.Output.Count; i++)
            if (node.Output[i].Length > 0)
                throw Unsupported($"its output {i} ('{node.Output[i]}') is not computed (inference form only)");
    }

    public NotSupportedException Unsupported(string why) => new($"{Describe}: {why}");
}
