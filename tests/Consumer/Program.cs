// A consumer's first hour, as a program: train a small model with LoRA and with LTE on CPU, save and reload the
// adapter, compute spectral metrics. Exits non-zero (with the reason) if anything does not behave.
using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Onnx;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

manual_seed(0);
using var scope = NewDisposeScope();
// A regression task a small MLP can learn: y = tanh(x Wᵀ) for a fixed random W.
Tensor x = randn([256, 16]);
Tensor y = x.mm(randn([16, 4]) / 4).tanh();
Func<Tensor, Tensor, Tensor> mse = (p, t) => nn.functional.mse_loss(p, t);
static MLP Mlp() => new(new MLP.Config { widths = [16, 32, 4] });

// LoRA: adapt the linear layers, train only the adapters, save, reload into a fresh copy of the base model.
manual_seed(1);
using MLP baseModel = Mlp();
var baseWeights = baseModel.state_dict();
var lora = new LoraModel(baseModel, new LoraConfig { r = 4, lora_alpha = 8, target_modules = ModuleSelector.AllLinear });
using var optimizer = new AdamW(lora.parameters().Where(p => p.requires_grad), lr: 1e-2);
double first = 0, last = 0;
for (int step = 0; step < 200; step++)
{
    using var stepScope = NewDisposeScope();
    Tensor loss = mse(lora.call(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    last = loss.item<float>();
    if (step == 0) first = last;
}
Check(last < 0.5 * first, $"LoRA training did not reduce the loss ({first:G4} -> {last:G4})");
string adapterDir = Path.Combine(Path.GetTempPath(), $"consumer-adapter-{Environment.ProcessId}");
lora.save_pretrained(adapterDir);
using MLP fresh = Mlp();
fresh.load_state_dict(baseWeights);
var reloaded = LoraModel.from_pretrained(fresh, adapterDir);
lora.eval();
reloaded.eval();
double difference = (lora.call(x) - reloaded.call(x)).abs().max().item<float>();
Check(difference < 1e-6, $"the reloaded adapter computes something else (max difference {difference:G3})");
Directory.Delete(adapterDir, recursive: true);
Console.WriteLine($"LoRA: loss {first:F4} -> {last:F4}; adapter saved and reloaded (max difference {difference:G2})");

// LTE: 4 heads of rank 4 on every linear layer, merged every 5 steps.
manual_seed(2);
using var lte = new Lte(Mlp(), new LteOptions { Heads = 4, Rank = 4, Alpha = 16, MergeEvery = 5 });
using var lteOptimizer = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 1e-2 }));
var trainer = new LteTrainer(lte, lteOptimizer, mse);
double lteFirst = trainer.Step(x, y), lteLast = lteFirst;
for (int step = 1; step < 200; step++) lteLast = trainer.Step(x, y);
Check(lteLast < 0.5 * lteFirst, $"LTE training did not reduce the loss ({lteFirst:G4} -> {lteLast:G4})");
Console.WriteLine($"LTE: loss {lteFirst:F4} -> {lteLast:F4} over {trainer.Iteration} steps, {trainer.Merges} merges");

// Spectral metrics of the merged model's weight matrices.
var weights = lte.model.named_parameters().Where(p => p.parameter.dim() == 2).Select(p => (p.name, p.parameter)).ToList();
foreach (MatrixSpectrum m in SpectralMetrics.Analyze(weights))
{
    Check(m.EffectiveRank >= 1 && m.StableRank >= 1, $"{m.Name}: implausible ranks");
    Console.WriteLine($"{m.Name}: effective rank {m.EffectiveRank:F2}, stable rank {m.StableRank:F2}");
}
// ONNX: an exported MLP (consumer-test.sh names it in LRB_CONSUMER_ONNX) imported as a module, LoRA on one of its
// Gemm nodes, trained.
if (Environment.GetEnvironmentVariable("LRB_CONSUMER_ONNX") is { Length: > 0 } onnxPath)
{
    manual_seed(3);
    using OnnxModel imported = OnnxModel.load(onnxPath);
    Tensor input = randn([16, ((Linear)imported.get_submodule("fc1_Gemm")).in_features]);
    Tensor target = randn(imported.call(input).shape);
    var onnxLora = new LoraModel(imported, new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "fc1_Gemm" } });
    using var onnxOptimizer = new AdamW(onnxLora.parameters().Where(p => p.requires_grad), lr: 1e-2);
    double onnxFirst = 0, onnxLast = 0;
    for (int step = 0; step < 50; step++)
    {
        using var stepScope = NewDisposeScope();
        Tensor loss = mse(onnxLora.call(input), target);
        onnxOptimizer.zero_grad();
        loss.backward();
        onnxOptimizer.step();
        onnxLast = loss.item<float>();
        if (step == 0) onnxFirst = onnxLast;
    }
    Check(onnxLast < onnxFirst, $"LoRA on the imported ONNX model did not reduce the loss ({onnxFirst:G4} -> {onnxLast:G4})");
    Console.WriteLine($"ONNX: {imported.nodes.Count} nodes, opset {imported.opset_version}; LoRA loss {onnxFirst:F4} -> {onnxLast:F4}");
}
Console.WriteLine("consumer: OK");
return 0;

static void Check(bool condition, string problem)
{
    if (condition) return;
    Console.Error.WriteLine($"consumer: FAILED: {problem}");
    Environment.Exit(1);
}
