using Google.Protobuf;
using Onnx;

namespace LowRankBias.Onnx.Tests;

/// <summary>A model of one node, written with the schema's generated classes: float graph inputs x0, x1, …, initializers
/// (float32 or int64 tensors), outputs y0, y1, ….</summary>
internal sealed class SingleNode(string opType, int opset)
{
    private readonly NodeProto _node = new() { OpType = opType, Name = "node" };
    private readonly GraphProto _graph = new() { Name = "g" };

    public SingleNode Input(params long[] shape)
    {
        string name = $"x{_graph.Input.Count}";
        var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() } };
        foreach (long d in shape) type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = type });
        _node.Input.Add(name);
        return this;
    }

    /// <summary>An omitted optional input.</summary>
    public SingleNode Skip()
    {
        _node.Input.Add("");
        return this;
    }

    public SingleNode Initializer(Tensor value)
    {
        string name = $"w{_graph.Initializer.Count}";
        var proto = new TensorProto
        {
            Name = name,
            DataType = (int)(value.dtype == ScalarType.Int64 ? TensorProto.Types.DataType.Int64 : TensorProto.Types.DataType.Float),
            RawData = ByteString.CopyFrom(value.dtype == ScalarType.Int64
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.ToArray<long>().AsSpan())
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.contiguous().ToArray<float>().AsSpan())),
        };
        proto.Dims.AddRange(value.shape);
        _graph.Initializer.Add(proto);
        _node.Input.Add(name);
        return this;
    }

    public SingleNode Ints(params long[] values) => Initializer(torch.tensor(values));

    public SingleNode Attribute(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        _node.Attribute.Add(a);
        return this;
    }

    public SingleNode Attribute(string name, long value)
    {
        _node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        return this;
    }

    public SingleNode Attribute(string name, float value)
    {
        _node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
        return this;
    }

    public SingleNode Attribute(string name, string value)
    {
        _node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });
        return this;
    }

    public string Write(string path, int outputs = 1)
    {
        for (int i = 0; i < outputs; i++)
        {
            _node.Output.Add($"y{i}");
            _graph.Output.Add(new ValueInfoProto { Name = $"y{i}" });
        }
        _graph.Node.Add(_node);
        var model = new ModelProto { IrVersion = 7, Graph = _graph, ProducerName = "LowRankBias.Onnx.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
