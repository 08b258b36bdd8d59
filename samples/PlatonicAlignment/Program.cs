// The Platonic representation hypothesis (Huh et al. 2024) at small scale: a zoo of MLPs, CNNs, ViTs and MLP-Mixers
// at several sizes and seeds is trained on Fashion-MNIST; at checkpoints along training every model's representation of
// a fixed subset of test images is reduced to nearest-neighbour lists (PlatonicAlignment: every block, outliers clamped
// at the 0.95 quantile, rows L2-normalised), and mutual k-NN alignment (best layer pair, as platonic-rep's
// measure_alignment.py) is scored between every pair of models at the same checkpoint. The thesis's claim, "competent
// models align", predicts that alignment rises with the pair's accuracy: Spearman's ρ between the two, over all pairs.
using System.Diagnostics;
using LowRankBias.Samples.PlatonicAlignment;

var cli = new ProgramCommand("platonic-alignment",
    "The Platonic representation hypothesis at small scale: trains a zoo of MLPs, CNNs, ViTs and MLP-Mixers on Fashion-MNIST and scores mutual k-NN alignment between every pair against their accuracies.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI: one size, one seed, 8 steps), quick (3 sizes × 3 seeds, 600 steps), paper (4 sizes × 5 seeds, 10 epochs)", "tiny", "quick", "paper");
var familiesOption = cli.Choices("--families", ZooModel.Families, "architecture families in the zoo", ZooModel.Families);
var seedsOption = cli.Optional<string>("--seeds", "comma-separated seeds (initial weights and data order) [default: tiny 0, quick 0,1,2, paper 0,1,2,3,4]", "LIST");
var stepsOption = cli.Optional<int?>("--steps", "training steps per model, batch 128 [default: tiny 8, quick 600, paper 4690]", "N");
var subsetOption = cli.Optional<int?>("--subset", "test images whose representations are compared [default: tiny 100, quick 1000, paper 5000]", "N");
var kOption = cli.Add("--k", 10, "neighbours per image for mutual k-NN");
var imagenetOption = cli.Add("--imagenet-size", 128, "also score every model against ML.NET's ImageNet ResNet-18 (NuGet; never saw Fashion-MNIST), images upsampled to this size (a multiple of 32; 0: skip)");
var parsed = cli.Parse(args);

string presetName = parsed.GetValue(presetOption)!;
var preset = presetName switch
{
    "tiny" => (sizes: 1, seeds: "0", steps: 8, subset: 100, eval: 500),
    "quick" => (sizes: 3, seeds: "0,1,2", steps: 600, subset: 1000, eval: 2000),
    _ => (sizes: 4, seeds: "0,1,2,3,4", steps: 4690, subset: 5000, eval: 10_000),
};
int steps = parsed.GetValue(stepsOption) ?? preset.steps, subset = parsed.GetValue(subsetOption) ?? preset.subset, k = parsed.GetValue(kOption);
int[] seeds = Seeds(parsed.GetValue(seedsOption) ?? preset.seeds);
if (steps < 1) throw new ArgumentException($"--steps {steps}: must be at least 1");
if (subset < 3 || subset > 10_000) throw new ArgumentException($"--subset {subset}: must lie in [3, 10000] (the test set's size)");
int imagenetSize = parsed.GetValue(imagenetOption);
if (imagenetSize < 0 || imagenetSize % 32 != 0 || imagenetSize > 448) throw new ArgumentException($"--imagenet-size {imagenetSize}: must be 0 or a multiple of 32 up to 448");
if (k < 1 || k >= subset) throw new ArgumentException($"--k {k}: must lie in [1, subset − 1] = [1, {subset - 1}]");
string[] families = parsed.GetValue(familiesOption)!.Distinct().ToArray();
ZooModel[] zoo = families.SelectMany(f => Enumerable.Range(0, preset.sizes).SelectMany(s => seeds.Select(seed => new ZooModel(f, s, seed)))).ToArray();
if (zoo.Length < 2) throw new ArgumentException("--families and --seeds leave fewer than 2 models to compare");
// Checkpoints at the start and at 1/10, 1/4, 1/2 and all of training.
long[] checkpoints = new long[] { 0, steps / 10, steps / 4, steps / 2, steps }.Distinct().ToArray();
string output = cli.Output(parsed, presetName);

using var train = FashionMnist.Load(train: true);
using var test = FashionMnist.Load(train: false);
int evalCount = (int)Math.Min(preset.eval, test.Count);
Tensor images = test.tensors[0].narrow(0, 0, subset), evalImages = test.tensors[0].narrow(0, 0, evalCount), evalLabels = test.tensors[1].narrow(0, 0, evalCount);
var options = new PlatonicOptions { K = k };
Console.WriteLine($"preset {presetName}: {zoo.Length} models ({string.Join(", ", families)} × {preset.sizes} sizes × seeds {string.Join(",", seeds)}), " +
                  $"{steps} steps of AdamW lr 1e-3 at batch 128, checkpoints at steps {string.Join(", ", checkpoints)}; mutual k-NN (k = {k}) on {subset} test images, " +
                  $"accuracy on {evalCount}; {get_num_threads()} threads; output {Path.GetFullPath(output)}");

// Each model's neighbour lists and test accuracy at each checkpoint (lists are n·k·8 bytes per layer; the models go).
var records = new List<(ZooModel Model, long Step, double Accuracy, ModelNeighbours Lists)>();
var modelRows = new CsvTable("model", "family", "size", "seed", "parameters", "step", "test_accuracy", "train_ms_per_step");
foreach (ZooModel member in zoo)
{
    manual_seed((ulong)member.Seed);
    using Module model = member.Build();
    long parameters = model.parameters().Sum(p => p.numel());
    using var optimizer = new AdamW(model.parameters(), lr: 1e-3, weight_decay: 0.01);
    var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: (ulong)member.Seed);
    var clock = new Stopwatch();
    for (long step = 0; ; step++)
    {
        if (checkpoints.Contains(step))
        {
            double accuracy = Accuracy(model, member);
            records.Add((member, step, accuracy, PlatonicAlignment.Neighbours($"{member.Name}@{step}", model, Input(member, images), options)));
            double msPerStep = step == 0 ? double.NaN : clock.Elapsed.TotalMilliseconds / step;
            modelRows.Add(member.Name, member.Family, member.Size, member.Seed, parameters, step, CsvTable.Fixed(accuracy, 4), CsvTable.Fixed(msPerStep, 2));
        }
        if (step == steps) break;
        clock.Start();
        using (var scope = NewDisposeScope())
        {
            Tensor[] batch = loader.Next();
            Tensor loss = nn.functional.cross_entropy(model.call(Input(member, batch[0])), batch[1]);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        clock.Stop();
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{member.Name}: {parameters:N0} parameters, {records[^1].Lists.Count} layers, test accuracy {100 * records[^1].Accuracy:F1}%, {clock.Elapsed.TotalMilliseconds / steps:F1} ms/step"));
}
modelRows.Save(Path.Combine(output, "models.csv"));

// Every pair of models at the same checkpoint.
var scoring = Stopwatch.StartNew();
var pairs = new List<(long Step, int A, int B, double Accuracy, double Score)>();
var pairRows = new CsvTable("step", "model_a", "model_b", "accuracy_a", "accuracy_b", "mutual_knn", "layer_a", "layer_b");
foreach (long step in checkpoints)
{
    var at = records.Select((r, i) => (r, i)).Where(x => x.r.Step == step).ToArray();
    PairwiseAlignment result = PlatonicAlignment.Score(at.Select(x => x.r.Lists).ToArray());
    for (int a = 0; a < at.Length; a++)
        for (int b = a + 1; b < at.Length; b++)
        {
            var (ra, rb) = (at[a].r, at[b].r);
            LayerPairScore best = result.Pairs[a, b];
            pairs.Add((step, at[a].i, at[b].i, (ra.Accuracy + rb.Accuracy) / 2, best.Score));
            pairRows.Add(step, ra.Model.Name, rb.Model.Name, CsvTable.Fixed(ra.Accuracy, 4), CsvTable.Fixed(rb.Accuracy, 4), CsvTable.Fixed(best.Score, 5),
                LayerName(ra.Lists, best.LayerA), LayerName(rb.Lists, best.LayerB));
        }
    if (step == steps) WriteMatrix(at.Select(x => x.r).ToArray(), result);
}
pairRows.Save(Path.Combine(output, "alignment.csv"));

// Alignment of every model, over training, to the strongest model at the end.
var final = records.Where(r => r.Step == steps).ToArray();
var strongest = final.MaxBy(r => r.Accuracy);
var strongestRows = new CsvTable("model", "step", "test_accuracy", "mutual_knn", "layer", "strongest_layer");
var toStrongest = new List<(ZooModel Model, long Step, double Score)>();
foreach (var r in records.Where(r => r.Model != strongest.Model))
{
    LayerPairScore best = PlatonicAlignment.BestLayerPair(r.Lists, strongest.Lists);
    toStrongest.Add((r.Model, r.Step, best.Score));
    strongestRows.Add(r.Model.Name, r.Step, CsvTable.Fixed(r.Accuracy, 4), CsvTable.Fixed(best.Score, 5), LayerName(r.Lists, best.LayerA), LayerName(strongest.Lists, best.LayerB));
}
strongestRows.Save(Path.Combine(output, "alignment-to-strongest.csv"));
Console.WriteLine($"scored {pairs.Count + toStrongest.Count} model pairs in {scoring.Elapsed.TotalSeconds:F1} s");

// Alignment of every model, over training, to a network trained on other data (ImageNet): the hypothesis' stronger form.
var toImagenet = new List<(ZooModel Model, long Step, double Accuracy, double Score)>();
if (imagenetSize > 0)
{
    using var imagenet = ImagenetReference.Neighbours(images, imagenetSize, options);
    var rows = new CsvTable("model", "step", "test_accuracy", "mutual_knn", "layer", "imagenet_layer");
    foreach (var r in records)
    {
        LayerPairScore best = PlatonicAlignment.BestLayerPair(r.Lists, imagenet);
        toImagenet.Add((r.Model, r.Step, r.Accuracy, best.Score));
        rows.Add(r.Model.Name, r.Step, CsvTable.Fixed(r.Accuracy, 4), CsvTable.Fixed(best.Score, 5), LayerName(r.Lists, best.LayerA), LayerName(imagenet, best.LayerB));
    }
    rows.Save(Path.Combine(output, "alignment-to-imagenet.csv"));
}

// Competent models align: rank correlation of alignment with the pair's mean accuracy.
var summary = new SummaryTable("pairs", "count", "Spearman ρ (alignment, accuracy)", "p-value", "mean alignment");
void Correlate(string label, IReadOnlyList<(double Accuracy, double Score)> set)
{
    if (set.Count == 0) return;   // e.g. no two models of one family with a single size and seed
    (double rho, double p) = RankCorrelation.Spearman(set.Select(x => x.Accuracy).ToArray(), set.Select(x => x.Score).ToArray());
    summary.AddRow(label, set.Count.ToString(CultureInfo.InvariantCulture), rho.ToString("F3", CultureInfo.InvariantCulture),
        p.ToString("G3", CultureInfo.InvariantCulture), set.Average(x => x.Score).ToString("F3", CultureInfo.InvariantCulture));
}
(double, double)[] Of<T>(IEnumerable<T> set, Func<T, double> accuracy, Func<T, double> score) => set.Select(x => (accuracy(x), score(x))).ToArray();
IEnumerable<(long Step, int A, int B, double Accuracy, double Score)> finalPairs = pairs.Where(x => x.Step == steps);
Correlate("all checkpoints", Of(pairs, x => x.Accuracy, x => x.Score));
Correlate($"final (step {steps})", Of(finalPairs, x => x.Accuracy, x => x.Score));
Correlate("final, different families", Of(finalPairs.Where(x => records[x.A].Model.Family != records[x.B].Model.Family), x => x.Accuracy, x => x.Score));
// The hypothesis is about different architectures converging, and an untrained model's "accuracy" is chance: the rows
// that test it are trained checkpoints of different families. Pairs share models, so the pooled p-values overstate
// the evidence; each seed's zoo is an independent replicate.
bool Trained(long step) => step > 0;
bool Across(int a, int b) => records[a].Model.Family != records[b].Model.Family;
Correlate("trained, different families", Of(pairs.Where(x => Trained(x.Step) && Across(x.A, x.B)), x => x.Accuracy, x => x.Score));
Correlate("trained, same family", Of(pairs.Where(x => Trained(x.Step) && !Across(x.A, x.B)), x => x.Accuracy, x => x.Score));
if (seeds.Length > 1)
    foreach (int seed in seeds)
        Correlate($"trained, different families, seed {seed} only",
            Of(pairs.Where(x => Trained(x.Step) && Across(x.A, x.B) && records[x.A].Model.Seed == seed && records[x.B].Model.Seed == seed), x => x.Accuracy, x => x.Score));
if (toImagenet.Count > 0)
{
    Correlate("model vs ImageNet ResNet-18, all checkpoints", Of(toImagenet, x => x.Accuracy, x => x.Score));
    Correlate("model vs ImageNet ResNet-18, trained", Of(toImagenet.Where(x => Trained(x.Step)), x => x.Accuracy, x => x.Score));
    if (seeds.Length > 1)
        foreach (int seed in seeds)
            Correlate($"model vs ImageNet ResNet-18, trained, seed {seed} only", Of(toImagenet.Where(x => Trained(x.Step) && x.Model.Seed == seed), x => x.Accuracy, x => x.Score));
    AlignmentPlots.ToReference(Path.Combine(output, "alignment-to-imagenet-vs-accuracy"), "ImageNet ResNet-18 (ML.NET, NuGet)",
        toImagenet.Select(x => (x.Model.Family, x.Accuracy, x.Score)).ToArray(), k);
}
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"strongest model: {strongest.Model.Name} ({100 * strongest.Accuracy:F1}%). p-values treat pairs as independent, which pairs sharing a model are not.");

AlignmentPlots.AccuracyScatter(Path.Combine(output, "alignment-vs-accuracy"), checkpoints,
    pairs.Select(x => (x.Step, records[x.A].Accuracy, records[x.B].Accuracy, x.Score)).ToArray(), k);
AlignmentPlots.ToStrongest(Path.Combine(output, "alignment-to-strongest"), strongest.Model.Name,
    toStrongest.Select(x => ($"{x.Model.Family}-{x.Model.Size}", x.Model.Name, x.Step, x.Score)).ToArray());
foreach (var r in records) r.Lists.Dispose();
Console.WriteLine($"results in {Path.GetFullPath(output)}: models.csv, alignment.csv, alignment-to-strongest.csv, alignment-to-imagenet.csv, summary.md and the figures (PNG + SVG)");

void WriteMatrix(IReadOnlyList<(ZooModel Model, long Step, double Accuracy, ModelNeighbours Lists)> at, PairwiseAlignment result)
{
    int[] order = Enumerable.Range(0, at.Count).OrderByDescending(i => at[i].Accuracy).ToArray();
    var values = new double[order.Length, order.Length];
    for (int i = 0; i < order.Length; i++)
        for (int j = 0; j < order.Length; j++) values[i, j] = i == j ? double.NaN : result.Scores[order[i], order[j]];   // grey diagonal: 1 says nothing
    string[] labels = order.Select(i => string.Create(CultureInfo.InvariantCulture, $"{at[i].Model.Name} ({100 * at[i].Accuracy:F0}%)")).ToArray();
    new Heatmap { Title = $"Mutual k-NN alignment (k = {k}), models by test accuracy", XLabel = "model", YLabel = "model", ValueLabel = "alignment" }
        .Save(Path.Combine(output, "alignment-matrix"), labels, labels, values);
}

static string LayerName(ModelNeighbours lists, int layer) => layer < 0 ? "" : lists.LayerNames[layer];

static int[] Seeds(string list)
{
    try
    {
        int[] seeds = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (seeds.Length == 0 || seeds.Any(s => s < 0) || seeds.Distinct().Count() != seeds.Length) throw new FormatException();
        return seeds;
    }
    catch (Exception e) when (e is FormatException or OverflowException)
    {
        throw new ArgumentException($"--seeds {list}: must list distinct non-negative integers separated by commas");
    }
}

Tensor Input(ZooModel member, Tensor batch) => member.Flat ? batch.reshape(batch.size(0), -1) : batch;

double Accuracy(Module model, ZooModel member)
{
    bool training = model.training;
    model.eval();
    using var noGrad = no_grad();
    long correct = 0;
    for (long start = 0; start < evalImages.size(0); start += 1000)
    {
        using var scope = NewDisposeScope();
        long length = Math.Min(1000, evalImages.size(0) - start);
        Tensor logits = model.call(Input(member, evalImages.narrow(0, start, length)));
        correct += (logits.argmax(1) == evalLabels.narrow(0, start, length)).sum().item<long>();
    }
    model.train(training);
    return (double)correct / evalImages.size(0);
}
