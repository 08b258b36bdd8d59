using BenchmarkDotNet.Attributes;
using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Benchmarks;

/// <summary>
/// One training step (forward, backward, AdamW) on a cumulative batch of 1024 rows through a 384 → 384 layer of
/// ViT-S width, float32: full-rank training, LTE's batched step with N = 8 heads of rank 16 (each head on 128 rows,
/// no merge in the step), and the straightforward alternative, a loop over 8 separate LoRA models of rank 16 with
/// their own AdamW, each on its 128 rows.
/// </summary>
[MemoryDiagnoser]
public class LteStepBenchmarks
{
    private const long Rows = 1024, Width = 384;
    private const int Heads = 8, Rank = 16;
    private Sequential _full = null!;
    private AdamW _fullOptimizer = null!;
    private Lte.Lte _lte = null!;
    private AdamW _lteOptimizer = null!;
    private LteTrainer _trainer = null!;
    private (LoraModel model, AdamW optimizer)[] _separate = null!;
    private Tensor _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        _full = new Sequential(new Linear(Width, Width));
        _fullOptimizer = new AdamW(_full.parameters());
        _lte = new Lte.Lte(new Sequential(new Linear(Width, Width)), new LteOptions { Heads = Heads, Rank = Rank, MergeEvery = 0, NonLowRank = LteNonLowRank.Frozen });
        _lteOptimizer = new AdamW(_lte.ParameterGroups(new AdamWOptions()));
        _trainer = new LteTrainer(_lte, _lteOptimizer, Mse);
        _separate = Enumerable.Range(0, Heads).Select(_ =>
        {
            var model = new LoraModel(new Sequential(new Linear(Width, Width)), new LoraConfig { r = Rank, lora_alpha = 4096, target_modules = "all-linear" });
            return (model, new AdamW(model.parameters().Where(p => p.requires_grad)));
        }).ToArray();
        _x = torch.randn([Rows, Width]).DetachFromDisposeScope();
        _y = torch.randn([Rows, Width]).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _full.Dispose();
        _fullOptimizer.Dispose();
        _lte.Dispose();
        _lteOptimizer.Dispose();
        foreach ((LoraModel model, AdamW optimizer) in _separate)
        {
            model.Dispose();
            optimizer.Dispose();
        }
        _x.Dispose();
        _y.Dispose();
    }

    /// <summary>Full-rank training of the layer on the whole cumulative batch.</summary>
    [Benchmark(Baseline = true, Description = "full-rank step, B=1024")]
    public void FullRank()
    {
        using var scope = torch.NewDisposeScope();
        _fullOptimizer.zero_grad();
        Mse(_full.call(_x), _y).backward();
        _fullOptimizer.step();
    }

    /// <summary>LTE's batched step: 8 heads of rank 16, each on its 128 rows, one forward and backward.</summary>
    [Benchmark(Description = "LTE batched step, N=8 r=16")]
    public double LteBatched() => _trainer.Step(_x, _y);

    /// <summary>The loop of 8 separate LoRA models, each with its AdamW, each on its 128 rows.</summary>
    [Benchmark(Description = "loop of 8 LoRA models, r=16")]
    public void LoopOfModels()
    {
        long share = Rows / Heads;
        for (int n = 0; n < Heads; n++)
        {
            using var scope = torch.NewDisposeScope();
            (LoraModel model, AdamW optimizer) = _separate[n];
            optimizer.zero_grad();
            Mse(model.call(_x.narrow(0, n * share, share)), _y.narrow(0, n * share, share)).backward();
            optimizer.step();
        }
    }

    private static Tensor Mse(Tensor output, Tensor target) => F.mse_loss(output, target);
}
