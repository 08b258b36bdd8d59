using System.Diagnostics;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

manual_seed(0);
using var train = FashionMnist.Load(train: true);
using var test = FashionMnist.Load(train: false);
using var model = new Sequential(new Flatten(), new Linear(784, 256), new ReLU(), new Linear(256, 10));
using var optimizer = new AdamW(model.parameters(), lr: 1e-3);
var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: 0);
var sw = Stopwatch.StartNew();
for (int epoch = 0; epoch < 2; epoch++)
{
    foreach (var batch in loader)
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(batch[0]), batch[1]);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    Console.WriteLine($"epoch {epoch} {sw.Elapsed.TotalSeconds:F1}s");
}
model.eval();
long correct = 0;
using (no_grad())
    foreach (var batch in new DataLoader(test, batch_size: 1000))
    {
        using var scope = NewDisposeScope();
        correct += (model.call(batch[0]).argmax(1) == batch[1]).sum().item<long>();
    }
Console.WriteLine($"test accuracy {100.0 * correct / test.Count:F2}%");
