using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Data;
using LowRankBias.Torch.Training;
using static LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Training;

// Seeds the global generator and counts live tensors: serial.
[Collection(SerialCollection.Name)]
public class TrainerTests
{
    private sealed class Setup : IDisposable
    {
        public Setup(TrainerOptions options, LossFunction? loss = null, double lr = 0.1, bool sgd = false)
        {
            manual_seed(7);
            Task = ToyTask.Create();
            Model = new Linear(ToyTask.Features, ToyTask.Classes);
            Optimizer = sgd ? new SGD(Model.parameters(), lr: lr) : new AdamW(Model.parameters(), lr: lr);
            Train = new DataLoader(Task.Train, batch_size: 10, shuffle: true, seed: 1); // 96 samples: 9 batches of 10, one of 6
            Test = new DataLoader(Task.Test, batch_size: 16);
            Trainer = new Trainer(Model, Optimizer, loss ?? ClassificationLoss.CrossEntropy(), options with { Progress = ProgressMode.None });
        }

        public ToyTask Task { get; }
        public Linear Model { get; }
        public Optimizer Optimizer { get; }
        public DataLoader Train { get; }
        public DataLoader Test { get; }
        public Trainer Trainer { get; }

        public void Dispose()
        {
            Trainer.Dispose();
            Optimizer.Dispose();
            Model.Dispose();
            Task.Dispose();
        }
    }

    [Fact]
    public void RecordsAreSampleWeightedMeansOfTheBatchLossesAndAccuracies()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        var batches = new List<(double loss, long correct, long samples)>();
        LossFunction observed = (model, batch) =>
        {
            LossResult r = ClassificationLoss.CrossEntropy()(model, batch);
            if (model.training) batches.Add((r.Loss.item<float>(), r.Correct!.item<long>(), batch[0].size(0)));
            return r;
        };
        using var setup = new Setup(new TrainerOptions { MaxSteps = 12, LogEvery = 4, OutputDirectory = folder.Path }, observed);
        setup.Trainer.Fit(setup.Train);

        List<MetricsLog.Line> records = MetricsLog.Read(folder.Path);
        Assert.Equal(["4 train", "8 train", "10 train_epoch", "12 train"], records.Select(r => $"{r.Step} {r.Split}"));
        AssertMeans(records[0], batches[..4]);
        AssertMeans(records[1], batches[4..8]);
        AssertMeans(records[2], batches[..10]);
        AssertMeans(records[3], batches[8..12]);
        Assert.Equal([0L, 0, 0, 1], records.Select(r => r.Epoch));
    }

    // A loss that is NaN on the third training call, and records the weights each training call sees.
    private static LossFunction NaNOnThirdStep(List<float[]> weightsSeen) => (model, batch) =>
    {
        LossResult r = ClassificationLoss.CrossEntropy()(model, batch);
        if (!model.training) return r;
        weightsSeen.Add(((Linear)model).weight.ToArray<float>());
        return weightsSeen.Count == 3 ? r with { Loss = r.Loss * double.NaN } : r;
    };

    [Fact]
    public void NonFiniteLossStopsAtThatStepWithTheWeightsOfTheLastGoodStep()
    {
        using var scope = NewDisposeScope();
        var seen = new List<float[]>();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 6 }, NaNOnThirdStep(seen));

        NonFiniteLossException error = Assert.Throws<NonFiniteLossException>(() => setup.Trainer.Fit(setup.Train));

        Assert.Equal(3, error.Step);
        Assert.True(double.IsNaN(error.Loss));
        Assert.StartsWith("step 3 (epoch 0): the loss is NaN", error.Message);
        Assert.Equal(2, setup.Trainer.Step);
        Assert.Equal(seen[2], setup.Model.weight.ToArray<float>()); // after step 2, untouched by step 3
        Assert.All(seen[2], w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void NonFiniteLossCanSkipTheStepAsAGradScalerDoes()
    {
        using var scope = NewDisposeScope();
        var seen = new List<float[]>();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 5, NonFiniteLoss = NonFiniteLoss.SkipStep }, NaNOnThirdStep(seen));

        TrainingResult result = setup.Trainer.Fit(setup.Train);

        Assert.Equal(5, result.Steps);
        Assert.Equal(seen[2], seen[3]); // step 3 changed nothing
        Assert.NotEqual(seen[3], seen[4]);
        Assert.All(setup.Model.weight.ToArray<float>(), w => Assert.True(float.IsFinite(w)));
    }

    // A loss that is finite on every call but whose gradient is NaN on the third training call (√0's slope times 0),
    // recording the weights each training call sees.
    private static LossFunction NaNGradientOnThirdStep(List<float[]> weightsSeen) => (model, batch) =>
    {
        LossResult r = ClassificationLoss.CrossEntropy()(model, batch);
        if (!model.training) return r;
        Tensor weight = ((Linear)model).weight;
        weightsSeen.Add(weight.ToArray<float>());
        return weightsSeen.Count == 3 ? r with { Loss = r.Loss + (weight.sum() * 0).sqrt() } : r;
    };

    [Fact]
    public void NonFiniteGradientOfAFiniteLossStopsNamingTheParameter()
    {
        using var scope = NewDisposeScope();
        var seen = new List<float[]>();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 6 }, NaNGradientOnThirdStep(seen));

        var error = Assert.Throws<NonFiniteGradientException>(() => setup.Trainer.Fit(setup.Train));

        Assert.StartsWith("step 3 (epoch 0): the gradient of 'weight' is NaN or ±∞ (the loss is finite)", error.Message);
        Assert.Equal(0, error.Parameter);
        Assert.Equal(2, setup.Trainer.Step);
        Assert.Equal(seen[2], setup.Model.weight.ToArray<float>());
        Assert.All(seen[2], w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void NonFiniteGradientIsSkippedUnderSkipStep()
    {
        using var scope = NewDisposeScope();
        var seen = new List<float[]>();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 5, NonFiniteLoss = NonFiniteLoss.SkipStep }, NaNGradientOnThirdStep(seen));

        TrainingResult result = setup.Trainer.Fit(setup.Train);

        Assert.Equal(5, result.Steps);
        Assert.Equal(seen[2], seen[3]);
        Assert.All(setup.Model.weight.ToArray<float>(), w => Assert.True(float.IsFinite(w)));
    }

    private static void AssertMeans(MetricsLog.Line record, List<(double loss, long correct, long samples)> batches)
    {
        long samples = batches.Sum(b => b.samples);
        Assert.Equal(batches.Sum(b => b.loss * b.samples) / samples, record.Loss!.Value, 1e-12);
        Assert.Equal((double)batches.Sum(b => b.correct) / samples, record.Accuracy!.Value, 1e-15);
    }

    [Fact]
    public void CsvHoldsTheSameRecordsAsJsonLinesWithColumnsWidenedForLaterExtraFields()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 6, LogEvery = 2, OutputDirectory = folder.Path });
        setup.Trainer.AddCallback(5, t => t.Log("probe", new Dictionary<string, double> { ["norm"] = 1.5, ["rank"] = t.Step }));
        setup.Trainer.Fit(setup.Train);

        string[] csv = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.CsvFileName));
        Assert.Equal("step,epoch,split,loss,accuracy,lr,samples_per_second,wall_time,norm,rank", csv[0]);
        List<MetricsLog.Line> records = MetricsLog.Read(folder.Path);
        Assert.Equal(["2 train", "4 train", "5 probe", "6 train"], records.Select(r => $"{r.Step} {r.Split}"));
        Assert.Equal(records.Count, csv.Length - 1);
        foreach ((MetricsLog.Line record, string row) in records.Zip(csv.Skip(1)))
        {
            string[] cells = row.Split(',');
            Assert.Equal(10, cells.Length);
            Assert.Equal(record.Step.ToString(), cells[0]);
            Assert.Equal(record.Split, cells[2]);
            Assert.Equal(record.Loss, cells[3] == "" ? null : double.Parse(cells[3], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(record.Split == "probe" ? "1.5" : "", cells[8]);
        }
        Assert.Equal(5, records[2].Raw.GetProperty("rank").GetDouble());
    }

    [Fact]
    public void EvaluationMatchesADirectComputationOnTheWholeTestSetInEvalMode()
    {
        using var scope = NewDisposeScope();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 5 });
        setup.Trainer.Fit(setup.Train);
        EvaluationResult result = setup.Trainer.Evaluate(setup.Test);

        Tensor x = setup.Task.Test.tensors[0], y = setup.Task.Test.tensors[1];
        Tensor logits = setup.Model.call(x);
        Assert.Equal(cross_entropy(logits, y).item<float>(), result.Loss, 1e-6);
        Assert.Equal((logits.argmax(1) == y).sum().item<long>() / 40.0, result.Accuracy);
        Assert.Equal(40, result.Samples);
        Assert.True(setup.Model.training, "evaluation restores training mode");
    }

    [Fact]
    public void EvaluationTurnsDropoutOff()
    {
        using var scope = NewDisposeScope();
        using var task = ToyTask.Create();
        using var model = new DropoutMlp(p: 0.5);
        using var optimizer = new SGD(model.parameters());
        using var trainer = new Trainer(model, optimizer, ClassificationLoss.CrossEntropy(), new TrainerOptions { MaxSteps = 1, Progress = ProgressMode.None });
        var test = new DataLoader(task.Test, batch_size: 16);
        Assert.Equal(trainer.Evaluate(test).Loss, trainer.Evaluate(test).Loss);
    }

    [Fact]
    public void BudgetIsTheFirstOfEpochsAndSteps()
    {
        using var scope = NewDisposeScope();
        using (var byEpochs = new Setup(new TrainerOptions { Epochs = 2, MaxSteps = 100 }))
            Assert.Equal((20L, 2L, false), Summary(byEpochs.Trainer.Fit(byEpochs.Train)));
        using (var bySteps = new Setup(new TrainerOptions { Epochs = 2, MaxSteps = 7 }))
            Assert.Equal((7L, 0L, false), Summary(bySteps.Trainer.Fit(bySteps.Train)));
    }

    private static (long, long, bool) Summary(TrainingResult r) => (r.Steps, r.Epochs, r.StoppedEarly);

    [Fact]
    public void EarlyStopEndsAtTheFirstEvaluationReachingTheTarget()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var setup = new Setup(new TrainerOptions
        {
            MaxSteps = 500,
            EvalEvery = 2,
            OutputDirectory = folder.Path,
            StopWhen = r => r.Split == "test" && r.Accuracy >= 0.9,
        });
        TrainingResult result = setup.Trainer.Fit(setup.Train, setup.Test);

        List<MetricsLog.Line> tests = MetricsLog.Read(folder.Path).Where(r => r.Split == "test").ToList();
        Assert.True(result.StoppedEarly);
        Assert.InRange(result.Steps, 2, 499);
        Assert.Equal(result.Steps, tests[^1].Step);
        Assert.True(tests[^1].Accuracy >= 0.9);
        Assert.All(tests[..^1], t => Assert.True(t.Accuracy < 0.9));
        Assert.Equal(tests[^1].Accuracy, result.LastEvaluation!.Accuracy);
        Assert.Equal(result.Steps, new CheckpointDirectory(Path.Combine(folder.Path, "checkpoints")).List().Single().step);
    }

    [Fact]
    public void CallbacksRunEveryNStepsAndStepsDoNotAccumulateTensors()
    {
        // Tensors other tests dropped must not be finalised mid-run, where they would change the count.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var scope = NewDisposeScope();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 20, LogEvery = 5 });
        var thirds = new List<long>();
        var live = new List<long>();
        setup.Trainer.AddCallback(3, t => thirds.Add(t.Step));
        setup.Trainer.AddCallback(1, _ => live.Add(Tensor.LiveCount));
        setup.Trainer.Fit(setup.Train, setup.Test);

        Assert.Equal([3L, 6, 9, 12, 15, 18], thirds);
        Assert.Equal(20, live.Count);
        Assert.Single(live.Skip(1).Distinct()); // step 1 creates the optimizer state; later steps leave nothing behind
    }

    [Fact]
    public void ClippingBoundsTheGradientNormOfEachStep()
    {
        using var scope = NewDisposeScope();
        using var setup = new Setup(new TrainerOptions { MaxSteps = 1, MaxGradNorm = 0.01 }, lr: 1, sgd: true);
        Tensor before = setup.Model.weight.clone(), biasBefore = setup.Model.bias!.clone();
        setup.Trainer.Fit(setup.Train);
        // Plain SGD with lr 1 moves the parameters by exactly the clipped gradient.
        double moved = Math.Sqrt((setup.Model.weight - before).square().sum().item<float>() + (setup.Model.bias! - biasBefore).square().sum().item<float>());
        Assert.Equal(0.01, moved, 1e-6);
    }

    [Fact]
    public void FreshRunRefusesToOverwriteAnotherRunsMetrics()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string existing = folder.Write(MetricsWriter.JsonlFileName, "{\"step\":1}\n"u8.ToArray());
        using var setup = new Setup(new TrainerOptions { MaxSteps = 2, OutputDirectory = folder.Path });
        Assert.Contains(existing, Assert.Throws<IOException>(() => setup.Trainer.Fit(setup.Train)).Message);
        Assert.Equal("{\"step\":1}\n", File.ReadAllText(existing));
    }

    [Fact]
    public void FinishedRunResumedAgainAddsNothing()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        // The last step is also a periodic checkpoint step, with a record in progress (steps 5–6).
        var options = new TrainerOptions { MaxSteps = 6, LogEvery = 4, CheckpointEvery = 3, OutputDirectory = folder.Path };
        using (var first = new Setup(options)) first.Trainer.Fit(first.Train, first.Test);
        Assert.Equal(["4 train", "6 train", "6 test"], MetricsLog.Read(folder.Path).Select(r => $"{r.Step} {r.Split}"));
        string[] logged = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonlFileName));

        using var again = new Setup(options);
        TrainingResult result = again.Trainer.Fit(again.Train, again.Test);
        Assert.Equal(6, result.Steps);
        Assert.Null(result.LastEvaluation);
        Assert.Equal(logged, File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonlFileName)));
    }

    [Fact]
    public void PlainLinesModePrintsOneLinePerRecord()
    {
        using var scope = NewDisposeScope();
        TextWriter console = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            using var setup = new Setup(new TrainerOptions { MaxSteps = 4, LogEvery = 2 });
            using var trainer = new Trainer(setup.Model, setup.Optimizer, ClassificationLoss.CrossEntropy(),
                setup.Trainer.Options with { Progress = ProgressMode.Lines });
            trainer.Fit(setup.Train, setup.Test);
        }
        finally
        {
            Console.SetOut(console);
        }
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("step 2 · epoch 0 · train · loss ", lines[0]);
        Assert.Contains(" · acc ", lines[1]);
        Assert.StartsWith("step 4 · epoch 0 · test · loss ", lines[2]);
    }
}
