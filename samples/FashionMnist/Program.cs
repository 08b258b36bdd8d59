// The main job: trains the thesis' 4-conv + 2-FC CNN and a CPU-sized ViT on Fashion-MNIST with progress, prints
// their test accuracy and plots their loss and accuracy curves.
// Usage: FashionMnist [cnn|vit-tiny|all] [epochs] [output-directory] [--max-steps N]
//        FashionMnist plot RUN-DIRECTORY...      (re-renders the curves of finished runs from their metrics.csv)
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;
using static LowRankBias.Torch.torch;

if (args.FirstOrDefault() == "plot")
{
    foreach (string directory in args.Skip(1)) TrainingCurves.Render(directory, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))} on Fashion-MNIST");
    return;
}
int maxStepsAt = Array.IndexOf(args, "--max-steps");
long? maxSteps = maxStepsAt >= 0 ? long.Parse(args[maxStepsAt + 1]) : null;
string[] positional = maxStepsAt >= 0 ? args.Where((_, i) => i != maxStepsAt && i != maxStepsAt + 1).ToArray() : args;
string which = positional.Length > 0 ? positional[0] : "all";
int? epochs = positional.Length > 1 ? int.Parse(positional[1]) : null;
string output = positional.Length > 2 ? positional[2] : "out/fashion-mnist";

using var train = FashionMnist.Load(train: true);
using var test = FashionMnist.Load(train: false);
Console.WriteLine($"Fashion-MNIST: {train.Count} train / {test.Count} test images, {get_num_threads()} intra-op threads, libtorch {version}");

var runs = new (string name, Func<Module> build, double lr, int defaultEpochs)[]
{
    ("cnn", () => new ConvNet(ConvNet.Config.FashionMnist), 1e-3, 3),
    ("vit-tiny", () => new VisionTransformer(VisionTransformer.Config.ViT_Tiny), 1e-3, 5),
};
if (!runs.Any(r => which == "all" || r.name == which)) throw new ArgumentException($"unknown model '{which}': use cnn, vit-tiny or all");
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
        Epochs = runEpochs, MaxSteps = maxSteps, LogEvery = 100, OutputDirectory = runDirectory,
    }, schedule);
    long parameters = model.parameters().Sum(p => p.numel());
    Console.WriteLine($"{run.name}: {parameters:N0} parameters, AdamW lr {run.lr} wd 0.05, warm-up + cosine, batch 128, {runEpochs} epochs");
    TrainingResult result = trainer.Fit(loader, new DataLoader(test, batch_size: 1000));
    TrainingCurves.Render(runDirectory, $"{run.name} on Fashion-MNIST");
    Console.WriteLine($"{run.name}: test accuracy {100 * result.LastEvaluation!.Accuracy:F2}% after {result.Epochs} epochs in {result.WallTime:F0} s; " +
                      $"metrics and curves (loss.svg, accuracy.svg) in {Path.GetFullPath(runDirectory)}");
}
