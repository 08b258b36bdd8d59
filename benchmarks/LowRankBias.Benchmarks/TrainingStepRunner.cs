using System.Diagnostics;
using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// One full training step of a model, timed for benchmarks/compare/train_step.sh next to the same step in PyTorch
/// (train_step_pytorch.py): forward, cross-entropy, backward, AdamW (decay off for 1-d parameters), zero_grad, the
/// loss kept on the device. Warm-up, then the median wall-clock ms/step of <c>repeats</c> loops of <c>steps</c>
/// steps, on every core. Prints "model&lt;TAB&gt;ms/step".
/// </summary>
public static class TrainingStepRunner
{
    /// <summary>The models both sides implement, by the name the script passes.</summary>
    public static Module Build(string model) => model switch
    {
        "vit-tiny" => new VisionTransformer(VisionTransformer.Config.ViT_Tiny),
        "cnn" => new ConvNet(ConvNet.Config.FashionMnist),
        _ => throw new ArgumentException($"unknown model '{model}': expected vit-tiny or cnn", nameof(model)),
    };

    /// <summary>Times the step and writes one line to standard output.</summary>
    public static void Run(string modelName, int batch, int steps, int repeats)
    {
        manual_seed(0);
        using Module model = Build(modelName);
        using var optimizer = new AdamW(ParamGroup.WeightDecayGroups(model, new AdamWOptions { lr = 1e-3, weight_decay = 0.05 }));
        using Tensor images = randn([batch, 1, 28, 28]);
        using Tensor labels = randint(0, 10, [batch]);

        void Step()
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor loss = nn.functional.cross_entropy(model.call(images), labels);
            loss.backward();
            optimizer.step();
            optimizer.zero_grad();
        }

        for (int i = 0; i < Math.Max(3, steps / 2); i++) Step();
        var samples = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++) Step();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        }
        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{modelName}\t{samples[repeats / 2]:F2}"));
    }
}
