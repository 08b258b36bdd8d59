using System.Reflection;
using LowRankBias.Torch.IO;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = LowRankBias.Torch.Tensor;

namespace LowRankBias.Onnx.Tests;

/// <summary>The fixtures of tests/fixtures/onnx (made by make_onnx.py with torch.onnx.export), the ResNet-18 of the
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 package, and ONNX Runtime as the reference.</summary>
internal static class Fixtures
{
    public static string File(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name);

    /// <summary>The ImageNet ResNet-18 (CNTK 2.6 export, opset 8) in the restored NuGet package.</summary>
    public static string ResNet18 => typeof(Fixtures).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ResNet18Onnx").Value!;

    /// <summary>The featurizer's preprocessing graph (RGB → BGR, mean image subtracted) in the same package.</summary>
    public static string ResNetPreprocess => Path.Combine(Path.GetDirectoryName(ResNet18)!, "..", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>What PyTorch computed eagerly: x, y, r and grad.&lt;parameter&gt; (see make_onnx.py).</summary>
    public static Dictionary<string, Tensor> Python(string model) => SafeTensors.load_file(File(model + ".safetensors"));

    /// <summary>ONNX Runtime's first output for the float32 input <paramref name="x"/>, as a flat array.</summary>
    public static float[] OnnxRuntime(string path, Tensor x) => OnnxRuntimeAll(path, x)[0];

    /// <summary>Every output ONNX Runtime computes for the float32 inputs (in the graph's order), as flat arrays.</summary>
    public static float[][] OnnxRuntimeAll(string path, params Tensor[] inputs)
    {
        // Without graph optimizations: the session opens faster, and the reference runs the operators as written.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(path, options);
        var values = session.InputMetadata.Keys.Zip(inputs, (name, x) => NamedOnnxValue.CreateFromTensor(name,
            new DenseTensor<float>(x.contiguous().ToArray<float>(), x.shape.Select(d => (int)d).ToArray()))).ToList();
        using var results = session.Run(values);
        return results.Select(r => r.AsEnumerable<float>().ToArray()).ToArray();
    }

    /// <summary>Asserts that <paramref name="features"/> are ONNX Runtime's output of the NuGet ResNet-18 on <paramref name="x"/>
    /// to 1e-4 relative to the largest feature, and logs the difference under <paramref name="label"/>.</summary>
    public static void AssertResNet18Features(Tensor x, Tensor features, ITestOutputHelper output, string label)
    {
        float[] expected = OnnxRuntime(ResNet18, x);
        double difference = MaxAbsDifference(expected, features);
        double scale = expected.Max(v => Math.Abs(v));
        output.WriteLine($"{label}: max |ours - ONNX Runtime| = {difference:G3}, features up to {scale:G3}");
        Assert.True(difference <= 1e-4 * Math.Max(1, scale), $"max |ours - ONNX Runtime| = {difference:G3} (features up to {scale:G3})");
    }

    public static double MaxAbsDifference(float[] expected, Tensor actual)
    {
        float[] values = actual.detach().contiguous().to(ScalarType.Float32).ToArray<float>();
        Assert.Equal(expected.Length, values.Length);
        return expected.Zip(values, (e, a) => (double)Math.Abs(e - a)).Max();
    }
}
