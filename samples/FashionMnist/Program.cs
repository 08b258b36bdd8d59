// The main job: trains the thesis' 4-conv + 2-FC CNN and a CPU-sized ViT on Fashion-MNIST with progress, prints
// their test accuracy and plots their loss and accuracy curves.
using LowRankBias.Torch.Training;

var cli = new ProgramCommand("fashion-mnist", "Trains the thesis' 4-conv + 2-FC CNN and a CPU-sized ViT on Fashion-MNIST with progress, prints their test accuracy and plots their curves.");
var whichArgument = cli.Positional("model", "all", "which model", "cnn", "vit-tiny", "all");
var epochsOption = cli.Optional<int?>("--epochs", "epochs [default: 3 for cnn, 5 for vit-tiny]", "N");
var maxStepsOption = cli.Optional<long?>("--max-steps", "stop after this many steps (a smoke test)", "N");
var plotOnly = cli.Flag("--plot-only", "train nothing: re-render the curves of finished runs in --out from their metrics.csv");
var parsed = cli.Parse(args);
string which = parsed.GetValue(whichArgument)!;
int? epochs = parsed.GetValue(epochsOption);
long? maxSteps = parsed.GetValue(maxStepsOption);
string output = cli.Output(parsed);
if (parsed.GetValue(plotOnly))
{
    foreach (string name in new[] { "cnn", "vit-tiny" }.Where(n => which == "all" || n == which))
        TrainingCurves.Render(Path.Combine(output, name), $"{name} on Fashion-MNIST");
    return;
}

using var train = FashionMnist.Load(train: true);
using var test = FashionMnist.Load(train: false);
Console.WriteLine($"Fashion-MNIST: {train.Count} train / {test.Count} test images, {get_num_threads()} intra-op threads, libtorch {version}");

var runs = new (string name, Func<Module> build, double lr, int defaultEpochs)[]
{
    ("cnn", () => new ConvNet(ConvNet.Config.FashionMnist), 1e-3, 3),
    ("vit-tiny", () => new VisionTransformer(VisionTransformer.Config.ViT_Tiny), 1e-3, 5),
};
foreach (var run in runs.Where(r => which == "all" || r.name == which))
{
    manual_seed(0);
    using Module model = run.build();
    int runEpochs = epochs ?? run.defaultEpochs;
    var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: 0);
    using var optimizer = new AdamW(ParamGroup.WeightDecayGroups(model, new AdamWOptions { lr = run.lr, weight_decay = 0.05 }));
    var schedule = new WarmupCosineLR(optimizer, warmup_steps: loader.Count / 2, total_steps: runEpochs * loader.Count);
    string runDirectory = Path.Combine(output, run.name);
    var trainer = new Trainer(model, optimizer, ClassificationLoss.CrossEntropy(), new TrainerOptions
    {
        Epochs = runEpochs, MaxSteps = maxSteps, LogEvery = 100, OutputDirectory = runDirectory, Display = LiveTrainingProgress.IfInteractive(),
    }, schedule);
    long parameters = model.parameters().Sum(p => p.numel());
    Console.WriteLine($"{run.name}: {parameters:N0} parameters, AdamW lr {run.lr} wd 0.05, warm-up + cosine, batch 128, {runEpochs} epochs");
    TrainingResult result = trainer.Fit(loader, new DataLoader(test, batch_size: 1000));
    TrainingCurves.Render(runDirectory, $"{run.name} on Fashion-MNIST");
    Console.WriteLine($"{run.name}: test accuracy {100 * result.LastEvaluation!.Accuracy:F2}% after {result.Epochs} epochs in {result.WallTime:F0} s; " +
                      $"metrics and curves (loss.svg, accuracy.svg) in {Path.GetFullPath(runDirectory)}");
}
