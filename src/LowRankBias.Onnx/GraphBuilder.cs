using System.Text.RegularExpressions;
using LowRankBias.Onnx.Ops;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using Onnx;

namespace LowRankBias.Onnx;

/// <summary>One compiled node: slots of its inputs (−1 when omitted) and outputs (−1 when unused), the slots whose
/// last reader it is (freed after it runs).</summary>
internal sealed record Step(OnnxNode Node, Kernel Kernel, int[] Inputs, int[] Outputs)
{
    public int[] FreeAfter { get; set; } = [];
}

/// <summary>
/// Builds an <see cref="OnnxModel"/> from a parsed file: checks the graph (every input defined, no cycle, every
/// operator supported) before building anything, orders the nodes topologically, compiles each node once, registers
/// initializers as parameters and buffers, and folds nodes whose inputs are all constants.
/// </summary>
internal sealed partial class GraphBuilder(OnnxModel model, ModelProto proto, int opset, string path) : ILayerHost
{
    private readonly Dictionary<string, Tensor> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(NodeProto node, int input)>> _uses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string key, bool transposed)> _owned = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeProto, string> _layers = [];
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<Tensor?> _fixed = [];
    private readonly HashSet<string> _constants = new(StringComparer.Ordinal);

    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public List<Step> Steps { get; } = [];
    public List<OnnxNode> Nodes { get; } = [];
    public List<OnnxInitializer> Initializers { get; } = [];
    public int[] InputSlots { get; private set; } = [];
    public int[] OutputSlots { get; private set; } = [];
    public Tensor?[] FixedValues => [.. _fixed];

    [GeneratedRegex("[^A-Za-z0-9_]+")]
    private static partial Regex NotIdentifier();

    public void Build()
    {
        GraphProto graph = proto.Graph;
        if (graph.SparseInitializer.Count > 0)
            throw new NotSupportedException($"{path}: sparse initializers ('{graph.SparseInitializer[0].Values?.Name}') are not supported");
        List<NodeProto> order = Order(graph);
        CheckOperators(order);
        foreach (TensorProto t in graph.Initializer)
            _initializers[t.Name] = OnnxTensors.ToTensor(t, path, $"initializer '{t.Name}'");
        foreach (NodeProto node in order)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i].Length > 0) Uses(node.Input[i]).Add((node, i));
        var kernels = order.Select((node, index) => (node, kernel: Compile(node, index))).ToList();
        RegisterInitializers();
        foreach (string input in Inputs) Slot(input);
        InputSlots = Inputs.Select(n => _slots[n]).ToArray();
        FoldAndLink(kernels);
        OutputSlots = Outputs.Select(n => _slots[n]).ToArray();
        PlanFrees();
    }

    private List<(NodeProto node, int input)> Uses(string name) =>
        _uses.TryGetValue(name, out var list) ? list : _uses[name] = [];

    // Kahn's order over value names; a value nobody provides, a name written twice or a cycle is a broken file.
    private List<NodeProto> Order(GraphProto graph)
    {
        var available = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorProto t in graph.Initializer)
            if (t.Name.Length == 0 || !available.Add(t.Name))
                throw new InvalidDataException($"{path}: an initializer is {(t.Name.Length == 0 ? "unnamed" : $"named '{t.Name}' twice")}");
        foreach (ValueInfoProto input in graph.Input)
            if (!available.Contains(input.Name)) { Inputs.Add(input.Name); available.Add(input.Name); }
        Outputs.AddRange(graph.Output.Select(o => o.Name));
        _graphOutputs.UnionWith(Outputs);
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
            foreach (string output in node.Output.Where(o => o.Length > 0))
                if (available.Contains(output) || !producer.TryAdd(output, node))
                    throw new InvalidDataException($"{path}: the value '{output}' is defined twice (node '{node.Name}')");
        var order = new List<NodeProto>();
        var pending = graph.Node.ToList();
        while (pending.Count > 0)
        {
            var ready = pending.Where(n => n.Input.All(i => i.Length == 0 || available.Contains(i))).ToList();
            if (ready.Count == 0)
            {
                NodeProto stuck = pending[0];
                string missing = stuck.Input.First(i => i.Length > 0 && !available.Contains(i));
                throw new InvalidDataException(producer.ContainsKey(missing)
                    ? $"{path}: the graph has a cycle through node '{stuck.Name}' ({stuck.OpType})"
                    : $"{path}: node '{stuck.Name}' ({stuck.OpType}) reads '{missing}', which no node, input or initializer provides");
            }
            foreach (NodeProto node in ready)
            {
                order.Add(node);
                available.UnionWith(node.Output.Where(o => o.Length > 0));
            }
            pending.RemoveAll(ready.Contains);
        }
        foreach (string output in Outputs.Where(o => !available.Contains(o)))
            throw new InvalidDataException($"{path}: the graph output '{output}' is never computed");
        return order;
    }

    // One clear error for the first operator this package cannot run, before any tensor is made.
    private void CheckOperators(List<NodeProto> order)
    {
        foreach (NodeProto node in order)
            if (node.Domain is not ("" or "ai.onnx") || !OnnxOps.Builders.ContainsKey(node.OpType))
                throw new NotSupportedException(
                    $"{path}: node '{node.Name}' uses operator '{node.OpType}'{(node.Domain is "" or "ai.onnx" ? "" : $" of domain '{node.Domain}'")} " +
                    $"(opset {opset}), which LowRankBias.Onnx does not support. Supported: {string.Join(", ", OnnxOps.Builders.Keys.Order(StringComparer.Ordinal))}");
    }

    private Kernel Compile(NodeProto node, int index)
    {
        string display = node.Name.Length > 0 ? node.Name : $"{node.OpType}_{index}";
        var context = new NodeContext(node, display, opset, path, this);
        Kernel kernel = OnnxOps.Builders[node.OpType](context);
        Nodes.Add(new OnnxNode(display, node.OpType, [.. node.Input], [.. node.Output], _layers.GetValueOrDefault(node), folded: false));
        return kernel;
    }

    public bool CanOwn(NodeContext node, int input) =>
        node.HasInput(input) && node.Node.Input[input] is string name
        && _initializers.TryGetValue(name, out Tensor? t) && t.dtype.IsFloatingPoint() && !_owned.ContainsKey(name)
        && Uses(name).Count == 1 && !_graphOutputs.Contains(name);

    public Tensor Peek(NodeContext node, int input) => _initializers[node.Node.Input[input]];

    public Tensor Own(NodeContext node, int input, string stateName, bool transposed)
    {
        string name = node.Node.Input[input];
        _owned[name] = (LayerName(node) + "." + stateName, transposed);
        return _initializers[name];
    }

    public Func<Module> AddLayer(NodeContext node, Module layer)
    {
        string name = LayerName(node);
        model.register_module(name, layer);
        return () => model.get_submodule(name);
    }

    private string LayerName(NodeContext node)
    {
        if (!_layers.TryGetValue(node.Node, out string? name))
            _layers[node.Node] = name = Identifier(node.Node.Name.Length > 0 ? node.Node.Name : node.Node.OpType);
        return name;
    }

    /// <summary>An ONNX name as a unique module/parameter name: runs of other characters become '_' ("/fc1/Gemm" → "fc1_Gemm",
    /// "fc1.weight" → "fc1_weight"), a clash gets "_2", "_3", ….</summary>
    private string Identifier(string onnxName)
    {
        string name = NotIdentifier().Replace(onnxName, "_").Trim('_');
        if (name.Length == 0) name = "value";
        string unique = name;
        for (int k = 2; !_names.Add(unique); k++) unique = $"{name}_{k}";
        return unique;
    }

    // Float initializers are parameters, except BatchNormalization's running statistics (buffers, as in PyTorch); the
    // rest (integer shapes, indices) are buffers. Owned ones live in their layers.
    private void RegisterInitializers()
    {
        foreach (TensorProto t in proto.Graph.Initializer)
        {
            Tensor value = _initializers[t.Name];
            if (_owned.TryGetValue(t.Name, out var owned))
            {
                Initializers.Add(new OnnxInitializer(t.Name, owned.key, [.. t.Dims], value.dtype, is_parameter: true, owned.transposed));
                continue;
            }
            bool statistic = Uses(t.Name).Count > 0 && Uses(t.Name).All(u => u.node.OpType == "BatchNormalization" && u.input >= 3);
            bool parameter = value.dtype.IsFloatingPoint() && !statistic;
            string key = Identifier(t.Name);
            Tensor registered = parameter ? model.register_parameter(key, value) : model.register_buffer(key, value);
            Initializers.Add(new OnnxInitializer(t.Name, key, [.. t.Dims], value.dtype, parameter, transposed: false));
            _slots[t.Name] = _fixed.Count;
            _fixed.Add(registered);
            if (!parameter && !value.dtype.IsFloatingPoint()) _constants.Add(t.Name);
        }
    }

    private int Slot(string name)
    {
        if (!_slots.TryGetValue(name, out int slot)) { _slots[name] = slot = _fixed.Count; _fixed.Add(null); }
        return slot;
    }

    // Nodes whose inputs are all constants (integer initializers, Constant nodes, earlier folds) run now, once; their
    // outputs become non-persistent buffers (moved by to(device) with the model, absent from state_dict).
    private void FoldAndLink(List<(NodeProto node, Kernel kernel)> kernels)
    {
        for (int index = 0; index < kernels.Count; index++)
        {
            (NodeProto node, Kernel kernel) = kernels[index];
            OnnxNode info = Nodes[index];
            bool foldable = info.module is null && node.Input.All(i => i.Length == 0 || _constants.Contains(i));
            if (foldable)
            {
                Tensor?[] args = node.Input.Select(i => i.Length == 0 ? null : _fixed[_slots[i]]).ToArray();
                Tensor[] results;
                using (torch.no_grad()) results = Run(info, kernel, args);
                for (int k = 0; k < node.Output.Count && k < results.Length; k++)
                {
                    if (node.Output[k].Length == 0) continue;
                    Tensor value = model.register_buffer("const_" + Identifier(node.Output[k]), results[k], persistent: false);
                    _slots[node.Output[k]] = _fixed.Count;
                    _fixed.Add(value);
                    _constants.Add(node.Output[k]);
                }
                Nodes[index] = info with { folded = true };
                continue;
            }
            int[] inputs = node.Input.Select(i => i.Length == 0 || _owned.ContainsKey(i) ? -1 : _slots[i]).ToArray();  // owned: read by the layer
            int[] outputs = node.Output.Select(o => o.Length == 0 ? -1 : Slot(o)).ToArray();
            Steps.Add(new Step(info, kernel, inputs, outputs));
        }
    }

    // Values computed by a step are freed after their last reader, unless they are graph outputs.
    private void PlanFrees()
    {
        var last = new Dictionary<int, int>();
        var outputSlots = new HashSet<int>(OutputSlots);
        var produced = new HashSet<int>(Steps.SelectMany(s => s.Outputs).Where(s => s >= 0));
        for (int k = 0; k < Steps.Count; k++)
        {
            foreach (int slot in Steps[k].Inputs.Concat(Steps[k].Outputs))
                if (slot >= 0 && produced.Contains(slot) && !outputSlots.Contains(slot)) last[slot] = k;
        }
        for (int k = 0; k < Steps.Count; k++)
            Steps[k].FreeAfter = last.Where(e => e.Value == k).Select(e => e.Key).ToArray();
    }

    /// <summary>Runs one kernel in a dispose scope of its own; its outputs (never one of its inputs: an identity returns an
    /// alias) leave the scope. Failures name the node.</summary>
    public static Tensor[] Run(OnnxNode node, Kernel kernel, Tensor?[] args)
    {
        using var scope = torch.NewDisposeScope();
        Tensor[] results;
        try
        {
            results = kernel(args);
        }
        catch (Exception e) when (e is TorchException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidOperationException($"ONNX node '{node.name}' ({node.op_type}) failed: {e.Message}", e);
        }
        for (int k = 0; k < results.Length; k++)
        {
            if (args.Any(a => ReferenceEquals(a, results[k]))) results[k] = results[k].alias();
            results[k].MoveToOuterDisposeScope();
        }
        return results;
    }
}
