using LowRankBias.Torch.Data;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Data;
using LowRankBias.Torch.Training;

namespace LowRankBias.Torch.Tests.Training;

// Captures and restores the global generator: serial.
[Collection(SerialCollection.Name)]
public partial class CheckpointFileTests
{
    private sealed class Setup : IDisposable
    {
        public Setup(long inFeatures = 3)
        {
            Model = new Linear(inFeatures, 2, dtype: ScalarType.Float64);
            Optimizer = new AdamW(ParamGroup.WeightDecayGroups(Model, new AdamWOptions { lr = 0.05, betas = (0.8, 0.95), eps = 1e-7, weight_decay = 0.1, amsgrad = true }));
            Scheduler = new WarmupCosineLR(Optimizer, warmup_steps: 2, total_steps: 10);
        }

        public Linear Model { get; }
        public AdamW Optimizer { get; }
        public WarmupCosineLR Scheduler { get; }

        public void Train(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                Optimizer.zero_grad();
                Model.call(randn([4, Model.in_features], ScalarType.Float64)).square().mean().backward();
                Optimizer.step();
                Scheduler.step();
            }
        }

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    [Fact]
    public void SavedAndLoadedCheckpointRestoresEveryPart()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "run.safetensors");
        manual_seed(1);
        using var original = new Setup();
        original.Train(3);
        using (Checkpoint saved = Checkpoint.Capture(original.Model, original.Optimizer, original.Scheduler))
        {
            saved.Step = 3;
            saved.Epoch = 1;
            saved.WallTime = 12.5;
            saved.Loaders["train"] = new DataLoaderState(1, 2, ulong.MaxValue);
            saved.Generators["crop"] = 0xDEADBEEFCAFEF00D;
            saved.Extra.Add("counts", tensor(new long[] { 4, 5 }).DetachFromDisposeScope());
            saved.Metadata["config"] = "{\"width\": 2}";
            saved.Save(path);
        }
        double[] nextDraws = rand([5], ScalarType.Float64).ToArray<double>();
        double[] weight = original.Model.weight.ToArray<double>();
        using OptimizerStateDict optimizerState = original.Optimizer.state_dict();

        manual_seed(2);
        using var fresh = new Setup();
        using Checkpoint loaded = Checkpoint.Load(path);
        loaded.Restore(fresh.Model, fresh.Optimizer, fresh.Scheduler);

        Assert.Equal(path, loaded.Path);
        Assert.Equal((3L, 1L, 12.5), (loaded.Step, loaded.Epoch, loaded.WallTime));
        Assert.Equal(new DataLoaderState(1, 2, ulong.MaxValue), loaded.Loaders["train"]);
        Assert.Equal(0xDEADBEEFCAFEF00D, loaded.Generators["crop"]);
        Assert.Equal([4L, 5], loaded.Extra["counts"].ToArray<long>());
        Assert.Equal("{\"width\": 2}", loaded.Metadata["config"]);
        Assert.Equal(weight, fresh.Model.weight.ToArray<double>());
        Assert.Equal(nextDraws, rand([5], ScalarType.Float64).ToArray<double>());
        Assert.Equal(original.Scheduler.state_dict().base_lrs, fresh.Scheduler.state_dict().base_lrs);
        Assert.Equal(original.Scheduler.last_epoch, fresh.Scheduler.last_epoch);

        using OptimizerStateDict restored = fresh.Optimizer.state_dict();
        Assert.Equal(optimizerState.param_groups.Select(g => (g.options, string.Join(",", g.@params))),
            restored.param_groups.Select(g => (g.options, string.Join(",", g.@params))));
        Assert.Equal(optimizerState.state.Keys, restored.state.Keys);
        foreach ((int index, ParameterState expected) in optimizerState.state)
        {
            Assert.Equal(expected.step, restored.state[index].step);
            Assert.Equal(expected.tensors.Keys, restored.state[index].tensors.Keys);
            foreach ((string name, Tensor t) in expected.tensors)
                Assert.Equal(t.ToArray<double>(), restored.state[index].tensors[name].ToArray<double>());
        }
    }

    [Fact]
    public void FileIsPlainSafetensorsWithTheDocumentedNames()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "run.safetensors");
        using var setup = new Setup();
        setup.Train(1);
        using (Checkpoint checkpoint = Checkpoint.Capture(setup.Model, setup.Optimizer)) checkpoint.Save(path);

        Dictionary<string, Tensor> tensors = SafeTensors.load_file(path);
        Assert.Equal(["model.bias", "model.weight", "optim.0.exp_avg", "optim.0.exp_avg_sq", "optim.0.max_exp_avg_sq",
            "optim.1.exp_avg", "optim.1.exp_avg_sq", "optim.1.max_exp_avg_sq", "rng"], tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(setup.Model.weight.ToArray<double>(), tensors["model.weight"].ToArray<double>());
        Assert.Contains("\"amsgrad\":true", SafeTensors.load_metadata(path)["lowrankbias.checkpoint"]);
    }

    [Fact]
    public void SaveFailingMidwayLeavesThePreviousCheckpointLoadable()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        var checkpoints = new CheckpointDirectory(folder.Path);
        using var setup = new Setup();
        setup.Train(1);
        double[] savedWeight = setup.Model.weight.ToArray<double>();
        using (Checkpoint first = Checkpoint.Capture(setup.Model, setup.Optimizer))
        {
            first.Step = 5;
            checkpoints.Save(first);
        }
        byte[] firstBytes = File.ReadAllBytes(checkpoints.PathFor(5));

        setup.Train(1);
        using Checkpoint second = Checkpoint.Capture(setup.Model, setup.Optimizer);
        second.Step = 10;
        // A sparse tensor has a shape and dtype for the header but no dense bytes: the writer fails after the header
        // and the model's weights are already in the file.
        second.Model.Add("zz_sparse", new Op("aten::to_sparse").Call(eye(2, dtype: ScalarType.Float64)).DetachFromDisposeScope());
        Assert.ThrowsAny<Exception>(() => checkpoints.Save(second));
        Assert.ThrowsAny<Exception>(() => second.Save(checkpoints.PathFor(5)));

        Assert.Equal([Path.GetFileName(checkpoints.PathFor(5))], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        Assert.Equal(firstBytes, File.ReadAllBytes(checkpoints.PathFor(5)));
        using var fresh = new Setup();
        using Checkpoint loaded = Checkpoint.Load(checkpoints.Latest()!);
        loaded.Restore(fresh.Model, fresh.Optimizer);
        Assert.Equal(5, loaded.Step);
        Assert.Equal(savedWeight, fresh.Model.weight.ToArray<double>());
    }

    [Fact]
    public void DirectoryKeepsTheNewestByStepAndSweepsAbandonedTemporaryFiles()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        var checkpoints = new CheckpointDirectory(folder.Path, keep_last: 2);
        Assert.Null(checkpoints.Latest());
        using var setup = new Setup();
        string abandoned = folder.Write(".step-0000000009.safetensors.0123abcd.tmp", [1, 2, 3]); // a save killed midway
        string unrelated = folder.Write("notes.txt", [1]);
        foreach (long step in new long[] { 30, 10, 20, 40 })
        {
            using Checkpoint checkpoint = Checkpoint.Capture(setup.Model);
            checkpoint.Step = step;
            checkpoints.Save(checkpoint);
        }
        Assert.Equal([30L, 40], checkpoints.List().Select(c => c.step));
        Assert.Equal(checkpoints.PathFor(40), checkpoints.Latest());
        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(unrelated));
    }

    [Fact]
    public void MissingOrDamagedFilesGiveErrorsNamingTheFile()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string missing = Path.Combine(folder.Path, "missing.safetensors");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(missing)).Message);

        using var setup = new Setup();
        string good = Path.Combine(folder.Path, "good.safetensors");
        using (Checkpoint checkpoint = Checkpoint.Capture(setup.Model, setup.Optimizer)) checkpoint.Save(good);
        byte[] bytes = File.ReadAllBytes(good);
        string truncated = folder.Write("truncated.safetensors", bytes[..(bytes.Length - 9)]);
        Assert.Contains(truncated, Assert.Throws<InvalidDataException>(() => Checkpoint.Load(truncated)).Message);

        string plain = Path.Combine(folder.Path, "plain.safetensors");
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["w"] = ones([2]) }, plain);
        InvalidDataException foreign = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(plain));
        Assert.Contains(plain, foreign.Message);
        Assert.Contains("not a training checkpoint", foreign.Message);
    }

    [Fact]
    public void CheckpointOfAnotherArchitectureOrOptimizerIsRefusedNamingTheFile()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "run.safetensors");
        using var setup = new Setup(inFeatures: 3);
        setup.Train(1);
        using (Checkpoint checkpoint = Checkpoint.Capture(setup.Model, setup.Optimizer)) checkpoint.Save(path);
        using Checkpoint loaded = Checkpoint.Load(path);

        using var wider = new Setup(inFeatures: 4);
        double[] before = wider.Model.weight.ToArray<double>();
        InvalidDataException shape = Assert.Throws<InvalidDataException>(() => loaded.Restore(wider.Model, wider.Optimizer));
        Assert.Contains(path, shape.Message);
        Assert.Contains("shape mismatch for 'weight'", shape.Message);
        Assert.Equal(before, wider.Model.weight.ToArray<double>());

        using var same = new Setup(inFeatures: 3);
        using var sgd = new SGD(same.Model.parameters(), lr: 0.1);
        InvalidDataException optimizer = Assert.Throws<InvalidDataException>(() => loaded.Restore(same.Model, sgd));
        Assert.Contains(path, optimizer.Message);
        Assert.Contains("SGD", optimizer.Message);

        using var other = new Sequential(new Linear(3, 2, dtype: ScalarType.Float64));
        InvalidDataException keys = Assert.Throws<InvalidDataException>(() => loaded.Restore(other));
        Assert.Contains("missing keys [0.weight, 0.bias]", keys.Message);
    }

    [Fact]
    public void FailedRestoreLeavesModelOptimizerSchedulerAndGeneratorAsTheyWere()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "bad-rng.safetensors");
        manual_seed(1);
        using var saved = new Setup();
        saved.Train(3);
        using (Checkpoint checkpoint = Checkpoint.Capture(saved.Model, saved.Optimizer, saved.Scheduler))
        {
            checkpoint.Loaders["train"] = new DataLoaderState(2, 1, 7);
            checkpoint.RngState!.Dispose();
            checkpoint.RngState = zeros([16], ScalarType.Byte).DetachFromDisposeScope(); // a damaged generator state
            checkpoint.Save(path);
        }

        manual_seed(2);
        using var target = new Setup();
        target.Train(2);
        double[] weight = target.Model.weight.ToArray<double>(), bias = target.Model.bias!.ToArray<double>();
        using OptimizerStateDict optimizerBefore = target.Optimizer.state_dict();
        (long epoch, double lr) schedulerBefore = (target.Scheduler.last_epoch, target.Optimizer.param_groups[0].lr);
        using Tensor rngBefore = get_rng_state();

        using Checkpoint loaded = Checkpoint.Load(path);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() =>
            loaded.Restore(target.Model, target.Optimizer, target.Scheduler));

        Assert.Contains(path, error.Message);
        Assert.Contains("rng", error.Message);
        Assert.Equal(weight, target.Model.weight.ToArray<double>());
        Assert.Equal(bias, target.Model.bias!.ToArray<double>());
        using OptimizerStateDict optimizerAfter = target.Optimizer.state_dict();
        foreach ((int index, ParameterState expected) in optimizerBefore.state)
        {
            Assert.Equal(expected.step, optimizerAfter.state[index].step);
            foreach ((string name, Tensor t) in expected.tensors)
                Assert.Equal(t.ToArray<double>(), optimizerAfter.state[index].tensors[name].ToArray<double>());
        }
        Assert.Equal(schedulerBefore, (target.Scheduler.last_epoch, target.Optimizer.param_groups[0].lr));
        using Tensor rngAfter = get_rng_state();
        Assert.Equal(rngBefore.ToArray<byte>(), rngAfter.ToArray<byte>());
    }

    [Fact]
    public void LoaderThatDoesNotFitIsFoundBeforeTheModelChanges()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "run.safetensors");
        using var saved = new Setup();
        using (Checkpoint checkpoint = Checkpoint.Capture(saved.Model))
        {
            checkpoint.Loaders["train"] = new DataLoaderState(0, 9, 1); // step 9 of an epoch of 3
            checkpoint.Save(path);
        }
        using var target = new Setup();
        double[] weight = target.Model.weight.ToArray<double>();
        var loader = new DataLoader(new TensorDataset(arange(12)), batch_size: 4);
        using Checkpoint loaded = Checkpoint.Load(path);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() =>
            loaded.Restore(target.Model, loaders: new Dictionary<string, DataLoader> { ["train"] = loader }));

        Assert.Contains(path, error.Message);
        Assert.Contains("data loader 'train'", error.Message);
        Assert.Equal(weight, target.Model.weight.ToArray<double>());
    }

    [Fact]
    public void DisposedCheckpointSaysSo()
    {
        using var setup = new Setup();
        Checkpoint checkpoint = Checkpoint.Capture(setup.Model);
        checkpoint.Dispose();

        ObjectDisposedException error = Assert.Throws<ObjectDisposedException>(() => checkpoint.Restore(setup.Model));
        Assert.Contains("disposed", error.Message);
        Assert.Throws<ObjectDisposedException>(() => checkpoint.Save("never-written.safetensors"));
    }
}
