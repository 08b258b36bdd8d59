using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

// User-style models: plain C# fields hold the children, as a user of the library would write them.

internal sealed class Attention : Module
{
    public Module q;           // declared as Module: replaceable by any module
    public Linear o;           // declared as Linear: only a Linear fits here

    public Attention(long width)
    {
        q = new Linear(width, width, dtype: ScalarType.Float64);
        o = new Linear(width, width, bias: false, dtype: ScalarType.Float64);
    }

    public override Tensor forward(Tensor x)
    {
        using Tensor h = q.call(x);
        return o.call(h);
    }
}

internal sealed class Block : Module
{
    public Attention attn { get; }  // auto-property: its backing field is the child slot "attn"

    public Block(long width) => attn = new Attention(width);

    public override Tensor forward(Tensor x)
    {
        using Tensor a = attn.call(x);
        return x + a;
    }
}

internal sealed class TinyModel : Module
{
    private readonly ModuleList blocks;

    public TinyModel(long width, int depth) =>
        blocks = new ModuleList(Enumerable.Range(0, depth).Select(_ => (Module)new Block(width)));

    public override Tensor forward(Tensor x)
    {
        Tensor h = x;
        foreach (Module block in blocks) h = block.call(h);
        return h;
    }
}

/// <summary>LoRA-style wrapper: base(x) + x Aᵀ Bᵀ, the kind of module that is injected into models it did not write.</summary>
internal sealed class LowRankAdd : Module
{
    public Module @base;
    public Tensor A, B;

    public LowRankAdd(Module wrapped, double[,] a, double[,] b)
    {
        @base = wrapped;
        A = register_parameter("A", tensor(a));
        B = register_parameter("B", tensor(b));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor result = @base.call(x) + x.matmul(A.t()).matmul(B.t());
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>Multiplies by a constant; holds one buffer of each kind.</summary>
internal sealed class Scale : Module
{
    private readonly double _factor;

    public Scale(double factor)
    {
        _factor = factor;
        register_buffer("count", zeros([1], ScalarType.Int64));
        register_buffer("scratch", zeros([2]), persistent: false);
    }

    public override Tensor forward(Tensor x) => x * _factor;

    public override string extra_repr() => $"factor={_factor}";
}
