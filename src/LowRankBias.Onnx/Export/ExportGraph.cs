using System.Runtime.InteropServices;
using Google.Protobuf;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LowRankBias.Onnx.Export;

/// <summary>
/// The ONNX graph being written: nodes in the order emitters add them, one initializer per parameter or buffer named
/// after its state-dict key (a tensor shared by two modules — GPT's tied embedding — once, under its first key), small
/// integer and float constants as Constant nodes, and the rank of every value so emitters know their input's shape.
/// </summary>
internal sealed class ExportGraph
{
    private readonly GraphProto _graph = new() { Name = "LowRankBias" };
    private readonly Dictionary<Tensor, string> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);
    private int _counter;

    public ExportGraph(Module model, int opset)
    {
        Opset = opset;
        // Keys in state-dict order, so a shared tensor is named by its first key, as torch.onnx.export names it.
        foreach ((string key, Tensor tensor) in model.named_parameters().Concat(model.named_buffers()))
            _keys.TryAdd(tensor, key);
    }

    public GraphProto Graph => _graph;

    public int Opset { get; }

    /// <summary>The rank of <paramref name="value"/>.</summary>
    public int Rank(string value) => _ranks[value];

    /// <summary>Declares the graph input <paramref name="name"/> of <paramref name="dtype"/> and shape
    /// <paramref name="shape"/>, axis 0 the dynamic "batch" (and the others named in <paramref name="dynamic"/>).</summary>
    public string Input(string name, ScalarType dtype, long[] shape, IReadOnlyDictionary<int, string> dynamic)
    {
        _graph.Input.Add(ValueInfo(name, dtype, shape, dynamic));
        _ranks[name] = shape.Length;
        return name;
    }

    /// <summary>Declares <paramref name="value"/> the graph output <paramref name="name"/> (an Identity node renames it).</summary>
    public void Output(string value, string name, ScalarType dtype, long[] shape, IReadOnlyDictionary<int, string> dynamic)
    {
        _graph.Node.Add(new NodeProto { OpType = "Identity", Name = name, Input = { value }, Output = { name } });
        _graph.Output.Add(ValueInfo(name, dtype, shape, dynamic));
    }

    /// <summary>The initializer holding <paramref name="tensor"/>, a parameter or buffer of the exported model.</summary>
    public string Weight(Tensor tensor, string what)
    {
        if (!_keys.TryGetValue(tensor, out string? key))
            throw new InvalidOperationException($"{what} is not a parameter or buffer of the exported model, so it has no state-dict key to name it");
        if (_initializers.Add(key)) _graph.Initializer.Add(ToProto(tensor, key));
        _ranks[key] = (int)tensor.dim();
        return key;
    }

    /// <summary>A Constant node holding int64 <paramref name="values"/> (a 1-D tensor, or a scalar when
    /// <paramref name="scalar"/>).</summary>
    public string Ints(long[] values, bool scalar = false)
    {
        var tensor = new TensorProto { DataType = (int)DataType.Int64, Int64Data = { values } };
        if (!scalar) tensor.Dims.Add(values.Length);
        return Constant(tensor, scalar ? 0 : 1);
    }

    /// <summary>A Constant node holding the float32 scalar <paramref name="value"/>.</summary>
    public string Float(float value) => Constant(new TensorProto { DataType = (int)DataType.Float, FloatData = { value } }, 0);

    /// <summary>Adds a node <paramref name="opType"/> of <paramref name="inputs"/> ("" for an omitted optional input)
    /// with one output of rank <paramref name="rank"/> (when null the largest input rank, as broadcasting gives), named
    /// after <paramref name="path"/>.</summary>
    public string Node(string opType, string path, string[] inputs, int? rank = null, params AttributeProto[] attributes)
    {
        string output = path.Length == 0 ? $"/{opType}_{_counter++}" : $"/{path}/{opType}_{_counter++}";
        _graph.Node.Add(new NodeProto { OpType = opType, Name = output, Input = { inputs }, Output = { output }, Attribute = { attributes } });
        _ranks[output] = rank ?? inputs.Where(i => i.Length > 0).Max(i => _ranks[i]);
        return output;
    }

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, params long[] values) => new() { Name = name, Type = AttributeType.Ints, Ints = { values } };

    private string Constant(TensorProto value, int rank)
    {
        string output = $"/Constant_{_counter++}";
        _graph.Node.Add(new NodeProto
        {
            OpType = "Constant", Name = output, Output = { output },
            Attribute = { new AttributeProto { Name = "value", Type = AttributeType.Tensor, T = value } },
        });
        _ranks[output] = rank;
        return output;
    }

    private static TensorProto ToProto(Tensor tensor, string name)
    {
        using Tensor cpu = tensor.detach().cpu().contiguous();
        (DataType type, byte[] bytes) = cpu.dtype switch
        {
            ScalarType.Float32 => (DataType.Float, MemoryMarshal.AsBytes<float>(cpu.ToArray<float>()).ToArray()),
            ScalarType.Float64 => (DataType.Double, MemoryMarshal.AsBytes<double>(cpu.ToArray<double>()).ToArray()),
            ScalarType.Int64 => (DataType.Int64, MemoryMarshal.AsBytes<long>(cpu.ToArray<long>()).ToArray()),
            _ => throw new NotSupportedException($"'{name}' is {cpu.dtype}; the exporter writes float32, float64 and int64 tensors"),
        };
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        var proto = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        proto.Dims.Add(cpu.shape);
        return proto;
    }

    private static ValueInfoProto ValueInfo(string name, ScalarType dtype, long[] shape, IReadOnlyDictionary<int, string> dynamic)
    {
        var dims = new TensorShapeProto();
        for (int i = 0; i < shape.Length; i++)
            dims.Dim.Add(dynamic.TryGetValue(i, out string? param)
                ? new TensorShapeProto.Types.Dimension { DimParam = param }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        int elem = dtype switch
        {
            ScalarType.Float32 => (int)DataType.Float,
            ScalarType.Float64 => (int)DataType.Double,
            ScalarType.Int64 => (int)DataType.Int64,
            _ => throw new NotSupportedException($"'{name}' is {dtype}; the exporter takes float32, float64 and int64 inputs"),
        };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elem, Shape = dims } } };
    }
}
