// LoRA variants at equal rank on a transfer task, and adapter merging (issue 31). A small torchvision-layout ViT is
// pre-trained in full on Fashion-MNIST classes 0–4 (seed 0; saved as a torchvision .pt in the output folder and reused),
// then fine-tuned on classes 5–9 with a fresh 5-way head (trained in full) and LoRA, DoRA, PiSSA or OLoRA adapters,
// r 8, α 16, on q, k, v, o, fc1, fc2, over several seeds: accuracy vs samples, trainable parameters, time per step, and
// Welch's t-test of each method's final accuracy against LoRA's. The merging example trains two LoRA adapters on
// disjoint class subsets of a base pre-trained on all classes and combines them with add_weighted_adapter.
using System.Diagnostics;
using LoraVariants;

var cli = new ProgramCommand("lora-variants", "LoRA, DoRA, PiSSA and OLoRA at equal rank on a transfer task (Fashion-MNIST classes 0-4 → 5-9), and merging two LoRA adapters with add_weighted_adapter.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for the smoke test), quick (what docs/results.md reports, about 8 min on 2 free cores), paper (longer, 5 seeds)", Preset.Names);
var methodsOption = cli.Choices("--methods", [.. Method.Names], "fine-tuning methods, comma-separated", [.. Method.Names]);
var experimentsOption = cli.Choices("--experiments", ["transfer", "merging"], "which parts to run, comma-separated", "transfer", "merging");
var seedsOption = cli.Optional<int?>("--seeds", "seeds per method and of the merging example [default: the preset's]", "N");
var checkpointOption = cli.Optional<string>("--checkpoint", "a torchvision ViT (.pt/.pth/.safetensors) to fine-tune instead of the base pre-trained on classes 0-4", "FILE");
var headsOption = cli.Optional<long?>("--num-heads", "attention heads of --checkpoint [default: from config.json beside it or a standard ViT size]", "N");
var parsed = cli.Parse(args);
Preset preset = Preset.Parse(parsed.GetValue(presetOption)!);
if (parsed.GetValue(seedsOption) is { } seedCount)
{
    if (seedCount < 2) throw new ArgumentException($"--seeds {seedCount}: must be at least 2 (the t-test needs two values per method)");
    preset = preset with { Seeds = seedCount, MergeSeeds = seedCount };
}
Method[] methods = parsed.GetValue(methodsOption)!.Distinct().Select(Method.Get).ToArray();
string[] experiments = parsed.GetValue(experimentsOption)!;
bool transfer = experiments.Contains("transfer"), merging = experiments.Contains("merging");
string? checkpoint = parsed.GetValue(checkpointOption) is { } given ? Path.GetFullPath(given) : null;
if (checkpoint is not null && Directory.Exists(checkpoint)) throw new ArgumentException($"--checkpoint {checkpoint} is a folder; give the checkpoint file (.pt, .pth, .safetensors)");
if (checkpoint is not null && !File.Exists(checkpoint)) throw new FileNotFoundException($"--checkpoint {checkpoint}: no such file");
if (checkpoint is null && parsed.GetValue(headsOption) is not null) throw new ArgumentException("--num-heads applies only to a --checkpoint");
string output = cli.Output(parsed, preset.Name);

var clock = Stopwatch.StartNew();
using TensorDataset train = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
var m = Preset.Model;
Console.WriteLine($"preset {preset.Name}: ViT (torchvision layout) image {m.image_size}, patch {m.patch_size}, {m.num_layers} blocks, width {m.hidden_dim}, " +
                  $"{m.num_heads} heads, MLP {m.mlp_dim}; batch {preset.Batch}; {get_num_threads()} threads; output {Path.GetFullPath(output)}");
string transferBase = checkpoint ?? Bases.PathFor(output, preset, 0, 5), mergeBase = Bases.PathFor(output, preset, 0, 10);
long total = (transfer ? (checkpoint is null ? Bases.StepsToTrain(transferBase, preset) : 0) + (long)methods.Length * preset.Seeds * preset.FineTuneSteps : 0)
             + (merging ? Bases.StepsToTrain(mergeBase, preset) + (long)preset.MergeSeeds * 2 * preset.AdapterSteps : 0);
var progress = new StepProgress("lora-variants", Math.Max(1, total));
var summary = new List<string>();
progress.Run(() =>
{
    if (transfer)
    {
        if (checkpoint is null) Bases.Ensure(transferBase, preset, train, 0, 5, progress);
        using TensorDataset data = Data.Classes(train, Transfer.FirstClass, Transfer.Classes, relabel: true);
        using TensorDataset test = Data.Classes(testAll, Transfer.FirstClass, Transfer.Classes, relabel: true, limit: preset.TestImages);
        var runs = new List<TransferRun>();
        // Seeds outer, methods inner: a change in the machine's load during the run falls on every method alike.
        for (int seed = 1; seed <= preset.Seeds; seed++)
            foreach (Method method in methods)
                runs.Add(Transfer.Run(method, seed, transferBase, checkpoint is null ? Preset.Model.num_heads : parsed.GetValue(headsOption), preset, data, test, progress));
        Report.TransferCsv(runs, output);
        summary.Add(Report.Transfer(runs, output,
            $"Transfer: base {Path.GetFileName(transferBase)} fine-tuned on classes 5–9 ({data.Count:N0} training images, labels 5–9 → 0–4, fresh 5-way head " +
            $"trained in full), r 8, α 16 on q, k, v, o, fc1, fc2; {preset.FineTuneSteps} steps of {preset.Batch}, AdamW lr {preset.FineTuneLr}, no weight decay; " +
            $"seeds 1–{preset.Seeds}; test: the first {test.Count:N0} test images of classes 5–9. Methods: {string.Join("; ", methods.Select(x => x.Description))}."));
    }
    if (merging)
    {
        Bases.Ensure(mergeBase, preset, train, 0, 10, progress);
        using TensorDataset test = testAll.Take(preset.TestImages);
        var results = new List<MergeResult>();
        for (int seed = 1; seed <= preset.MergeSeeds; seed++) results.AddRange(LoraVariants.Merging.Run(seed, mergeBase, preset, train, test, progress));
        Report.MergingCsv(results, output);
        summary.Add(Report.Merging(results, output,
            $"Merging: base {Path.GetFileName(mergeBase)} (all 10 classes, head frozen); LoRA r 8, α 16 on q, k, v, o, fc1, fc2; adapter \"first\" trained on " +
            $"classes 0–4, \"second\" on classes 5–9, {preset.AdapterSteps} steps of {preset.Batch} each, AdamW lr {preset.FineTuneLr}; merged with weights [1, 1]: " +
            $"{string.Join("; ", LoraVariants.Merging.Combinations.Select(c => c.Description))}. " +
            $"Seeds 1–{preset.MergeSeeds}; test: the first {test.Count:N0} test images (all classes)."));
    }
});
OutputFile.WriteAllText(Path.Combine(output, "summary.md"), string.Join("\n", summary) + $"\nWall time {clock.Elapsed.TotalSeconds:F0} s.\n");
Console.WriteLine($"wrote summary.md, CSV files and figures to {Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:F0} s");
return 0;
