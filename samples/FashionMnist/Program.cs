// The main job: trains the thesis' 4-conv + 2-FC CNN and a CPU-sized ViT on Fashion-MNIST with progress, and prints
// their test accuracy. Usage: FashionMnist [cnn|vit-tiny|all] [epochs] [output-directory]
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;
using static LowRankBias.Torch.torch;

string which = args.Length > 0 ? args[0] : "all";
int? epochs = args.Length > 1 ? int.Parse(args[1]) : null;
string output = args.Length > 2 ? args[2] : "out/fashion-mnist";

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
    var trainer = new Trainer(model, optimizer, ClassificationLoss.CrossEntropy(), new TrainerOptions
    {
        Epochs = runEpochs, LogEvery = 100, OutputDirectory = Path.Combine(output, run.name),
    }, schedule);
    long parameters = model.parameters().Sum(p => p.numel());
    Console.WriteLine($"{run.name}: {parameters:N0} parameters, AdamW lr {run.lr} wd 0.05, warm-up + cosine, batch 128, {runEpochs} epochs");
    TrainingResult result = trainer.Fit(loader, new DataLoader(test, batch_size: 1000));
    Console.WriteLine($"{run.name}: test accuracy {100 * result.LastEvaluation!.Accuracy:F2}% after {result.Epochs} epochs in {result.WallTime:F0} s");
}
