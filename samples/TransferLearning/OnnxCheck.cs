using LowRankBias.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = LowRankBias.Torch.Tensor;

namespace LowRankBias.Samples.TransferLearning;

/// <summary>
/// The best LoRA run merged into plain ResNet-18 weights (merge_and_unload), scored in this library, exported to ONNX
/// (<see cref="OnnxExport.export_onnx"/>; input: preprocessed images) and scored again in ONNX Runtime on the same
/// test images; both accuracies go to onnx.md.
/// </summary>
internal static class OnnxCheck
{
    public static string Run(ResNet merged, Run best, Tensor images, Tensor labels, string output)
    {
        merged.eval();
        double ours;
        using (no_grad())
        using (NewDisposeScope())
            ours = Accuracy(i => merged.call(i), images, labels);
        string path = Path.Combine(output, "best-lora-merged.onnx");
        using (NewDisposeScope()) merged.export_onnx(path, images.narrow(0, 0, 1));
        double runtime = ScoreInRuntime(path, images, labels);
        string report = string.Create(CultureInfo.InvariantCulture,
            $"| best LoRA run | test images | accuracy, merged (LowRankBias) | accuracy, ONNX Runtime |\n|---|---:|---:|---:|\n| {best.Method}, seed {best.Seed} | {labels.size(0)} | {ours:P2} | {runtime:P2} |\n");
        OutputFile.WriteAllText(Path.Combine(output, "onnx.md"), report);
        return report;
    }

    private static double Accuracy(Func<Tensor, Tensor> logits, Tensor images, Tensor labels)
    {
        long correct = 0, n = labels.size(0);
        for (long start = 0; start < n; start += 250)
        {
            using var scope = NewDisposeScope();
            long m = Math.Min(250, n - start);
            correct += (logits(images.narrow(0, start, m)).argmax(1) == labels.narrow(0, start, m)).sum().item<long>();
        }
        return (double)correct / n;
    }

    private static double ScoreInRuntime(string path, Tensor images, Tensor labels)
    {
        using var session = new InferenceSession(path);
        string input = session.InputMetadata.Keys.Single();
        return Accuracy(batch =>
        {
            var value = NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(batch.contiguous().ToArray<float>(), batch.shape.Select(d => (int)d).ToArray()));
            using var results = session.Run([value]);
            float[] logits = results[0].AsEnumerable<float>().ToArray();
            return tensor(logits).reshape(batch.size(0), -1);
        }, images, labels);
    }
}
