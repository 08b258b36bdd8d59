using System.Diagnostics;
using System.Globalization;
using LowRankBias.Onnx;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using Microsoft.ML.OnnxRuntime;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// `--resnet-inference [rounds] [images per round]`: inference of torchvision's ResNet-18 (1000 classes, eval mode,
/// no_grad) here against ONNX Runtime running the same weights exported with <see cref="OnnxExport.export_onnx"/>, on
/// 2 threads each (ours: <c>set_num_threads(2)</c>; ONNX Runtime: 2 intra-op, 1 inter-op), at batch 1 and 32 on
/// 3×224×224 and 3×64×64 inputs. Ours runs twice: the model as trained (eval mode) and as deployed — a copy of the same
/// weights with every BatchNorm folded into its convolution (<see cref="ResNet.fuse_model"/>), every convolution on
/// oneDNN (<see cref="MkldnnConv2d.to_mkldnn"/>) and the batch converted to oneDNN's layout on the way in
/// (<see cref="Tensor.to_mkldnn"/>), so that no layer converts; the conversions in and out are timed. ONNX Runtime runs
/// twice: as shipped (all graph optimizations, e.g. BatchNorm folded into the convolutions) and with them off, which
/// separates its graph rewrites from its kernels. The sides alternate within every round (each round runs the same
/// number of images per side), so load changes fall on all alike; wall time per batch. Prints, per input, the fastest
/// round's and the median ms per batch and ours / ONNX Runtime as a Markdown table (goal of issue 32: at most 1.5),
/// after checking that all sides compute the same logits.
/// </summary>
public static class ResNetInferenceRunner
{
    private const int Threads = 2;

    public static void Run(int rounds, int imagesPerRound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        set_num_threads(Threads);
        manual_seed(0);
        using ResNet model = ResNet.resnet18();
        model.eval();
        using ResNet fused = ResNet.from_state_dict(model.export_state_dict());
        fused.eval();
        MkldnnConv2d.to_mkldnn(fused.fuse_model());
        string dir = Directory.CreateTempSubdirectory("resnet-inference-").FullName;
        try
        {
            Console.WriteLine($"ResNet-18 inference, {Threads} threads per side, {rounds} interleaved rounds of {imagesPerRound} images per side (wall ms per batch):");
            Console.WriteLine("| input | batch | ORT, fastest | ORT, median | ours, fastest | ours, median | ours / ORT, fastest | deployed, fastest | deployed, median | **deployed / ORT, fastest** | deployed / ORT, median | ORT without graph optimizations, median | ours / that, median |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (int size in new[] { 224, 64 })
            {
                string path = Path.Combine(dir, $"resnet18-{size}.onnx");
                using (var scope = NewDisposeScope()) model.export_onnx(path, randn([1, 3, size, size]));
                using InferenceSession optimized = Session(path, GraphOptimizationLevel.ORT_ENABLE_ALL);
                using InferenceSession plain = Session(path, GraphOptimizationLevel.ORT_DISABLE_ALL);
                foreach (int batch in new[] { 1, 32 })
                    Measure(model, fused, optimized, plain, size, batch, rounds, Math.Max(1, imagesPerRound / batch));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static InferenceSession Session(string path, GraphOptimizationLevel level)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Threads, InterOpNumThreads = 1, GraphOptimizationLevel = level,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        return new InferenceSession(path, options);
    }

    private static void Measure(ResNet model, ResNet fused, InferenceSession optimized, InferenceSession plain, int size, int batch, int rounds, int runsPerRound)
    {
        manual_seed(1);
        using Tensor images = randn([batch, 3, size, size]);
        float[] pixels = images.ToArray<float>();
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, size, size]);
        using var runOptions = new RunOptions();

        float[] Ours(ResNet m, bool oneDnnLayout)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return m.call(oneDnnLayout ? images.to_mkldnn() : images).ToArray<float>();
        }
        float[] Ort(InferenceSession session)
        {
            using var outputs = session.Run(runOptions, ["input"], [input], ["output"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var sides = new Func<float[]>[] { () => Ours(fused, oneDnnLayout: true), () => Ours(model, oneDnnLayout: false), () => Ort(optimized), () => Ort(plain) };

        float[] reference = Ours(model, oneDnnLayout: false); // doubles as warm-up
        foreach (Func<float[]> side in sides.Skip(1))
        {
            float difference = side().Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            if (!(difference <= 1e-3f))
                throw new InvalidOperationException($"logits differ from the unfused model's by {difference} at {size} px, batch {batch}");
        }
        foreach (Func<float[]> side in sides) side(); // second warm-up

        var times = sides.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int s = 0; s < sides.Length; s++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < runsPerRound; i++) sides[s]();
                times[s].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / runsPerRound);
            }
        (double fusedMin, double fusedMedian) = (times[0].Min(), Median(times[0]));
        (double unfusedMin, double unfusedMedian) = (times[1].Min(), Median(times[1]));
        (double ortMin, double ortMedian) = (times[2].Min(), Median(times[2]));
        double plainMedian = Median(times[3]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| 3×{size}×{size} | {batch} | {ortMin:F1} | {ortMedian:F1} | {unfusedMin:F1} | {unfusedMedian:F1} | {unfusedMin / ortMin:F2} | {fusedMin:F1} | {fusedMedian:F1} | **{fusedMin / ortMin:F2}** | {fusedMedian / ortMedian:F2} | {plainMedian:F1} | {unfusedMedian / plainMedian:F2} |"));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
