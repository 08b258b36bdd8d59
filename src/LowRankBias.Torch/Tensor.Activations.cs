namespace LowRankBias.Torch;

// Activation functions that PyTorch also offers as Tensor methods (the rest are in Tensor.Pointwise.cs).
public sealed partial class Tensor
{
    private static readonly Op s_softmax = new("aten::softmax", "int"), s_logSoftmax = new("aten::log_softmax", "int");
    private static readonly Op s_gelu = new("aten::gelu"), s_silu = new("aten::silu");

    /// <summary>exp(x) / Σ exp(x) along a dimension, optionally computed in another dtype.</summary>
    public Tensor softmax(long dim, ScalarType? dtype = null) => s_softmax.Call(this, dim, dtype);

    /// <summary>log(softmax(x)) along a dimension, computed stably.</summary>
    public Tensor log_softmax(long dim, ScalarType? dtype = null) => s_logSoftmax.Call(this, dim, dtype);

    /// <summary>x·Φ(x); <paramref name="approximate"/> "tanh" uses the tanh approximation, "none" the exact erf form.</summary>
    public Tensor gelu(string approximate = "none") => s_gelu.Call(this, approximate);

    /// <summary>x·sigmoid(x) (also called swish).</summary>
    public Tensor silu() => s_silu.Call(this);
}
