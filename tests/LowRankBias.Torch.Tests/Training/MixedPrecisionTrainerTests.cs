using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Data;
using LowRankBias.Torch.Training;
using static LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Training;

// Seeds the global generator: serial.
[Collection(SerialCollection.Name)]
public class MixedPrecisionTrainerTests
{
    private const long Steps = 12;

    /// <summary>One process's training objects: a float32 MLP trained under bfloat16 autocast with loss scaling.</summary>
    private sealed class Run : IDisposable
    {
        public Run(ToyTask task, ulong initSeed, TrainerOptions options)
        {
            manual_seed(initSeed);
            Model = new Sequential(new Linear(ToyTask.Features, 16), new ReLU(), new Linear(16, ToyTask.Classes));
            Optimizer = new AdamW(Model.parameters(), lr: 0.05);
            Scaler = new GradScaler(init_scale: 1 << 20, growth_interval: 3);
            Train = new DataLoader(task.Train, batch_size: 10, shuffle: true, seed: 5);
            Test = new DataLoader(task.Test, batch_size: 40);
            LossFunction loss = (model, batch) =>
            {
                Tensor logits = model.call(batch[0]);
                LogitsDtype = logits.dtype;
                return new LossResult(cross_entropy(logits, batch[1]), ClassificationLoss.Correct(logits, batch[1]));
            };
            Trainer = new Trainer(Model, Optimizer, loss, options with
            {
                Autocast = ScalarType.BFloat16,
                GradScaler = Scaler,
                MaxGradNorm = 5,
                Progress = ProgressMode.None,
            });
        }

        public Sequential Model { get; }
        public AdamW Optimizer { get; }
        public GradScaler Scaler { get; }
        public DataLoader Train { get; }
        public DataLoader Test { get; }
        public Trainer Trainer { get; }
        public ScalarType? LogitsDtype { get; private set; }

        public void Dispose()
        {
            Trainer.Dispose();
            Scaler.Dispose();
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    [Fact]
    public void BFloat16AutocastTrainingLowersTheLossOfAFloat32Model()
    {
        using var scope = NewDisposeScope();
        using var task = ToyTask.Create();
        using var run = new Run(task, initSeed: 2, new TrainerOptions { MaxSteps = 40, LogEvery = 40 });
        double before = run.Trainer.Evaluate(run.Test).Loss;
        Assert.Equal(ScalarType.BFloat16, run.LogitsDtype);

        run.Trainer.Fit(run.Train);

        double after = run.Trainer.Evaluate(run.Test).Loss;
        Assert.True(after < 0.6 * before, $"test loss went from {before} to only {after}");
        Assert.All(run.Model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.False(is_autocast_enabled(DeviceType.CPU));
    }

    [Fact]
    public void ResumingRestoresTheScalerAndReproducesTheRunBitForBit()
    {
        using var scope = NewDisposeScope();
        using var task = ToyTask.Create();
        using var uninterruptedFolder = new TempFolder();
        using var crashedFolder = new TempFolder();
        TrainerOptions Options(string folder) => new() { MaxSteps = Steps, LogEvery = 1, CheckpointEvery = 5, OutputDirectory = folder };

        using var uninterrupted = new Run(task, initSeed: 1, Options(uninterruptedFolder.Path));
        uninterrupted.Trainer.Fit(uninterrupted.Train);
        using (var crashed = new Run(task, initSeed: 1, Options(crashedFolder.Path)))
        {
            crashed.Trainer.AddCallback(1, t => { if (t.Step == 7) throw new OperationCanceledException(); });
            Assert.Throws<OperationCanceledException>(() => crashed.Trainer.Fit(crashed.Train));
        }
        // A new process: other initial weights, a fresh scaler; the checkpoint of step 5 (2 clean steps since the
        // scale last grew) must bring back the scale and the growth tracker.
        using var resumed = new Run(task, initSeed: 99, Options(crashedFolder.Path));
        resumed.Trainer.Fit(resumed.Train);

        Assert.Equal(uninterrupted.Scaler.state_dict(), resumed.Scaler.state_dict());
        Assert.Equal((double)(1 << 20) * 16, resumed.Scaler.get_scale());  // grew after steps 3, 6, 9 and 12
        Assert.Equal(MetricsLog.Read(uninterruptedFolder.Path).Select(l => l.Loss), MetricsLog.Read(crashedFolder.Path).Select(l => l.Loss));
        foreach (((string name, Tensor a), (_, Tensor b)) in uninterrupted.Model.named_parameters().Zip(resumed.Model.named_parameters()))
            Assert.True(a.ToArray<float>().SequenceEqual(b.ToArray<float>()), $"parameter {name} differs");
    }

    [Fact]
    public void ACheckpointWithoutScalerStateDoesNotFitAnEnabledScaler()
    {
        using var scope = NewDisposeScope();
        using var model = new Linear(2, 1);
        using var scaler = new GradScaler();
        using Checkpoint without = Checkpoint.Capture(model);
        Exception error = Assert.Throws<InvalidDataException>(() => without.Restore(model, scaler: scaler));
        Assert.Contains("loss-scaler", error.Message);
        without.Restore(model, scaler: new GradScaler(enabled: false));

        using Checkpoint with = Checkpoint.Capture(model, scaler: new GradScaler(init_scale: 8));
        with.Restore(model, scaler: scaler);
        Assert.Equal(8, scaler.get_scale());
    }
}
