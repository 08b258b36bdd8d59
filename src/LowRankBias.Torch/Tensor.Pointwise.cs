namespace LowRankBias.Torch;

// Elementwise functions (torch.Tensor methods of the same names).
public sealed partial class Tensor
{
    private static readonly Op s_exp = new("aten::exp"), s_log = new("aten::log"), s_sqrt = new("aten::sqrt"), s_rsqrt = new("aten::rsqrt");
    private static readonly Op s_powS = new("aten::pow", "Tensor_Scalar"), s_powT = new("aten::pow", "Tensor_Tensor"), s_abs = new("aten::abs");
    private static readonly Op s_clamp = new("aten::clamp"), s_sign = new("aten::sign"), s_sin = new("aten::sin"), s_cos = new("aten::cos");
    private static readonly Op s_log1p = new("aten::log1p"), s_expm1 = new("aten::expm1"), s_square = new("aten::square");
    private static readonly Op s_tanh = new("aten::tanh"), s_sigmoid = new("aten::sigmoid"), s_relu = new("aten::relu");
    private static readonly Op s_floor = new("aten::floor"), s_ceil = new("aten::ceil"), s_round = new("aten::round");
    private static readonly Op s_isnan = new("aten::isnan"), s_isfinite = new("aten::isfinite"), s_remainder = new("aten::remainder", "Scalar");
    private static readonly Op s_maximum = new("aten::maximum"), s_minimum = new("aten::minimum");

    /// <summary>eˣ</summary>
    public Tensor exp() => s_exp.Call(this);
    /// <summary>Natural logarithm.</summary>
    public Tensor log() => s_log.Call(this);
    /// <summary>log(1 + x)</summary>
    public Tensor log1p() => s_log1p.Call(this);
    /// <summary>eˣ − 1</summary>
    public Tensor expm1() => s_expm1.Call(this);
    /// <summary>Square root.</summary>
    public Tensor sqrt() => s_sqrt.Call(this);
    /// <summary>1/√x</summary>
    public Tensor rsqrt() => s_rsqrt.Call(this);
    /// <summary>x²</summary>
    public Tensor square() => s_square.Call(this);
    /// <summary>xᵉ for a scalar exponent.</summary>
    public Tensor pow(double exponent) => s_powS.Call(this, exponent);
    /// <summary>xᵉ elementwise.</summary>
    public Tensor pow(Tensor exponent) => s_powT.Call(this, exponent);
    /// <summary>|x|</summary>
    public Tensor abs() => s_abs.Call(this);
    /// <summary>Sign (−1, 0, 1).</summary>
    public Tensor sign() => s_sign.Call(this);
    /// <summary>Sine.</summary>
    public Tensor sin() => s_sin.Call(this);
    /// <summary>Cosine.</summary>
    public Tensor cos() => s_cos.Call(this);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor tanh() => s_tanh.Call(this);
    /// <summary>Logistic sigmoid.</summary>
    public Tensor sigmoid() => s_sigmoid.Call(this);
    /// <summary>max(x, 0)</summary>
    public Tensor relu() => s_relu.Call(this);
    /// <summary>Rounds down.</summary>
    public Tensor floor() => s_floor.Call(this);
    /// <summary>Rounds up.</summary>
    public Tensor ceil() => s_ceil.Call(this);
    /// <summary>Rounds half to even.</summary>
    public Tensor round() => s_round.Call(this);
    /// <summary>Clamps into [min, max]; a null bound is open.</summary>
    public Tensor clamp(double? min = null, double? max = null) => s_clamp.Call(this, min, max);
    /// <summary>Python's modulo (result has the divisor's sign).</summary>
    public Tensor remainder(double divisor) => s_remainder.Call(this, divisor);
    /// <summary>Elementwise maximum.</summary>
    public Tensor maximum(Tensor other) => s_maximum.Call(this, other);
    /// <summary>Elementwise minimum.</summary>
    public Tensor minimum(Tensor other) => s_minimum.Call(this, other);
    /// <summary>True where NaN.</summary>
    public Tensor isnan() => s_isnan.Call(this);
    /// <summary>True where finite.</summary>
    public Tensor isfinite() => s_isfinite.Call(this);
}
