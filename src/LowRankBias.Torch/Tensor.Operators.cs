using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

// C# operators and the arithmetic they stand for. Tensor ⊕ tensor goes through the fast typed entry;
// tensor ⊕ scalar through the boxed dispatcher.
public sealed partial class Tensor
{
    private enum Binary { Add = 0, Sub = 1, Mul = 2, Div = 3, Mm = 4, Matmul = 5 }

    private static Tensor Typed(Binary op, Tensor a, Tensor b)
    {
        Check(lrb_binary((int)op, a.Handle, b.Handle, out IntPtr result));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return new Tensor(result);
    }

    private static readonly Op s_addScalar = new("aten::add", "Scalar"), s_subScalar = new("aten::sub", "Scalar");
    private static readonly Op s_mulScalar = new("aten::mul", "Scalar"), s_divScalar = new("aten::div", "Scalar");
    private static readonly Op s_rsub = new("aten::rsub", "Scalar"), s_neg = new("aten::neg");
    private static readonly Op s_addT = new("aten::add", "Tensor"), s_subT = new("aten::sub", "Tensor");
    private static readonly Op s_reciprocal = new("aten::reciprocal");
    private static readonly Op s_eqT = new("aten::eq", "Tensor"), s_neT = new("aten::ne", "Tensor"), s_ltT = new("aten::lt", "Tensor");
    private static readonly Op s_leT = new("aten::le", "Tensor"), s_gtT = new("aten::gt", "Tensor"), s_geT = new("aten::ge", "Tensor");
    private static readonly Op s_eqS = new("aten::eq", "Scalar"), s_neS = new("aten::ne", "Scalar"), s_ltS = new("aten::lt", "Scalar");
    private static readonly Op s_leS = new("aten::le", "Scalar"), s_gtS = new("aten::gt", "Scalar"), s_geS = new("aten::ge", "Scalar");
    private static readonly Op s_logicalNot = new("aten::logical_not"), s_logicalAnd = new("aten::logical_and"), s_logicalOr = new("aten::logical_or");

#pragma warning disable CS1591 // operators mirror PyTorch's
    public static Tensor operator +(Tensor a, Tensor b) => Typed(Binary.Add, a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Typed(Binary.Sub, a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Typed(Binary.Mul, a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Typed(Binary.Div, a, b);
    // Integer scalars stay integers (int64 tensor + 1 is int64, as in PyTorch); the long overloads win for int literals.
    public static Tensor operator +(Tensor a, long b) => s_addScalar.Call(a, b);
    public static Tensor operator +(long a, Tensor b) => s_addScalar.Call(b, a);
    public static Tensor operator -(Tensor a, long b) => s_subScalar.Call(a, b);
    public static Tensor operator -(long a, Tensor b) => s_rsub.Call(b, a);
    public static Tensor operator *(Tensor a, long b) => s_mulScalar.Call(a, b);
    public static Tensor operator *(long a, Tensor b) => s_mulScalar.Call(b, a);
    public static Tensor operator +(Tensor a, double b) => s_addScalar.Call(a, b);
    public static Tensor operator +(double a, Tensor b) => s_addScalar.Call(b, a);
    public static Tensor operator -(Tensor a, double b) => s_subScalar.Call(a, b);
    public static Tensor operator -(double a, Tensor b) => s_rsub.Call(b, a);
    public static Tensor operator *(Tensor a, double b) => s_mulScalar.Call(a, b);
    public static Tensor operator *(double a, Tensor b) => s_mulScalar.Call(b, a);
    public static Tensor operator /(Tensor a, double b) => s_divScalar.Call(a, b);
    public static Tensor operator /(double a, Tensor b)
    {
        using Tensor r = s_reciprocal.Call(b);
        return s_mulScalar.Call(r, a);
    }
    public static Tensor operator -(Tensor a) => s_neg.Call(a);
    public static Tensor operator ==(Tensor a, Tensor b) => s_eqT.Call(a, b);
    public static Tensor operator !=(Tensor a, Tensor b) => s_neT.Call(a, b);
    public static Tensor operator <(Tensor a, Tensor b) => s_ltT.Call(a, b);
    public static Tensor operator <=(Tensor a, Tensor b) => s_leT.Call(a, b);
    public static Tensor operator >(Tensor a, Tensor b) => s_gtT.Call(a, b);
    public static Tensor operator >=(Tensor a, Tensor b) => s_geT.Call(a, b);
    public static Tensor operator ==(Tensor a, double b) => s_eqS.Call(a, b);
    public static Tensor operator !=(Tensor a, double b) => s_neS.Call(a, b);
    public static Tensor operator <(Tensor a, double b) => s_ltS.Call(a, b);
    public static Tensor operator <=(Tensor a, double b) => s_leS.Call(a, b);
    public static Tensor operator >(Tensor a, double b) => s_gtS.Call(a, b);
    public static Tensor operator >=(Tensor a, double b) => s_geS.Call(a, b);
    public static Tensor operator !(Tensor a) => s_logicalNot.Call(a);
    public static Tensor operator &(Tensor a, Tensor b) => s_logicalAnd.Call(a, b);
    public static Tensor operator |(Tensor a, Tensor b) => s_logicalOr.Call(a, b);
#pragma warning restore CS1591

    /// <summary>Reference equality: == on tensors is elementwise, as in PyTorch.</summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <summary>Identity hash.</summary>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    /// <summary>this + alpha · other.</summary>
    public Tensor add(Tensor other, double alpha = 1) => alpha == 1 ? Typed(Binary.Add, this, other) : s_addT.Call(this, other, alpha);
    /// <summary>this + other.</summary>
    public Tensor add(double other) => s_addScalar.Call(this, other);
    /// <summary>this + other, keeping integer dtypes.</summary>
    public Tensor add(long other) => s_addScalar.Call(this, other);
    /// <summary>this − alpha · other.</summary>
    public Tensor sub(Tensor other, double alpha = 1) => alpha == 1 ? Typed(Binary.Sub, this, other) : s_subT.Call(this, other, alpha);
    /// <summary>this − other.</summary>
    public Tensor sub(double other) => s_subScalar.Call(this, other);
    /// <summary>this − other, keeping integer dtypes.</summary>
    public Tensor sub(long other) => s_subScalar.Call(this, other);
    /// <summary>Elementwise product.</summary>
    public Tensor mul(Tensor other) => Typed(Binary.Mul, this, other);
    /// <summary>this · other.</summary>
    public Tensor mul(double other) => s_mulScalar.Call(this, other);
    /// <summary>this · other, keeping integer dtypes.</summary>
    public Tensor mul(long other) => s_mulScalar.Call(this, other);
    /// <summary>Elementwise quotient.</summary>
    public Tensor div(Tensor other) => Typed(Binary.Div, this, other);
    /// <summary>this / other.</summary>
    public Tensor div(double other) => s_divScalar.Call(this, other);
    /// <summary>Matrix product of 2-D tensors.</summary>
    public Tensor mm(Tensor other) => Typed(Binary.Mm, this, other);
    /// <summary>Matrix product with NumPy broadcasting rules.</summary>
    public Tensor matmul(Tensor other) => Typed(Binary.Matmul, this, other);
}
