using BenchmarkDotNet.Attributes;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Benchmarks;

/// <summary>
/// The spectra of every weight matrix of a ViT-S (50 matrices in 6 shapes, float32): one <c>svdvals</c> per group of
/// equal shapes (<see cref="SpectralMetrics.Analyze(IReadOnlyList{ValueTuple{string, Tensor}}, SpectralOptions)"/>) against one
/// call per matrix.
/// </summary>
public class SpectralBatchingBenchmarks
{
    private Module _model = null!;
    private List<(string name, Tensor weight)> _weights = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        _model = new VisionTransformer(VisionTransformer.Config.ViT_S);
        _weights = SpectralMonitor.Weights(_model).Select(w => (w.name, w.weight.DetachFromDisposeScope())).ToList();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach ((_, Tensor w) in _weights) w.Dispose();
        _model.Dispose();
    }

    /// <summary>One call per matrix.</summary>
    [Benchmark(Baseline = true, Description = "ViT-S spectra, one by one")]
    public double OneByOne() => _weights.Sum(w => SpectralMetrics.Analyze(w.weight, w.name).EffectiveRank);

    /// <summary>One batched call for all of them.</summary>
    [Benchmark(Description = "ViT-S spectra, batched by shape")]
    public double Batched() => SpectralMetrics.Analyze(_weights).Sum(s => s.EffectiveRank);
}

/// <summary>
/// What <see cref="SpectralMonitor"/> costs on ViT-Tiny: one training step (batch 128, AdamW) and one record (spectra,
/// consecutive alignment, agreement with the previous record). At every-100-steps, the overhead is record / (100 × step).
/// </summary>
public class SpectralMonitorBenchmarks
{
    private Module _model = null!;
    private AdamW _optimizer = null!;
    private Tensor _images = null!, _labels = null!;
    private SpectralMonitor _monitor = null!;
    private string _directory = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        _model = new VisionTransformer(VisionTransformer.Config.ViT_Tiny);
        _optimizer = new AdamW(_model.parameters());
        _images = torch.randn([128, 1, 28, 28]).DetachFromDisposeScope();
        _labels = torch.randint(0, 10, [128]).DetachFromDisposeScope();
        _directory = Path.Combine(Path.GetTempPath(), "lrb-monitor-bench-" + Guid.NewGuid().ToString("N"));
        _monitor = new SpectralMonitor(_model, _directory);
        _monitor.Record(0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _monitor.Dispose();
        Directory.Delete(_directory, recursive: true);
        _optimizer.Dispose();
        _model.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }

    /// <summary>One ViT-Tiny training step.</summary>
    [Benchmark(Baseline = true, Description = "ViT-Tiny training step, batch 128")]
    public void TrainingStep()
    {
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        torch.nn.functional.cross_entropy(_model.call(_images), _labels).backward();
        _optimizer.step();
    }

    /// <summary>One record of every matrix.</summary>
    [Benchmark(Description = "SpectralMonitor.Record, ViT-Tiny")]
    public int Record() => _monitor.Record(1).Layers.Count;
}
