using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Training;

// Saving the whole training state and resuming from it.
public sealed partial class Trainer
{
    private const string WindowKey = "trainer.window", EpochKey = "trainer.epoch";

    private void SaveCheckpoint(CheckpointDirectory checkpoints, DataLoader train, DataLoader? test)
    {
        using Checkpoint checkpoint = Checkpoint.Capture(Model, Optimizer, Scheduler, Options.GradScaler);
        checkpoint.Step = Step;
        checkpoint.Epoch = train.Epoch;
        checkpoint.WallTime = WallTime;
        checkpoint.Loaders[TrainSplit] = train.state_dict();
        if (test is not null) checkpoint.Loaders[TestSplit] = test.state_dict();
        foreach ((string name, SplitMix64 generator) in Options.Generators) checkpoint.Generators[name] = generator.State;
        foreach ((string key, string value) in Options.Metadata) checkpoint.Metadata[key] = value;
        // The sums of a record in progress, so that a record spanning the checkpoint comes out as if never interrupted.
        checkpoint.Extra.Add(WindowKey, torch.tensor(_window.State()).DetachFromDisposeScope());
        checkpoint.Extra.Add(EpochKey, torch.tensor(_epochSums.State()).DetachFromDisposeScope());
        string path = checkpoints.Save(checkpoint);
        _progress?.Note($"saved checkpoint {path}");
    }

    private void Resume(string path, DataLoader train, DataLoader? test)
    {
        using Checkpoint checkpoint = Checkpoint.Load(path);
        // Everything is read and checked before the first part changes (Restore itself is all or nothing).
        double[] window = SumsState(checkpoint, WindowKey), epochSums = SumsState(checkpoint, EpochKey);
        foreach (string name in Options.Generators.Keys)
            if (!checkpoint.Generators.ContainsKey(name))
                throw new InvalidDataException($"checkpoint {checkpoint.Path} holds no state for the generator '{name}'");
        var loaders = new Dictionary<string, DataLoader> { [TrainSplit] = train };
        if (test is not null && checkpoint.Loaders.ContainsKey(TestSplit)) loaders[TestSplit] = test;
        checkpoint.Restore(Model, Optimizer, Scheduler, Options.GradScaler, loaders);
        foreach ((string name, SplitMix64 generator) in Options.Generators) checkpoint.RestoreGenerator(name, generator);
        _window.Load(window);
        _epochSums.Load(epochSums);
        Step = checkpoint.Step;
        Epoch = train.Epoch;
        _wallTimeBefore = checkpoint.WallTime;
    }

    private static double[] SumsState(Checkpoint checkpoint, string key)
    {
        if (!checkpoint.Extra.TryGetValue(key, out Tensor? state) || state.dtype != ScalarType.Float64 || state.numel() != RunningMetrics.StateLength)
            throw new InvalidDataException($"checkpoint {checkpoint.Path} holds no valid '{key}' tensor (was it written by a Trainer?)");
        return state.ToArray<double>();
    }
}
