using LowRankBias.Torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// The per-op workloads on 4×4 float32 CPU tensors, shared by the BenchmarkDotNet class and the quick mode so that
/// both measure exactly the same calls. Every result is disposed at once, as a training loop's scope would,
/// so native memory stays flat. The names match benchmarks/native-floor and benchmarks/compare/per_op_pytorch.py.
/// </summary>
public sealed class PerOpWorkloads : IDisposable
{
    private static readonly Op s_add = new("aten::add", "Tensor"), s_mm = new("aten::mm"), s_relu = new("aten::relu");

    private readonly Tensor _a, _b;

    /// <summary>Uses one intra-op thread (as the C++ floor and PyTorch runs do) and fixed random inputs.</summary>
    public PerOpWorkloads()
    {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        _a = torch.randn([4, 4]);
        _b = torch.randn([4, 4]);
    }

    /// <summary>Every workload by name, in report order.</summary>
    public IReadOnlyList<(string Name, Action Run)> All =>
    [
        ("add", AddTyped), ("mm", MmTyped), ("add_boxed", AddBoxed), ("mm_boxed", MmBoxed), ("relu_boxed", ReluBoxed),
    ];

    /// <summary><c>a + b</c> through the typed entry lrb_binary.</summary>
    public void AddTyped() => (_a + _b).Dispose();

    /// <summary><c>a.mm(b)</c> through the typed entry lrb_binary.</summary>
    public void MmTyped() => _a.mm(_b).Dispose();

    /// <summary>aten::add.Tensor through the boxed dispatcher (alpha from the schema default).</summary>
    public void AddBoxed() => s_add.Call(_a, _b).Dispose();

    /// <summary>aten::mm through the boxed dispatcher.</summary>
    public void MmBoxed() => s_mm.Call(_a, _b).Dispose();

    /// <summary>aten::relu through the boxed dispatcher.</summary>
    public void ReluBoxed() => s_relu.Call(_a).Dispose();

    /// <summary>Frees the inputs.</summary>
    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}
