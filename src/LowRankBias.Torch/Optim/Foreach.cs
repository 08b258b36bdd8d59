namespace LowRankBias.Torch.Optim;

/// <summary>
/// libtorch's multi-tensor <c>_foreach_*</c> kernels: one boxed call updates a whole list of tensors (on CUDA,
/// a few fused launches instead of one per parameter). Lists must not be empty.
/// </summary>
internal static class Foreach
{
    private static readonly Op s_mul_ = new("aten::_foreach_mul_", "Scalar"), s_div_ = new("aten::_foreach_div_", "Scalar");
    private static readonly Op s_addScalar_ = new("aten::_foreach_add_", "Scalar"), s_addList_ = new("aten::_foreach_add_", "List");
    private static readonly Op s_addList = new("aten::_foreach_add", "List"), s_addcmul_ = new("aten::_foreach_addcmul_", "Scalar");
    private static readonly Op s_addcdiv_ = new("aten::_foreach_addcdiv_", "Scalar"), s_sqrt = new("aten::_foreach_sqrt");
    private static readonly Op s_maximum_ = new("aten::_foreach_maximum_", "List"), s_norm = new("aten::_foreach_norm", "Scalar");
    private static readonly Op s_zero_ = new("aten::_foreach_zero_");

    /// <summary>xᵢ *= s</summary>
    public static void mul_(Tensor[] x, double s) => s_mul_.CallInPlace(x, s);
    /// <summary>xᵢ /= s</summary>
    public static void div_(Tensor[] x, double s) => s_div_.CallInPlace(x, s);
    /// <summary>xᵢ += s</summary>
    public static void add_(Tensor[] x, double s) => s_addScalar_.CallInPlace(x, s);
    /// <summary>xᵢ += alpha·yᵢ</summary>
    public static void add_(Tensor[] x, Tensor[] y, double alpha) => s_addList_.CallInPlace(x, y, alpha);
    /// <summary>New tensors xᵢ + alpha·yᵢ.</summary>
    public static Tensor[] add(Tensor[] x, Tensor[] y, double alpha) => s_addList.CallMany(x, y, alpha);
    /// <summary>xᵢ += value·aᵢ·bᵢ</summary>
    public static void addcmul_(Tensor[] x, Tensor[] a, Tensor[] b, double value) => s_addcmul_.CallInPlace(x, a, b, value);
    /// <summary>xᵢ += value·aᵢ/bᵢ</summary>
    public static void addcdiv_(Tensor[] x, Tensor[] a, Tensor[] b, double value) => s_addcdiv_.CallInPlace(x, a, b, value);
    /// <summary>New tensors √xᵢ.</summary>
    public static Tensor[] sqrt(Tensor[] x) => s_sqrt.CallMany(x);
    /// <summary>xᵢ = max(xᵢ, yᵢ) elementwise.</summary>
    public static void maximum_(Tensor[] x, Tensor[] y) => s_maximum_.CallInPlace(x, y);
    /// <summary>The p-norm of each tensor (0-dimensional tensors).</summary>
    public static Tensor[] norm(Tensor[] x, double p) => s_norm.CallMany(x, p);
    /// <summary>xᵢ = 0</summary>
    public static void zero_(Tensor[] x) => s_zero_.CallInPlace(x);

    /// <summary>Clears the parameters' gradients, or zeroes them in place when <paramref name="setToNone"/> is false.</summary>
    public static void zero_grad(IEnumerable<Tensor> parameters, bool setToNone)
    {
        if (setToNone)
        {
            foreach (Tensor p in parameters) p.grad = null;
            return;
        }
        using var scope = torch.NewDisposeScope();
        Tensor[] grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length > 0) zero_(grads);
    }
}
