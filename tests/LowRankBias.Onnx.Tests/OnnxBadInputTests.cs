using Google.Protobuf;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using Onnx;

namespace LowRankBias.Onnx.Tests;

/// <summary>Broken or unsupported files end in one managed exception naming the file and the cause, and leave nothing
/// behind (no live tensor). Runs alone: it counts live tensors.</summary>
[Collection(SerialCollection.Name)]
public sealed class OnnxBadInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ModelProto Mlp() => ModelProto.Parser.ParseFrom(System.IO.File.ReadAllBytes(Fixtures.File("mlp_opset13.onnx")));

    private string Write(string name, ModelProto model) => Write(name, model.ToByteArray());

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    private static TException Refused<TException>(string path, params string[] phrases) where TException : Exception
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = Tensor.LiveCount;
        var e = Assert.Throws<TException>(() => OnnxModel.load(path));
        Assert.Equal(before, Tensor.LiveCount);  // nothing half-loaded
        foreach (string phrase in phrases.Prepend(path)) Assert.Contains(phrase, e.Message);
        return e;
    }

    [Fact]
    public void A_truncated_file_is_invalid_data()
    {
        byte[] whole = System.IO.File.ReadAllBytes(Fixtures.File("resnet_opset13.onnx"));
        Refused<InvalidDataException>(Write("truncated.onnx", whole[..(whole.Length / 2)]), "truncated");
    }

    [Theory]
    [InlineData("hello, this is not a model\n")]
    [InlineData("\u0089PNG\r\n\u001a\n\0\0\0\rIHDR")]
    public void A_file_that_is_not_onnx_is_invalid_data(string content) =>
        Refused<InvalidDataException>(Write("other.onnx", System.Text.Encoding.Latin1.GetBytes(content)), "not");

    [Theory]
    [InlineData(7)]
    [InlineData(18)]
    public void An_opset_outside_8_to_17_is_not_supported(long opset)
    {
        ModelProto model = Mlp();
        model.OpsetImport.Single(o => o.Domain == "").Version = opset;
        Refused<NotSupportedException>(Write("opset.onnx", model), $"opset {opset}", "8 to 17");
    }

    [Fact]
    public void An_unsupported_operator_is_named_with_its_node_and_opset()
    {
        ModelProto model = Mlp();
        model.Graph.Node.Single(n => n.OpType == "Tanh").OpType = "Hardmax";
        Refused<NotSupportedException>(Write("op.onnx", model), "'Hardmax'", "'/Tanh'", "opset 13");
    }

    [Fact]
    public void Missing_external_data_is_invalid_data_and_present_external_data_loads()
    {
        ModelProto model = Mlp();
        TensorProto weight = model.Graph.Initializer.Single(t => t.Name == "fc2.weight");
        byte[] bytes = weight.RawData.ToByteArray();
        weight.RawData = ByteString.Empty;
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        weight.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "16" });
        string path = Write("external.onnx", model);
        Refused<InvalidDataException>(path, "'weights.bin'", "'fc2.weight'", "missing");

        Write("weights.bin", [.. new byte[16], .. bytes]);
        using var scope = NewDisposeScope();
        using OnnxModel original = OnnxModel.load(Fixtures.File("mlp_opset13.onnx")), external = OnnxModel.load(path);
        Tensor x = Fixtures.Python("mlp")["x"];
        Assert.Equal(0, (original.call(x) - external.call(x)).abs().max().item<float>());
    }

    [Fact]
    public void External_data_outside_the_model_directory_is_refused()
    {
        ModelProto model = Mlp();
        TensorProto weight = model.Graph.Initializer.Single(t => t.Name == "fc2.weight");
        weight.RawData = ByteString.Empty;
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        Refused<InvalidDataException>(Write("escape.onnx", model), "outside the model's directory");
    }

    [Fact]
    public void Wrong_inputs_at_run_time_name_the_argument_or_the_node()
    {
        using var scope = NewDisposeScope();
        using OnnxModel mlp = OnnxModel.load(Fixtures.File("mlp_opset13.onnx"));
        var count = Assert.Throws<ArgumentException>(() => mlp.run(randn([3, 8]), randn([3, 8])));
        Assert.Contains("takes 1 input(s) (x), got 2", count.Message);
        var shape = Assert.Throws<InvalidOperationException>(() => mlp.call(randn([3, 5])));
        Assert.Contains("ONNX node '/fc1/Gemm' (Gemm) failed", shape.Message);
    }

    [Fact]
    public void A_node_reading_an_undefined_value_is_invalid_data()
    {
        ModelProto model = Mlp();
        model.Graph.Node.Single(n => n.OpType == "Tanh").Input[0] = "nowhere";
        Refused<InvalidDataException>(Write("undefined.onnx", model), "'nowhere'", "'/Tanh'");
    }
}
