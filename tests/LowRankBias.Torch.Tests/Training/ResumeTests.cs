using LowRankBias.Torch.Data;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Data;
using LowRankBias.Torch.Training;
using static LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Training;

// Dropout and the global generator: serial.
[Collection(SerialCollection.Name)]
public class ResumeTests
{
    private const long Steps = 30;

    private sealed class SimulatedCrash : Exception;

    /// <summary>Everything one process would build: model, AdamW, warm-up cosine schedule, shuffled loader, a random
    /// flip augmentation with its own generator, and the trainer.</summary>
    private sealed class Run : IDisposable
    {
        public Run(ToyTask task, string output, ulong initSeed, long logEvery)
        {
            manual_seed(initSeed);
            Model = new DropoutMlp();
            Optimizer = new AdamW(Model.parameters(), lr: 0.02, weight_decay: 0.01);
            var scheduler = new WarmupCosineLR(Optimizer, warmup_steps: 4, total_steps: Steps);
            Train = new DataLoader(task.Train, batch_size: 10, shuffle: true, seed: 5);
            Test = new DataLoader(task.Test, batch_size: 16);
            var flip = new RandomHorizontalFlip(0.5, seed: 3);
            LossFunction loss = (model, batch) =>
            {
                // Features seen as 2×4 images, flipped at random while training.
                Tensor x = model.training ? flip.Apply(batch[0].view(-1, 1, 2, 4)).view(-1, ToyTask.Features) : batch[0];
                Tensor logits = model.call(x);
                return new LossResult(cross_entropy(logits, batch[1]), ClassificationLoss.Correct(logits, batch[1]));
            };
            Trainer = new Trainer(Model, Optimizer, loss, new TrainerOptions
            {
                MaxSteps = Steps,
                MaxGradNorm = 1.0,
                LogEvery = logEvery,
                CheckpointEvery = 7,
                KeepCheckpoints = 2,
                OutputDirectory = output,
                Progress = ProgressMode.None,
                Generators = new Dictionary<string, SplitMix64> { ["flip"] = flip.Generator },
            }, scheduler);
            Trainer.AddCallback(1, _ => StepsRun++);
        }

        public DropoutMlp Model { get; }
        public AdamW Optimizer { get; }
        public DataLoader Train { get; }
        public DataLoader Test { get; }
        public Trainer Trainer { get; }
        public int StepsRun { get; private set; }

        public TrainingResult Fit() => Trainer.Fit(Train, Test);

        public void Dispose()
        {
            Trainer.Dispose();
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    // Logging every step compares each step's loss; logging every 4 steps makes records span the checkpoint.
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void ResumingAfterACrashReproducesTheUninterruptedRunBitForBit(long logEvery)
    {
        using var scope = NewDisposeScope();
        using var task = ToyTask.Create();
        using var uninterruptedFolder = new TempFolder();
        using var crashedFolder = new TempFolder();

        using var uninterrupted = new Run(task, uninterruptedFolder.Path, initSeed: 1, logEvery);
        Assert.Equal(Steps, uninterrupted.Fit().Steps);

        using (var crashed = new Run(task, crashedFolder.Path, initSeed: 1, logEvery))
        {
            crashed.Trainer.AddCallback(1, t => { if (t.Step == 17) throw new SimulatedCrash(); });
            Assert.Throws<SimulatedCrash>(() => crashed.Fit());
        }
        // A new "process": other seed (so other initial weights and dropout masks), new objects, same configuration.
        using var resumed = new Run(task, crashedFolder.Path, initSeed: 999, logEvery);
        TrainingResult result = resumed.Fit();
        Assert.Equal(Steps, result.Steps);
        Assert.Equal(Steps - 14, resumed.StepsRun); // resumed from the checkpoint of step 14

        List<MetricsLog.Line> expected = MetricsLog.Read(uninterruptedFolder.Path);
        List<MetricsLog.Line> actual = MetricsLog.Read(crashedFolder.Path);
        long[] trainSteps = [.. Enumerable.Range(1, (int)Steps).Where(i => i % logEvery == 0 || i == Steps).Select(i => (long)i)];
        Assert.Equal(trainSteps, actual.Where(l => l.Split == "train").Select(l => l.Step)); // each once: none left from the crash
        Assert.Equal([10L, 20, 30], actual.Where(l => l.Split == "train_epoch").Select(l => l.Step));
        Assert.Equal([10L, 20, 30], actual.Where(l => l.Split == "test").Select(l => l.Step));
        Assert.Equal(Summary(expected), Summary(actual));
        Assert.Equal(trainSteps.Length, expected.Where(l => l.Split == "train").Select(l => l.Loss).Distinct().Count());

        foreach (((string name, Tensor a), (_, Tensor b)) in uninterrupted.Model.named_parameters().Zip(resumed.Model.named_parameters()))
            Assert.True(a.ToArray<float>().SequenceEqual(b.ToArray<float>()), $"parameter {name} differs");
    }

    // Everything but wall time and throughput, as exact bit patterns.
    private static List<string> Summary(List<MetricsLog.Line> lines) =>
        lines.Select(l => $"{l.Step} {l.Epoch} {l.Split} {Bits(l.Loss)} {Bits(l.Accuracy)} {Bits(l.Lr)}").ToList();

    private static string Bits(double? value) => value is { } v ? BitConverter.DoubleToInt64Bits(v).ToString("X16") : "null";
}
