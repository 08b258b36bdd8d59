namespace LowRankBias.Torch;

// In-place updates (trailing underscore, as in PyTorch), used by optimizers and initialisers. Each returns this.
public sealed partial class Tensor
{
    private static readonly Op s_add_ = new("aten::add_", "Tensor"), s_addS_ = new("aten::add_", "Scalar");
    private static readonly Op s_sub_ = new("aten::sub_", "Tensor"), s_mul_ = new("aten::mul_", "Tensor"), s_mulS_ = new("aten::mul_", "Scalar");
    private static readonly Op s_div_ = new("aten::div_", "Tensor"), s_divS_ = new("aten::div_", "Scalar");
    private static readonly Op s_addcmul_ = new("aten::addcmul_"), s_addcdiv_ = new("aten::addcdiv_"), s_lerp_ = new("aten::lerp_", "Scalar");
    private static readonly Op s_zero_ = new("aten::zero_"), s_fill_ = new("aten::fill_", "Scalar"), s_clamp_ = new("aten::clamp_");
    private static readonly Op s_relu_ = new("aten::relu_");
    private static readonly Op s_sqrt_ = new("aten::sqrt_"), s_normal_ = new("aten::normal_"), s_uniform_ = new("aten::uniform_");
    private static readonly Op s_bernoulli_ = new("aten::bernoulli_", "float"), s_maskedFill_ = new("aten::masked_fill_", "Scalar");

    /// <summary>this += alpha · other</summary>
    public Tensor add_(Tensor other, double alpha = 1) { s_add_.CallInPlace(this, other, alpha); return this; }
    /// <summary>this += other</summary>
    public Tensor add_(double other) { s_addS_.CallInPlace(this, other); return this; }
    /// <summary>this += other, for integer tensors too (an int64 counter stays int64).</summary>
    public Tensor add_(long other) { s_addS_.CallInPlace(this, other); return this; }
    /// <summary>this −= alpha · other</summary>
    public Tensor sub_(Tensor other, double alpha = 1) { s_sub_.CallInPlace(this, other, alpha); return this; }
    /// <summary>this *= other</summary>
    public Tensor mul_(Tensor other) { s_mul_.CallInPlace(this, other); return this; }
    /// <summary>this *= other</summary>
    public Tensor mul_(double other) { s_mulS_.CallInPlace(this, other); return this; }
    /// <summary>this /= other</summary>
    public Tensor div_(Tensor other) { s_div_.CallInPlace(this, other); return this; }
    /// <summary>this /= other</summary>
    public Tensor div_(double other) { s_divS_.CallInPlace(this, other); return this; }
    /// <summary>this += value · t1 · t2</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1) { s_addcmul_.CallInPlace(this, t1, t2, value); return this; }
    /// <summary>this += value · t1 / t2</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1) { s_addcdiv_.CallInPlace(this, t1, t2, value); return this; }
    /// <summary>this += weight · (end − this)</summary>
    public Tensor lerp_(Tensor end, double weight) { s_lerp_.CallInPlace(this, end, weight); return this; }
    /// <summary>Sets every element to zero.</summary>
    public Tensor zero_() { s_zero_.CallInPlace(this); return this; }
    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public Tensor fill_(double value) { s_fill_.CallInPlace(this, value); return this; }
    /// <summary>Clamps into [min, max] in place.</summary>
    public Tensor clamp_(double? min = null, double? max = null) { s_clamp_.CallInPlace(this, min, max); return this; }
    /// <summary>this = max(this, 0)</summary>
    public Tensor relu_() { s_relu_.CallInPlace(this); return this; }
    /// <summary>Square root in place.</summary>
    public Tensor sqrt_() { s_sqrt_.CallInPlace(this); return this; }
    /// <summary>Fills with normal samples N(mean, std²), drawn from <paramref name="generator"/> (CPU tensors) or the global generator.</summary>
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) { s_normal_.CallInPlace(this, mean, std, generator); return this; }
    /// <summary>Fills with uniform samples in [from, to), drawn from <paramref name="generator"/> (CPU tensors) or the global generator.</summary>
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) { s_uniform_.CallInPlace(this, from, to, generator); return this; }
    /// <summary>Fills with Bernoulli(p) samples (0 or 1).</summary>
    public Tensor bernoulli_(double p = 0.5) { s_bernoulli_.CallInPlace(this, p); return this; }
    /// <summary>Writes <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public Tensor masked_fill_(Tensor mask, double value) { s_maskedFill_.CallInPlace(this, mask, value); return this; }
}
