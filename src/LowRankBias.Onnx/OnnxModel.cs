using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Onnx;

/// <summary>
/// An ONNX model as a trainable <see cref="Module"/>. <see cref="load"/> reads the file and builds the graph once:
/// nodes in topological order, each operator resolved (an unsupported one is a <see cref="NotSupportedException"/>
/// naming it, its node and the opset), shape computations on constants folded. Float initializers become parameters
/// named after them (made identifiers: <c>fc1.weight</c> → <c>fc1_weight</c>; <see cref="initializers"/> maps back),
/// BatchNormalization statistics and integer initializers buffers; Conv/Gemm/MatMul nodes whose weight is an
/// initializer of their own become <see cref="Conv2d"/>/<see cref="Linear"/> children named after the node, which LoRA
/// targets by name. BatchNormalization and Dropout always run in their inference form, as the file describes them.
/// </summary>
public sealed class OnnxModel : Module
{
    /// <summary>The oldest default-domain opset read.</summary>
    public const int MinOpset = 8;

    /// <summary>The newest default-domain opset read.</summary>
    public const int MaxOpset = 17;

    private readonly Step[] _steps;
    private readonly Tensor?[] _fixed;
    private readonly int[] _inputSlots, _outputSlots;

    private OnnxModel(string path)
    {
        (global::Onnx.ModelProto proto, int opset) = OnnxReader.Read(path);
        this.path = path;
        opset_version = opset;
        using var scope = torch.NewDisposeScope();
        var builder = new GraphBuilder(this, proto, opset, path);
        try
        {
            builder.Build();
        }
        catch
        {
            Dispose();  // nothing half-loaded: parameters, buffers and layers made so far are freed
            throw;
        }
        input_names = builder.Inputs;
        output_names = builder.Outputs;
        nodes = builder.Nodes;
        initializers = builder.Initializers;
        _steps = [.. builder.Steps];
        _fixed = builder.FixedValues;
        _inputSlots = builder.InputSlots;
        _outputSlots = builder.OutputSlots;
    }

    /// <summary>Reads <paramref name="path"/>. A file that is not ONNX, is truncated, or whose external data is missing
    /// is an <see cref="InvalidDataException"/>; an opset outside <see cref="MinOpset"/>–<see cref="MaxOpset"/> or an
    /// operator not supported a <see cref="NotSupportedException"/>; both name the file and the cause.</summary>
    public static OnnxModel load(string path) => new(path);

    /// <summary>The file the model was read from.</summary>
    public string path { get; }

    /// <summary>The default domain's opset the file imports.</summary>
    public int opset_version { get; }

    /// <summary>The graph's inputs (initializers listed as inputs by old exporters excluded), in order.</summary>
    public IReadOnlyList<string> input_names { get; }

    /// <summary>The graph's outputs, in order.</summary>
    public IReadOnlyList<string> output_names { get; }

    /// <summary>The nodes in the order they run (folded ones computed at load time).</summary>
    public IReadOnlyList<OnnxNode> nodes { get; }

    /// <summary>The initializers in file order, with the state_dict key each became.</summary>
    public IReadOnlyList<OnnxInitializer> initializers { get; }

    /// <summary>The single output for the single input; a graph with several of either runs through <see cref="run"/>.</summary>
    public override Tensor forward(Tensor input)
    {
        if (_outputSlots.Length != 1)
            throw new InvalidOperationException($"{path} has {_outputSlots.Length} outputs ({string.Join(", ", output_names)}); call run to get them all");
        return run(input)[0];
    }

    /// <summary>Runs the graph on <paramref name="inputs"/> (in the order of <see cref="input_names"/>) and returns every
    /// output in the order of <see cref="output_names"/>. Intermediate values are freed as soon as no node reads them.</summary>
    public Tensor[] run(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != _inputSlots.Length)
            throw new ArgumentException($"{path} takes {_inputSlots.Length} input(s) ({string.Join(", ", input_names)}), got {inputs.Length}", nameof(inputs));
        var values = (Tensor?[])_fixed.Clone();
        for (int i = 0; i < inputs.Length; i++) values[_inputSlots[i]] = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input '{input_names[i]}' is null");
        foreach (Step step in _steps)
        {
            Tensor?[] args = step.Inputs.Select(s => s < 0 ? null : values[s]).ToArray();
            Tensor[] results = GraphBuilder.Run(step.Node, step.Kernel, args);
            for (int k = 0; k < results.Length; k++)
            {
                if (k < step.Outputs.Length && step.Outputs[k] >= 0) values[step.Outputs[k]] = results[k];
                else results[k].Dispose();
            }
            foreach (int slot in step.FreeAfter)
            {
                values[slot]?.Dispose();
                values[slot] = null;
            }
        }
        // An output that is an input, parameter or constant is handed out as an alias, so disposing it frees nothing of ours.
        return _outputSlots.Select(s => _steps.Any(st => st.Outputs.Contains(s)) ? values[s]! : values[s]!.alias()).ToArray();
    }

    /// <inheritdoc />
    public override string extra_repr() => $"path={path}, opset={opset_version}, nodes={nodes.Count}";
}
