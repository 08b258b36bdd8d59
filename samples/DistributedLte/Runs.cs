using System.Diagnostics;
using LowRankBias.Lte;
using LowRankBias.Torch.Distributed;
using LowRankBias.Torch.IO;

namespace DistributedLte;

/// <summary>One rank's training run in each mode, on the same data stream: every rank draws the same cumulative batches.</summary>
internal static class Runs
{
    private const ulong HeadSeed = 7;
    private const double FullRankLr = 1e-3;

    public static Report Train(Settings s, DistributedEnvironment place)
    {
        manual_seed(0);
        using TensorDataset trainAll = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
        using TensorDataset train = Flat(trainAll, s.Train, s.DType), test = Flat(testAll, 5_000, s.DType);
        using Module model = new MLP(new MLP.Config { widths = [784, 256, 256, 10] }).to(s.DType);
        long modelBytes = model.parameters().Sum(p => p.numel() * p.dtype.ElementSize());
        var loader = new DataLoader(train, batch_size: s.Batch, shuffle: true, drop_last: true, seed: 1);
        var options = new LteOptions { Heads = s.Heads, Rank = s.Rank, MergeEvery = s.MergeEvery, AdaptiveMerge = s.AdaptiveMerge, Exclude = "layers.2" }; // the classifier: averaged replicas
        // A silent (stopped, hung) rank is noticed after --timeout; a killed one closes its sockets and is noticed at once.
        // A restarted rank (the launcher's --max-restarts) asks the running group to take it back.
        ProcessGroup? group = s.Mode == "single" ? null
            : place.RestartCount > 0 ? ProcessGroup.rejoin("gloo", TimeSpan.FromMinutes(2), place)
            : ProcessGroup.init_process_group("gloo", TimeSpan.FromSeconds(s.Timeout), place);
        if (place.RestartCount == 0) group?.CheckSameConfiguration("settings", s.Fingerprint()); // different settings fail here, in seconds
        LowRankBias.Lte.DistributedLte? lte = null;
        try
        {
            var clock = Stopwatch.StartNew();
            long start = 0; // a rank that rejoined goes on from the step of the group's last merge
            (Func<Tensor, Tensor, double> step, Module evaluated, long headBytes) = s.Mode switch
            {
                "single" => Single(model, options),
                "lte" => Lte(model, options, group!, s.Elastic, out lte, out start),
                _ => DataParallel(model, group!),
            };
            Action<string>? log = s.Out is { } dir ? StepLog(dir, s.Mode, place) : null;
            var losses = new List<double>();
            long merges = lte?.Merges ?? 0;
            for (int i = 0; i < start; i++) DisposeAll(loader.Next());
            for (int i = (int)start; i < s.Steps; i++)
            {
                using var scope = NewDisposeScope();
                if (place.Rank == s.FailRank && i == s.FailAtStep && place.RestartCount == 0) Die(i);
                Tensor[] batch = loader.Next();
                losses.Add(step(batch[0], batch[1]));
                log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{i + 1},\"loss\":{losses[^1]:R}}}"));
                if (lte is not null && lte.Merges != merges && lte.group.rank == 0 && s.Out is { } folder) SaveMergeCheckpoint(lte, i + 1, folder);
                merges = lte?.Merges ?? 0;
                if (place.Rank == 0 && (i + 1) % 50 == 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Mode} step {i + 1}/{s.Steps}: loss {losses.TakeLast(50).Average():F4} ({clock.Elapsed.TotalSeconds:F0} s)"));
            }
            (double accuracy, double testLoss) = Evaluate(evaluated, test);
            ProcessGroup? final = lte?.group ?? group; // a re-formed group after failures
            CommunicationStats? stats = final?.stats;
            int world = final?.world_size ?? 1;
            return new Report(s.Mode, world, s.Steps, losses.TakeLast(20).Average(), accuracy, testLoss, Digest(evaluated),
                stats?.PayloadBytes(CollectiveKind.AllReduce) ?? 0, stats?.PayloadBytes(CollectiveKind.AllGather) ?? 0,
                stats?.PayloadBytes(CollectiveKind.Broadcast) ?? 0, stats?.WireBytes(world) ?? 0, modelBytes, headBytes, clock.Elapsed.TotalSeconds,
                lte?.heads_alive ?? s.Heads, final?.generation ?? 0, lte?.Merges ?? 0, Leader: (final?.rank ?? 0) == 0);
        }
        finally
        {
            if (lte is not null && !ReferenceEquals(lte.group, group)) lte.group.Dispose();
            group?.Dispose();
        }
    }

    // Every step's loss, one JSON line each, appended whole as written: a rank that dies keeps everything up to its
    // death, and a full disk leaves no half line. A restarted rank goes on with its log.
    private static Action<string> StepLog(string dir, string mode, DistributedEnvironment place)
    {
        ProgramCommand.CreateOutput(dir);
        string path = Path.Combine(dir, $"{mode}-w{place.WorldSize}-rank{place.Rank}.jsonl");
        if (place.RestartCount == 0) File.Delete(path);
        return line => AtomicFile.Append(path, line + Environment.NewLine);
    }

    // The main weights after a merge (heads are reset then), written atomically: a crash mid-write leaves the previous one.
    private static void SaveMergeCheckpoint(LowRankBias.Lte.DistributedLte lte, int step, string dir)
    {
        var metadata = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["merges"] = lte.Merges.ToString(CultureInfo.InvariantCulture),
            ["heads_alive"] = lte.heads_alive.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.save_file(lte.local.model.state_dict(), Path.Combine(dir, "lte-merge-checkpoint.safetensors"), metadata);
    }

    private static void DisposeAll(Tensor[] tensors)
    {
        foreach (Tensor t in tensors) t.Dispose();
    }

    // As if killed from outside: SIGKILL, no clean-up, sockets closed by the kernel.
    private static void Die(int step)
    {
        Console.WriteLine($"killing myself before step {step + 1}");
        Console.Out.Flush();
        Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }

    private static (Func<Tensor, Tensor, double>, Module, long) Single(Module model, LteOptions options)
    {
        var lte = new LowRankBias.Lte.Lte(model, options);
        lte.ReseedHeads(HeadSeed);
        var trainer = new LteTrainer(lte, new AdamW(lte.ParameterGroups(LteOptimizer())), (o, t) => nn.functional.cross_entropy(o, t));
        return ((x, y) => trainer.Step(x, y), new FinalMerge(lte.Merge, lte), HeadBytes(lte));
    }

    private static (Func<Tensor, Tensor, double>, Module, long) Lte(Module model, LteOptions options, ProcessGroup group, bool elastic,
        out LowRankBias.Lte.DistributedLte lte, out long start)
    {
        lte = new LowRankBias.Lte.DistributedLte(model, options, group, HeadSeed) { VerifyMerges = true, Elastic = elastic };
        lte.Reformed += g => Console.WriteLine($"group re-formed (generation {g.generation}): members' previous ranks [{string.Join(", ", g.previous_ranks)}] (−1: restarted), now rank {g.rank} of {g.world_size}");
        var trainer = new DistributedLteTrainer(lte, new AdamW(lte.local.ParameterGroups(LteOptimizer())), (o, t) => nn.functional.cross_entropy(o, t));
        start = trainer.Iteration;
        return ((x, y) => trainer.Step(x, y), new FinalMerge(lte.Merge, lte.local), HeadBytes(lte.local));
    }

    private static (Func<Tensor, Tensor, double>, Module, long) DataParallel(Module model, ProcessGroup group)
    {
        var ddp = new DistributedDataParallel(model, group);
        var optimizer = new AdamW(model.parameters(), lr: FullRankLr, weight_decay: 0.05);
        double Step(Tensor x, Tensor y)
        {
            long share = x.size(0) / group.world_size;
            Tensor loss = nn.functional.cross_entropy(ddp.call(x.narrow(0, group.rank * share, share)), y.narrow(0, group.rank * share, share));
            optimizer.zero_grad();
            loss.backward();
            ddp.all_reduce_gradients();
            optimizer.step();
            return loss.item<float>();
        }
        return (Step, ddp, 0);
    }

    // The paper's rule: LTE's learning rate is 0.05–0.1 × the full-rank one (with α = 4096).
    private static AdamWOptions LteOptimizer() => new() { lr = LteOptions.PaperLearningRateFactor * FullRankLr, weight_decay = 0.05 };

    private static long HeadBytes(LowRankBias.Lte.Lte lte) => lte.lora_layers().Sum(l =>
        (l.layer.lora_A["default"].numel() + l.layer.lora_B["default"].numel()) * l.layer.lora_A["default"].dtype.ElementSize()) / lte.heads;

    private static TensorDataset Flat(TensorDataset all, int count, ScalarType dtype)
    {
        using TensorDataset part = all.Take(count);
        using var scope = NewDisposeScope();
        return new TensorDataset(part.tensors[0].reshape(-1, 784).to(dtype), part.tensors[1]);
    }

    private static (double accuracy, double loss) Evaluate(Module model, TensorDataset test)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logits = model.call(test.tensors[0]);
        double accuracy = (logits.argmax(1) == test.tensors[1]).to(ScalarType.Float64).mean().item<double>();
        return (accuracy, nn.functional.cross_entropy(logits, test.tensors[1]).to(ScalarType.Float64).item<double>());
    }

    // Σᵢ (i + 1)·Σ pᵢ in float64 over the parameters: equal models give equal digests.
    private static double Digest(Module model)
    {
        using var scope = NewDisposeScope();
        return model.parameters().Where(p => !p.requires_grad || model is DistributedDataParallel)
            .Select((p, i) => (i + 1) * p.to(ScalarType.Float64).sum().item<double>()).Sum();
    }

    /// <summary>Evaluates an LTE model after a last merge, so its base weights are the trained model.</summary>
    private sealed class FinalMerge(Action merge, Module lte) : Module
    {
        private bool _merged;

        public Module model => lte;

        public override Tensor forward(Tensor input)
        {
            if (!_merged) { merge(); _merged = true; }
            return lte.call(input);
        }
    }
}

/// <summary>What one rank reports (rank 0's is printed and saved).</summary>
internal sealed record Report(
    string Mode, int World, int Steps, double FinalTrainLoss, double TestAccuracy, double TestLoss, double WeightsDigest,
    long AllReduceBytes, long AllGatherBytes, long BroadcastBytes, double WireBytes, long ModelBytes, long HeadBytes, double Seconds,
    int HeadsAlive, int Generation, long Merges, bool Leader)
{
    public void Print(Settings s)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Mode} on {World} rank(s) ({HeadsAlive} heads at the end, {Merges} merges): test accuracy {100 * TestAccuracy:F2}%, test loss {TestLoss:F4}, final train loss {FinalTrainLoss:F4}, weights digest {WeightsDigest:R}, {Seconds:F0} s"));
        if (World == 1) return;
        double perStep = WireBytes / Steps;
        // The paper's totals over all N workers per step: LTE (1/T)·N(N−1)·M_lte, DDP N(N−1)·M; with the merge
        // controller 1/T is the merges made per step.
        double n = s.Heads, perMerge = s.AdaptiveMerge is null ? 1.0 / s.MergeEvery : (double)Merges / Steps;
        double formula = Mode == "lte" ? n * (n - 1) * HeadBytes * perMerge : World * (World - 1.0) * ModelBytes;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  rank 0 sent {AllReduceBytes:N0} B in all-reduces (+{BroadcastBytes:N0} B set-up broadcast); ring estimate {perStep:N0} B per step per rank, {perStep * World:N0} B per step in all; paper's formula {formula:N0} B per step"));
    }
}
