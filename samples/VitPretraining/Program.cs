// ViT pre-training from scratch (LTE paper figures 1 and 4, Table 1; thesis figures 4.2–4.9): full-rank training,
// low-rank LoRA, LoRA + merge, multi-head LoRA and LTE on the same data, through one loop. LTE may see up to 2× the
// cumulative samples (as the paper allows). Curves against cumulative samples and against samples per device, the
// LTE heads' similarity, a summary table, and with --grid the Table 1 grid over heads × rank × merge period.
// Usage: VitPretraining [--preset tiny|small|quick|long|paper] [--methods full,lora,lora-merge,mhlora,lte] [--grid] [--freeze-extras]
//                       (methods lora-nf4 and lte-nf4, run only when named, keep the adapted base weights in NF4)
//                       [--with EARLIER/curves.csv]   (plots and tabulates an earlier run's methods with this run's)
//                       [--data fashion-mnist|cifar10|cifar100] [--data-dir DIR] [--out DIR]
using System.Globalization;
using LowRankBias.Lte;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using VitPretraining;
using static LowRankBias.Torch.torch;

Preset preset = Preset.Parse(Option("--preset") ?? "quick") with { FreezeExtras = args.Contains("--freeze-extras") };
string[] methods = (Option("--methods") ?? string.Join(",", Method.All)).Split(',', StringSplitOptions.RemoveEmptyEntries);
string data = Option("--data") ?? "fashion-mnist";
string output = Option("--out") ?? Path.Combine("out", "vit-pretraining", preset.Name);
Directory.CreateDirectory(output);

(TensorDataset train, TensorDataset test, int classes) = Load(data, Option("--data-dir"));
using (train)
using (test)
{
    long[] shape = train.tensors[0].shape;  // [N, C, H, W]
    var model = preset.Model with { in_channels = shape[1], image_size = shape[2], num_classes = classes };
    Console.WriteLine($"{data}: {train.Count} training / {test.Count} test images; ViT width {model.hidden_dim}, depth {model.num_layers}, " +
                      $"patch {model.patch_size}; batch {preset.Batch}; {get_num_threads()} threads; output {Path.GetFullPath(output)}");

    // An earlier run's methods join the report, unless this run trains them again.
    var points = new List<Point>(Option("--with") is { } earlier ? Report.Read(earlier).Where(p => !methods.Contains(p.Method)) : []);
    foreach (string name in methods)
    {
        long samples = name is "lte" or "lte-nf4" ? (long)(preset.Samples * preset.LteSampleFactor) : preset.Samples;
        long steps = samples / preset.Batch;
        manual_seed(0);
        using Method method = Method.Create(name, model, preset, steps);
        Console.WriteLine($"{name}: {steps} steps of {preset.Batch} samples");
        points.AddRange(Run.Train(method, train, test, preset.Batch, steps, preset.Evaluations, Print));
    }
    Report.Curves(points, output, $"ViT on {data}");
    Report.Summary(points, output);

    if (args.Contains("--grid"))
    {
        var cells = new List<(int, int, int, double)>();
        long steps = preset.GridSamples / preset.Batch;
        foreach (int heads in preset.GridHeads)
        foreach (int rank in preset.GridRanks)
        foreach (int mergeEvery in preset.GridMergeEvery)
        {
            manual_seed(0);
            var options = new LteOptions { Heads = heads, Rank = rank, Alpha = preset.Alpha, MergeEvery = mergeEvery, Exclude = "head" };
            using Method method = Method.Create("lte", model, preset, steps, options);
            Console.WriteLine($"grid: {heads} heads, rank {rank}, merge every {mergeEvery}");
            double accuracy = Run.Train(method, train, test, preset.Batch, steps, 1, Print)[^1].TestAccuracy;
            cells.Add((heads, rank, mergeEvery, accuracy));
        }
        Report.Grid(cells, output);
    }
}
Console.WriteLine($"wrote curves.csv, summary.md, *.svg{(args.Contains("--grid") ? ", grid.csv" : "")} to {Path.GetFullPath(output)}");

static void Print(Point p) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {p.Method,-10} step {p.Step,6}  samples {p.Samples,9:N0}  train loss {p.TrainLoss:F4}  test loss {p.TestLoss:F4}  test acc {100 * p.TestAccuracy:F2}%" +
    $"{(p.HeadCosineSimilarity is { } s ? $"  head cos {s:F3}" : "")}  {p.Seconds:F0}s"));

(TensorDataset train, TensorDataset test, int classes) Load(string name, string? folder)
{
    (TensorDataset train, TensorDataset test, int classes) all = name switch
    {
        "fashion-mnist" => (FashionMnist.Load(train: true, folder), FashionMnist.Load(train: false, folder), 10),
        "cifar10" => (Cifar10.Load(Required(folder), train: true), Cifar10.Load(Required(folder), train: false), 10),
        "cifar100" => (Cifar100.Load(Required(folder), train: true), Cifar100.Load(Required(folder), train: false), 100),
        _ => throw new ArgumentException($"unknown data set '{name}': use fashion-mnist, cifar10 or cifar100"),
    };
    return (Subset(all.train, preset.TrainSubset), Subset(all.test, preset.TestSubset), all.classes);
}

static string Required(string? folder) => folder ?? throw new ArgumentException("CIFAR needs --data-dir: the folder with the binary-format files");

// The first n samples (the files are already shuffled); the full set is let go once cut.
static TensorDataset Subset(TensorDataset all, int? n)
{
    if (n is not { } count || count >= all.Count) return all;
    using (all) return all.Take(count);
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
