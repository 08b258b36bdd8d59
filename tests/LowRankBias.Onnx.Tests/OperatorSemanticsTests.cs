using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Onnx.Tests;

/// <summary>Single operators in the forms whose meaning depends on the opset or on attributes exporters rarely write
/// (attribute vs input forms, Softmax's 2-D coercion, auto_pad, asymmetric pads, count_include_pad, Gemm's transposes
/// and scales, Reshape's 0 and −1), each compared with ONNX Runtime on the same file.</summary>
public sealed class OperatorSemanticsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Cases => new(Models.Keys);

    private static readonly Dictionary<string, (Func<SingleNode> model, long[][] inputs, int outputs)> Models = new()
    {
        ["Softmax opset 11 coerces to 2-D at axis 1"] = (() => new SingleNode("Softmax", 11).Input(2, 3, 4).Attribute("axis", 1L), [[2, 3, 4]], 1),
        ["Softmax opset 13 runs along axis 1"] = (() => new SingleNode("Softmax", 13).Input(2, 3, 4).Attribute("axis", 1L), [[2, 3, 4]], 1),
        ["LogSoftmax opset 8 default axis"] = (() => new SingleNode("LogSoftmax", 8).Input(2, 3, 4), [[2, 3, 4]], 1),
        ["Slice opset 9 attributes"] = (() => new SingleNode("Slice", 9).Input(4, 3, 5).Attribute("starts", 1, -4).Attribute("ends", 3, 100).Attribute("axes", 0, 2), [[4, 3, 5]], 1),
        ["Slice opset 13 inputs, negative step"] = (() => new SingleNode("Slice", 13).Input(4, 3, 5).Ints(-1, 0).Ints(-100, 2).Ints(2, 0).Ints(-2, 1), [[4, 3, 5]], 1),
        ["Split opset 11 attribute"] = (() => new SingleNode("Split", 11).Input(2, 5).Attribute("axis", 1L).Attribute("split", 2, 3), [[2, 5]], 2),
        ["Split opset 13 input"] = (() => new SingleNode("Split", 13).Input(2, 5).Ints(4, 1).Attribute("axis", -1L), [[2, 5]], 2),
        ["Split opset 13 equal parts"] = (() => new SingleNode("Split", 13).Input(6, 2), [[6, 2]], 3),
        ["Squeeze opset 11 attribute"] = (() => new SingleNode("Squeeze", 11).Input(2, 1, 3, 1).Attribute("axes", new long[] { -1 }), [[2, 1, 3, 1]], 1),
        ["Squeeze opset 13 input"] = (() => new SingleNode("Squeeze", 13).Input(2, 1, 3, 1).Ints(1), [[2, 1, 3, 1]], 1),
        ["Unsqueeze opset 11 attribute"] = (() => new SingleNode("Unsqueeze", 11).Input(2, 3).Attribute("axes", 0, 3), [[2, 3]], 1),
        ["Unsqueeze opset 13 input"] = (() => new SingleNode("Unsqueeze", 13).Input(2, 3).Ints(-1, 1), [[2, 3]], 1),
        ["Reshape 0 and -1"] = (() => new SingleNode("Reshape", 13).Input(2, 3, 4).Ints(0, -1, 2), [[2, 3, 4]], 1),
        ["Flatten axis 2"] = (() => new SingleNode("Flatten", 13).Input(2, 3, 4, 5).Attribute("axis", 2L), [[2, 3, 4, 5]], 1),
        ["Transpose default"] = (() => new SingleNode("Transpose", 13).Input(2, 3, 4), [[2, 3, 4]], 1),
        ["ReduceMean axes, keepdims 0"] = (() => new SingleNode("ReduceMean", 13).Input(2, 3, 4).Attribute("axes", 1, -1).Attribute("keepdims", 0L), [[2, 3, 4]], 1),
        ["Gemm transA, alpha, beta, broadcast C"] = (() => new SingleNode("Gemm", 13).Input(3, 2).Input(3, 4).Input(1, 4)
            .Attribute("transA", 1L).Attribute("alpha", 0.5f).Attribute("beta", 2f), [[3, 2], [3, 4], [1, 4]], 1),
        ["Gemm initializers, transB 0"] = (() => new SingleNode("Gemm", 13).Input(2, 3).Initializer(randn([3, 4])).Initializer(randn([4])), [[2, 3]], 1),
        ["MatMul batched"] = (() => new SingleNode("MatMul", 13).Input(2, 3, 4).Input(4, 5), [[2, 3, 4], [4, 5]], 1),
        ["Conv auto_pad SAME_UPPER stride 2"] = (() => new SingleNode("Conv", 13).Input(1, 2, 6, 7).Initializer(randn([4, 2, 3, 3]))
            .Attribute("auto_pad", "SAME_UPPER").Attribute("strides", 2, 2), [[1, 2, 6, 7]], 1),
        ["Conv auto_pad SAME_LOWER"] = (() => new SingleNode("Conv", 11).Input(1, 2, 6, 7).Initializer(randn([4, 2, 2, 2]))
            .Attribute("auto_pad", "SAME_LOWER"), [[1, 2, 6, 7]], 1),
        ["Conv asymmetric pads, groups, dilation, bias"] = (() => new SingleNode("Conv", 8).Input(2, 4, 7, 6).Initializer(randn([6, 2, 3, 3]))
            .Initializer(randn([6])).Attribute("pads", 1, 0, 2, 1).Attribute("group", 2L).Attribute("dilations", 2, 1), [[2, 4, 7, 6]], 1),
        ["Conv weight as an input"] = (() => new SingleNode("Conv", 13).Input(1, 2, 5, 5).Input(3, 2, 3, 3).Attribute("pads", 0, 1, 1, 0), [[1, 2, 5, 5], [3, 2, 3, 3]], 1),
        ["AveragePool asymmetric pads, count_include_pad 0"] = (() => new SingleNode("AveragePool", 13).Input(1, 2, 7, 6)
            .Attribute("kernel_shape", 3, 3).Attribute("strides", 2, 2).Attribute("pads", 1, 0, 0, 1), [[1, 2, 7, 6]], 1),
        ["AveragePool asymmetric pads, count_include_pad 1"] = (() => new SingleNode("AveragePool", 13).Input(1, 2, 7, 6)
            .Attribute("kernel_shape", 3, 3).Attribute("strides", 2, 2).Attribute("pads", 1, 0, 0, 1).Attribute("count_include_pad", 1L), [[1, 2, 7, 6]], 1),
        ["MaxPool asymmetric pads, auto_pad SAME_UPPER"] = (() => new SingleNode("MaxPool", 8).Input(1, 2, 7, 6)
            .Attribute("kernel_shape", 3, 2).Attribute("strides", 2, 2).Attribute("auto_pad", "SAME_UPPER"), [[1, 2, 7, 6]], 1),
        ["BatchNormalization opset 8"] = (() => new SingleNode("BatchNormalization", 8).Input(2, 3, 4, 4).Initializer(rand([3]) + 0.5)
            .Initializer(randn([3])).Initializer(randn([3])).Initializer(rand([3]) + 0.5).Attribute("epsilon", 1e-3f), [[2, 3, 4, 4]], 1),
        ["LayerNormalization axis -2"] = (() => new SingleNode("LayerNormalization", 17).Input(2, 3, 4).Initializer(randn([3, 4]))
            .Initializer(randn([3, 4])).Attribute("axis", -2L), [[2, 3, 4]], 1),
        ["Pow and Div broadcast"] = (() => new SingleNode("Pow", 13).Input(2, 3).Initializer(tensor(new float[] { 2, 3, 0.5f })), [[2, 3]], 1),
        ["Clip opset 8 attributes"] = (() => new SingleNode("Clip", 8).Input(3, 4).Attribute("min", -0.5f).Attribute("max", 0.25f), [[3, 4]], 1),
        ["Pad opset 13 edge"] = (() => new SingleNode("Pad", 13).Input(1, 2, 3, 4).Ints(0, 0, 1, 2, 0, 0, 2, 1).Attribute("mode", "edge"), [[1, 2, 3, 4]], 1),
        ["Erf"] = (() => new SingleNode("Erf", 13).Input(3, 4), [[3, 4]], 1),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_operator_computes_what_onnx_runtime_computes(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed((ulong)name.Length);
        (Func<SingleNode> model, long[][] shapes, int outputs) = Models[name];
        string path = model().Write(_dir.File("model.onnx"), outputs);
        Tensor[] inputs = shapes.Select(s => randn(s)).ToArray();
        float[][] expected = Fixtures.OnnxRuntimeAll(path, inputs);

        using OnnxModel imported = OnnxModel.load(path);
        Tensor[] actual = imported.run(inputs);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Fixtures.MaxAbsDifference(expected[i], actual[i]) < 1e-5, $"{name}: output {i} differs by {Fixtures.MaxAbsDifference(expected[i], actual[i]):G3}");
    }
}
