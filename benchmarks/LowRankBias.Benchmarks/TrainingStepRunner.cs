using System.Diagnostics;
using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// The whole-step workloads of benchmarks/compare/train_step.sh, each timed next to the same workload in PyTorch:
/// "vit-tiny", "cnn" and "resnet18" (torchvision's, 1 input channel: 28 px become 1×1 after layer4) — one training step (forward, cross-entropy, backward, AdamW with decay off for 1-d
/// parameters, zero_grad, the loss kept on the device; train_step_pytorch.py); "vit-tiny-lte" — LTE's step
/// (<see cref="LteTrainer.Step"/>, merges included); "vit-s-lte-merge" — one LTE merge of a ViT-S
/// (lte_step_pytorch.py); "vit-s-checkpoint" — a ViT-S state dict written to a file and read back (ours: safetensors,
/// atomic; PyTorch: torch.save / torch.load); "vit-s-spectra" — singular values, effective and stable rank and norms of
/// every ViT-S weight matrix (ours batched by shape; PyTorch one <c>svdvals</c> per matrix); "mhlora-step" — a training
/// step of one 384 → 384 multi-head LoRA layer, 8 heads of rank 8 on a shared batch of 1024 (workloads_pytorch.py).
/// Warm-up, then the median wall-clock ms per workload of <c>repeats</c>
/// loops of <c>steps</c> runs, on every core. Prints "workload&lt;TAB&gt;ms".
/// </summary>
public static class TrainingStepRunner
{
    /// <summary>The image models both sides implement, by the name the scripts pass.</summary>
    public static Module Build(string model) => model switch
    {
        "vit-tiny" => new VisionTransformer(VisionTransformer.Config.ViT_Tiny),
        "vit-s" => new VisionTransformer(VisionTransformer.Config.ViT_S with { image_size = 28, patch_size = 4, in_channels = 1, num_classes = 10 }),
        "cnn" => new ConvNet(ConvNet.Config.FashionMnist),
        "resnet18" => ResNet.resnet18(num_classes: 10, in_channels: 1),
        _ => throw new ArgumentException($"unknown model '{model}': expected vit-tiny, vit-s, cnn or resnet18", nameof(model)),
    };

    /// <summary>The LTE settings of "vit-tiny-lte" (and of lte_step_pytorch.py): 4 heads of rank 16 on every linear layer
    /// but the classifier, merged every 10 steps, everything else as averaged per-head replicas.</summary>
    public static LteOptions LteSettings => new() { Heads = 4, Rank = 16, Alpha = 4096, MergeEvery = 10, Exclude = "head" };

    /// <summary>Times the workload and writes one line to standard output.</summary>
    public static void Run(string workload, int batch, int steps, int repeats)
    {
        manual_seed(0);
        using Session session = workload switch
        {
            "vit-tiny-lte" => LteStep(batch),
            "vit-s-lte-merge" => LteMerge(),
            "vit-s-checkpoint" => Checkpoint(),
            "vit-s-spectra" => Spectra(),
            "mhlora-step" => MultiHeadLoraStep(),
            _ => TrainingStep(workload, batch),
        };
        for (int i = 0; i < Math.Max(3, steps / 2); i++) session.Run();
        var samples = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++) session.Run();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        }
        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload}\t{samples[repeats / 2]:F2}"));
    }

    private static Session TrainingStep(string model, int batch)
    {
        Module net = Build(model);
        var optimizer = new AdamW(ParamGroup.WeightDecayGroups(net, new AdamWOptions { lr = 1e-3, weight_decay = 0.05 }));
        Tensor images = randn([batch, 1, 28, 28]).DetachFromDisposeScope(), labels = randint(0, 10, [batch]).DetachFromDisposeScope();
        return new Session(() =>
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor loss = nn.functional.cross_entropy(net.call(images), labels);
            loss.backward();
            optimizer.step();
            optimizer.zero_grad();
        }, net, optimizer, images, labels);
    }

    private static Session LteStep(int batch)
    {
        var lte = new Lte.Lte(Build("vit-tiny"), LteSettings);
        var optimizer = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 1e-4, weight_decay = 0.05 }));
        var trainer = new LteTrainer(lte, optimizer, (o, t) => nn.functional.cross_entropy(o, t));
        Tensor images = randn([batch, 1, 28, 28]).DetachFromDisposeScope(), labels = randint(0, 10, [batch]).DetachFromDisposeScope();
        return new Session(() => trainer.Step(images, labels), lte, optimizer, images, labels);
    }

    // The paper's ViT-S head count would hold 32 × 64-rank heads; 8 × 64 keeps the CPU run small, the merge's work per
    // head is the same.
    private static Session LteMerge()
    {
        var lte = new Lte.Lte(Build("vit-s"), LteSettings with { Heads = 8, Rank = 64 });
        return new Session(lte.Merge, lte);
    }

    private static Session Checkpoint()
    {
        Module net = Build("vit-s");
        string path = Path.Combine(Path.GetTempPath(), $"lrb-checkpoint-{Environment.ProcessId}.safetensors");
        return new Session(() =>
        {
            using DisposeScope scope = NewDisposeScope();
            SafeTensors.save_file(net.state_dict(), path);
            net.load_state_dict(SafeTensors.load_file(path));
        }, net, new DeleteOnDispose(path));
    }

    private static Session Spectra()
    {
        Module net = Build("vit-s");
        var weights = SpectralMonitor.Weights(net).Select(w => (w.name, w.weight.DetachFromDisposeScope())).ToList();
        return new Session(() => SpectralMetrics.Analyze(weights), [net, .. weights.Select(w => w.Item2)]);
    }

    private static Session MultiHeadLoraStep()
    {
        var layer = new MultiHeadLoraLinear(new Linear(384, 384), new LoraConfig { r = 8, lora_alpha = 16, num_heads = 8, init_lora_weights = LoraInit.Random });
        var optimizer = new AdamW(layer.parameters().Where(p => p.requires_grad));
        Tensor x = randn([1024, 384]).DetachFromDisposeScope(), y = randn([1024, 384]).DetachFromDisposeScope();
        return new Session(() =>
        {
            using DisposeScope scope = NewDisposeScope();
            nn.functional.mse_loss(layer.call(x), y).backward();
            optimizer.step();
            optimizer.zero_grad();
        }, layer, optimizer, x, y);
    }

    private sealed class Session(Action run, params IDisposable[] owned) : IDisposable
    {
        public void Run() => run();

        public void Dispose()
        {
            foreach (IDisposable o in owned) o.Dispose();
        }
    }

    private sealed class DeleteOnDispose(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }
}
