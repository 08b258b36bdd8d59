using BenchmarkDotNet.Attributes;
using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Benchmarks;

/// <summary>
/// Forward + backward of one layer of ViT-S width (384 → 384) on 1024 rows, float32: a trainable plain Linear
/// (full fine-tuning) against LoRA of rank 8 on the same layer frozen (only A and B train). Both LoRA benchmark
/// classes run libtorch on one intra-op thread (<see cref="LoraBenchmarkThreads"/>).
/// </summary>
[MemoryDiagnoser]
public class LoraOverheadBenchmarks
{
    private const long Rows = 1024, Width = 384;
    private Linear _plain = null!;
    private LoraLinear _lora = null!;
    private Tensor _x = null!;

    [GlobalSetup]
    public void Setup()
    {
        LoraBenchmarkThreads.Pin();
        torch.manual_seed(0);
        _plain = new Linear(Width, Width);
        _lora = new LoraLinear(new Linear(Width, Width), new LoraConfig { r = 8, lora_alpha = 16, init_lora_weights = LoraInit.Random });
        _x = torch.randn([Rows, Width]).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _lora.Dispose();
        _x.Dispose();
    }

    /// <summary>Full fine-tuning of the layer: gradients for W and b.</summary>
    [Benchmark(Baseline = true, Description = "Linear fwd+bwd (trainable)")]
    public void PlainLinear() => Step(_plain);

    /// <summary>LoRA on the frozen layer: gradients for A and B only.</summary>
    [Benchmark(Description = "LoraLinear r=8 fwd+bwd")]
    public void Lora() => Step(_lora);

    private void Step(Module layer)
    {
        using var scope = torch.NewDisposeScope();
        layer.call(_x).sum().backward();
        layer.zero_grad();
    }
}

/// <summary>
/// N heads of rank 8 on a 384 → 384 Linear, 1024 rows, float32, forward + backward: <see cref="MultiHeadLoraLinear"/>
/// (stacked factors, no loop over heads) against the straightforward loop that runs each head's A and B in turn
/// (over the whole batch for shared input, over the head's group for split input).
/// </summary>
[MemoryDiagnoser]
public class MultiHeadLoraBenchmarks
{
    private const long Rows = 1024, Width = 384;
    private const int Rank = 8;
    private MultiHeadLoraLinear _layer = null!;
    private Tensor _x = null!;

    /// <summary>Number of heads.</summary>
    [Params(8, 32)] public int Heads;

    /// <summary>Whether heads share the input or each sees its group of the batch.</summary>
    [Params(HeadInput.Shared, HeadInput.Split)] public HeadInput Mode;

    [GlobalSetup]
    public void Setup()
    {
        LoraBenchmarkThreads.Pin();
        torch.manual_seed(0);
        _layer = new MultiHeadLoraLinear(new Linear(Width, Width),
            new LoraConfig { r = Rank, lora_alpha = 16, num_heads = Heads, head_input = Mode, init_lora_weights = LoraInit.Random });
        _x = torch.randn([Rows, Width]).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _layer.Dispose();
        _x.Dispose();
    }

    /// <summary>The layer's batched computation.</summary>
    [Benchmark(Baseline = true, Description = "batched")]
    public void Batched()
    {
        using var scope = torch.NewDisposeScope();
        _layer.call(_x).sum().backward();
        _layer.zero_grad();
    }

    /// <summary>The frozen base layer's forward alone, the part both variants share (so adapter-only costs can be read off).</summary>
    [Benchmark(Description = "frozen base only")]
    public void BaseOnly()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _layer.base_layer.call(_x);
    }

    /// <summary>The same function as a loop over heads, each head a pair of matrix products on views of the stacked factors.</summary>
    [Benchmark(Description = "loop over heads")]
    public void Loop()
    {
        using var scope = torch.NewDisposeScope();
        Tensor a = _layer.lora_A["default"], b = _layer.lora_B["default"];
        double s = _layer.scaling["default"], share = Mode == HeadInput.Shared ? s / Heads : s;
        Tensor[] groups = Mode == HeadInput.Shared ? [] : _x.chunk(Heads);
        Tensor[] outputs = new Tensor[Mode == HeadInput.Shared ? 1 : Heads];
        Tensor baseOut = F.linear(_x, _layer.weight, ((Linear)_layer.base_layer).bias);
        Tensor? sum = null;
        for (int n = 0; n < Heads; n++)
        {
            Tensor input = Mode == HeadInput.Shared ? _x : groups[n];
            Tensor head = F.linear(F.linear(input, a[n]) * share, b[n]);
            if (Mode == HeadInput.Shared) sum = sum is null ? head : sum + head;
            else outputs[n] = head;
        }
        Tensor lora = Mode == HeadInput.Shared ? sum! : torch.cat(outputs);
        (baseOut + lora).sum().backward();
        _layer.zero_grad();
    }
}

/// <summary>
/// One libtorch intra-op thread for the LoRA benchmarks: on a small shared machine, OpenMP's threads spin-wait on any
/// core another process holds, which slows every kernel several-fold at random; one thread measures the work.
/// </summary>
internal static class LoraBenchmarkThreads
{
    /// <summary>Sets libtorch to one intra-op thread (each benchmark runs in its own process).</summary>
    public static void Pin() => torch.set_num_threads(1);
}
