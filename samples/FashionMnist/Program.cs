// The main job (for now): a short CPU training of a small MLP on Fashion-MNIST, printing test accuracy.
using System.Diagnostics;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 2;
manual_seed(0);
using var train = FashionMnist.Load(train: true);
using var test = FashionMnist.Load(train: false);
using var model = new Mlp(784, 256, 10);
using var optimizer = new AdamW(model.parameters(), lr: 1e-3);
var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: 0);
Console.WriteLine($"Fashion-MNIST: {train.Count} train / {test.Count} test images, MLP 784-256-10, AdamW lr 1e-3, batch 128, {get_num_threads()} threads");

var clock = Stopwatch.StartNew();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    double lossSum = 0;
    for (long step = 0; step < loader.Count; step++)
    {
        using var scope = NewDisposeScope();
        Tensor[] batch = loader.Next();
        var loss = nn.functional.cross_entropy(model.call(batch[0]), batch[1]);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        lossSum += loss.item<float>();
    }
    Console.WriteLine($"epoch {epoch}: train loss {lossSum / loader.Count:F4}, test accuracy {100 * Accuracy(model, test):F2}%, {clock.Elapsed.TotalSeconds:F0} s");
}

static double Accuracy(Module model, Dataset data)
{
    model.eval();
    long correct = 0;
    var loader = new DataLoader(data, batch_size: 1000);
    using (no_grad())
        for (long step = 0; step < loader.Count; step++)
        {
            using var scope = NewDisposeScope();
            Tensor[] batch = loader.Next();
            correct += (model.call(batch[0]).argmax(1) == batch[1]).sum().item<long>();
        }
    model.train();
    return (double)correct / data.Count;
}

/// <summary>A two-layer perceptron on flattened images.</summary>
sealed class Mlp(long inputs, long hidden, long classes) : Module
{
    private readonly Module fc1 = new Linear(inputs, hidden);
    private readonly Module fc2 = new Linear(hidden, classes);

    public override Tensor forward(Tensor images)
    {
        using Tensor flat = images.flatten(1);
        using Tensor h = fc1.call(flat);
        using Tensor a = h.relu();
        return fc2.call(a);
    }
}
