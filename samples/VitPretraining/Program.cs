// ViT pre-training from scratch (LTE paper figures 1 and 4, Table 1; thesis figures 4.2–4.9): full-rank training,
// low-rank LoRA, LoRA + merge, multi-head LoRA and LTE on the same data, through one loop. LTE may see up to 2× the
// cumulative samples (as the paper allows). Curves against cumulative samples and against samples per device, the
// LTE heads' similarity, a summary table, and with --grid the Table 1 grid over heads × rank × merge period.
// Methods lora-nf4 and lte-nf4, run only when named, keep the adapted base weights in NF4.
using LowRankBias.Lte;
using VitPretraining;

var cli = new ProgramCommand("vit-pretraining", "ViT pre-training from scratch (LTE paper figures 1 and 4, Table 1): full rank, LoRA, LoRA + merge, multi-head LoRA and LTE on the same data.");
var presetOption = cli.Choice("--preset", "quick", "budget: main (the main job, minutes), tiny (seconds, for CI), small, quick (about 30 min on 2 cores), grid (Table 1 at a converging budget; with --methods full --grid), long (about 90 min), paper (ViT-S, for a GPU)", "main", "tiny", "small", "quick", "grid", "long", "paper");
var methodsOption = cli.Choices("--methods", Method.All, "methods to train, comma-separated (lora-nf4 and lte-nf4 keep the adapted base weights in NF4; run only when named)", [.. Method.All, .. Method.Quantized]);
var gridOption = cli.Flag("--grid", "also the Table 1 grid over heads x rank x merge period");
var freezeOption = cli.Flag("--freeze-extras", "keep the patch projection, tokens and LayerNorm affine parameters at their initial values");
var withOption = cli.Optional<string>("--with", "an earlier run's curves.csv, whose methods are plotted and tabulated with this run's", "CSV");
var spectraOption = cli.Flag("--spectra", "record every weight matrix's spectrum at each evaluation (SpectralMonitor; <out>/<method>/spectral.jsonl and figures)");
var dataOption = cli.Choice("--data", "fashion-mnist", "data set", "fashion-mnist", "cifar10", "cifar100");
var dataDirOption = cli.Optional<string>("--data-dir", "folder of the data set's files (CIFAR: the binary-format files)", "DIR");
var seedOption = cli.Add("--seed", 0, "seed of the models' initialisation and the data order");
var gridMergeOption = cli.Optional<string>("--grid-merge-every", "the grid's merge periods, comma-separated (default: the preset's; one cell per heads x rank with --merge-policy adaptive)", "T,T,...");
var gridHeadsOption = cli.Optional<string>("--grid-heads", "the grid's head counts, comma-separated (default: the preset's)", "N,N,...");
var gridRanksOption = cli.Optional<string>("--grid-ranks", "the grid's head ranks, comma-separated (default: the preset's)", "R,R,...");
var gridEvaluationsOption = cli.Add("--grid-evaluations", 1, "test evaluations per grid cell, evenly spaced (grid-curves.csv: accuracy vs samples and merges)");
var lteControls = new LteControls(cli);
var parsed = cli.Parse(args);
Preset preset = Preset.Parse(parsed.GetValue(presetOption)!) with
{
    FreezeExtras = parsed.GetValue(freezeOption), Controller = lteControls.Read(parsed), Seed = parsed.GetValue(seedOption),
};
if (preset.Seed < 0) throw new ArgumentException($"--seed {preset.Seed}: must be at least 0");
if (parsed.GetValue(gridMergeOption) is { } gridPeriods) preset = preset with { GridMergeEvery = Preset.WholeNumbers("--grid-merge-every", gridPeriods) };
if (parsed.GetValue(gridHeadsOption) is { } gridHeads) preset = preset with { GridHeads = Preset.WholeNumbers("--grid-heads", gridHeads) };
if (parsed.GetValue(gridRanksOption) is { } gridRanks) preset = preset with { GridRanks = Preset.WholeNumbers("--grid-ranks", gridRanks) };
int gridEvaluations = parsed.GetValue(gridEvaluationsOption);
if (gridEvaluations < 1) throw new ArgumentException($"--grid-evaluations {gridEvaluations}: must be at least 1");
string[] methods = parsed.GetValue(methodsOption)!;
if (methods.Length == 0 && !parsed.GetValue(gridOption)) throw new ArgumentException("--methods is empty and --grid not given: nothing to train");
string data = parsed.GetValue(dataOption)!;
bool grid = parsed.GetValue(gridOption);
string output = cli.Output(parsed, preset.Name);

(TensorDataset train, TensorDataset test, int classes) = Load(data, parsed.GetValue(dataDirOption));
bool wroteCurves;
using (train)
using (test)
{
    long[] shape = train.tensors[0].shape;  // [N, C, H, W]
    var model = preset.Model with { in_channels = shape[1], image_size = shape[2], num_classes = classes };
    Console.WriteLine($"{data}: {train.Count} training / {test.Count} test images; ViT width {model.hidden_dim}, depth {model.num_layers}, " +
                      $"patch {model.patch_size}; batch {preset.Batch}; {get_num_threads()} threads; output {Path.GetFullPath(output)}");

    // An earlier run's methods join the report, unless this run trains them again.
    var points = new List<Point>(parsed.GetValue(withOption) is { } earlier ? Report.Read(earlier).Where(p => !methods.Contains(p.Method)) : []);
    var finals = new Dictionary<string, FinalWeights>();
    long Steps(string name) => (long)(name is "lte" or "lte-nf4" ? preset.Samples * preset.LteSampleFactor : preset.Samples) / preset.Batch;
    if (methods.Length > 0)
    {
        var progress = new StepProgress("training " + string.Join(", ", methods), methods.Sum(Steps));
        progress.Run(() =>
        {
            foreach (string name in methods)
            {
                long steps = Steps(name);
                manual_seed((ulong)preset.Seed);
                using Method method = Method.Create(name, model, preset, steps);
                progress.Note($"{name}: {steps} steps of {preset.Batch} samples, {Report.TrainedParameters(method):N0} parameters trained");
                using SpectralMonitor? monitor = parsed.GetValue(spectraOption) ? new SpectralMonitor(method.Evaluated, Path.Combine(output, name)) : null;
                monitor?.Record(0);
                points.AddRange(Run.Train(method, train, test, preset.Batch, steps, preset.Evaluations, preset.Seed, p =>
                {
                    progress.Note(Describe(p));
                    monitor?.Record(p.Step);
                }, progress.Step));
                if (monitor is not null) SpectralPlots.WriteAll(monitor.Records, Path.Combine(output, name));
                finals[name] = FinalWeights.Of(method);
            }
        });
    }
    wroteCurves = points.Count > 0;   // not with --methods "" --grid: the grid alone
    if (wroteCurves)
    {
        Report.Curves(points, output, $"ViT on {data}");
        Report.Summary(points, output, finals);
        Report.Markdown(points, output, finals, $"ViT-{model.hidden_dim} ({model.num_layers} layers) on {data}: {string.Join(", ", methods)}", parsed.GetValue(spectraOption));
    }

    if (grid)
    {
        var cells = new List<GridCell>();
        var curves = new List<GridPoint>();
        long steps = preset.GridSamples / preset.Batch;
        // The controller decides the merges itself: one cell per heads x rank then.
        int[] periods = preset.Controller(new LteOptions()).AdaptiveMerge is null ? preset.GridMergeEvery : [0];
        foreach (int heads in preset.GridHeads)
        foreach (int rank in preset.GridRanks)
        foreach (int mergeEvery in periods)
        {
            manual_seed((ulong)preset.Seed);
            var options = preset.Controller(new LteOptions { Heads = heads, Rank = rank, Alpha = preset.Alpha, MergeEvery = mergeEvery, Exclude = "head" });
            using Method method = Method.Create("lte", model, preset, steps, options);
            string policy = LteControls.Describe(options);
            Console.WriteLine($"grid: {heads} heads, rank {rank}, merge every {policy}");
            double accuracy = Run.Train(method, train, test, preset.Batch, steps, gridEvaluations, preset.Seed, p =>
            {
                Print(p);
                curves.Add(new GridPoint(heads, rank, policy, preset.Seed, p, method.Merges(), method.MeanHeadRank()));
            })[^1].TestAccuracy;
            cells.Add(new GridCell(heads, rank, policy, method.Merges(), method.HeadResets(), method.MeanHeadRank(), preset.Seed, accuracy));
        }
        Report.Grid(cells, curves, output);
    }
}
string[] written = [.. wroteCurves ? new[] { "curves.csv", "summary.md", "*.svg" } : [], .. grid ? new[] { "grid.csv", "grid-curves.csv" } : []];
Console.WriteLine($"wrote {string.Join(", ", written)} to {Path.GetFullPath(output)}");

static void Print(Point p) => Console.WriteLine(Describe(p));

static string Describe(Point p) => string.Create(CultureInfo.InvariantCulture,
    $"  {p.Method,-10} step {p.Step,6}  samples {p.Samples,9:N0}  train loss {p.TrainLoss:F4}  test loss {p.TestLoss:F4}  test acc {100 * p.TestAccuracy:F2}%" +
    $"{(p.HeadCosineSimilarity is { } s ? $"  head cos {s:F3}" : "")}  {p.Seconds:F0}s");

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
