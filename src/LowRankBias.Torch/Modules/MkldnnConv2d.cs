using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// An inference-only copy of a <see cref="Conv2d"/> that always runs oneDNN's convolution (<c>aten::mkldnn_convolution</c>;
/// PyTorch's <c>torch.utils.mkldnn.MkldnnConv2d</c>, made for a whole model by <see cref="to_mkldnn"/>). libtorch 1.13's
/// <c>conv2d</c> picks oneDNN only for batches above 1, kernels above 3×3, groups or inputs of more than 20,480 elements;
/// every other convolution — at batch 1 nearly all of a small image's — goes to its im2col + BLAS path, which
/// parallelises over the batch (one thread at batch 1) and takes several times oneDNN's time. The kernel is reordered
/// once, at construction, into oneDNN's blocked layout. Like PyTorch's module the output has the input's layout: a
/// oneDNN tensor (<see cref="Tensor.to_mkldnn"/>) stays one, so a whole converted model runs in oneDNN's layout from
/// input to logits (the fast way: <c>model.call(x.to_mkldnn()).to_dense()</c>); a dense input is converted in and out
/// at this layer, so the module also drops into any model. Weight and bias are buffers: nothing trains.
/// CPU float32 only.
/// </summary>
public sealed class MkldnnConv2d : Module
{
    private static readonly Op s_convolution = new("aten::mkldnn_convolution");
    private static readonly Op s_reorder = new("aten::mkldnn_reorder_conv2d_weight");

    // The kernel in oneDNN's blocked layout for this geometry, made once (PyTorch's MkldnnConv2d holds only this).
    private readonly Tensor _packedWeight;

    /// <summary>The oneDNN counterpart of <paramref name="conv"/> (which must be in eval mode, on the CPU, float32), holding copies of its tensors.</summary>
    public MkldnnConv2d(Conv2d conv)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (conv.training)
            throw new InvalidOperationException("MkldnnConv2d: conv is in training mode; the oneDNN copy is for inference only: call eval() first");
        if (conv.weight.dtype != ScalarType.Float32 || conv.weight.device.Type != DeviceType.CPU)
            throw new ArgumentException($"MkldnnConv2d: conv must be float32 on the CPU (oneDNN's convolution), got {conv.weight.dtype} on {conv.weight.device}", nameof(conv));
        geometry = conv.geometry;
        using var noGrad = torch.no_grad();
        weight = register_buffer("weight", conv.weight.detach().clone())!;
        bias = register_buffer("bias", conv.bias?.detach().clone());
        using (var scope = torch.NewDisposeScope())
            _packedWeight = s_reorder.Call(weight.to_mkldnn(), geometry.padding, geometry.stride, geometry.dilation, geometry.groups).DetachFromDisposeScope();
        eval();
    }

    /// <summary>
    /// Replaces every <see cref="Conv2d"/> below <paramref name="module"/> by its <see cref="MkldnnConv2d"/> (the
    /// replaced layers are disposed) and returns the module — PyTorch's <c>torch.utils.mkldnn.to_mkldnn</c> for
    /// convolutions, with dense tensors in and out. For deployment: the model must be in eval mode
    /// (<see cref="InvalidOperationException"/> otherwise) and stays inference-only (the copies hold their weights
    /// as buffers, so training or loading a checkpoint afterwards does not reach them). Every convolution must be
    /// float32 on the CPU; all are checked before any is replaced. The root itself cannot be replaced: convert a
    /// single layer with the <see cref="MkldnnConv2d"/> constructor.
    /// </summary>
    public static T to_mkldnn<T>(T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is Conv2d) throw new ArgumentException("the module is itself a Conv2d: use new MkldnnConv2d(conv)", nameof(module));
        foreach ((string name, Module m) in module.named_modules())
            if (m.training)
                throw new InvalidOperationException($"to_mkldnn: {(name.Length == 0 ? "the model" : $"'{name}'")} is in training mode; the oneDNN copies are for inference only: call eval() first");
        var convolutions = module.named_modules().Where(m => m.module is Conv2d).Select(m => (m.name, conv: (Conv2d)m.module)).ToList();
        foreach ((string name, Conv2d conv) in convolutions)
            if (conv.weight.dtype != ScalarType.Float32 || conv.weight.device.Type != DeviceType.CPU)
                throw new ArgumentException($"to_mkldnn: '{name}' is {conv.weight.dtype} on {conv.weight.device}; oneDNN's convolution takes float32 on the CPU", nameof(module));
        foreach ((string name, Conv2d conv) in convolutions)
        {
            module.set_submodule(name, new MkldnnConv2d(conv));
            conv.Dispose();
        }
        return module;
    }

    /// <summary>Channels, kernel, stride, padding, dilation and groups, as the source convolution's.</summary>
    public ConvGeometry geometry { get; }

    /// <summary>The kernel (buffer), [out_channels, in_channels/groups, kH, kW].</summary>
    public Tensor weight { get; }

    /// <summary>The bias (buffer), or null.</summary>
    public Tensor? bias { get; }

    /// <summary>The convolution of <paramref name="input"/> (N×C_in×H×W, CPU float32, dense or oneDNN) by oneDNN, with the
    /// bias, in the input's layout.</summary>
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(MkldnnConv2d), "N×C×H×W", 4);
        InputChecks.Size(input, 1, geometry.in_channels, nameof(MkldnnConv2d), "input channels");
        if (input.dtype != ScalarType.Float32 || input.device.Type != DeviceType.CPU)
            throw new ArgumentException($"MkldnnConv2d expects a float32 CPU input, got {input.dtype} on {input.device}", nameof(input));
        if (input.is_mkldnn)
            return Convolve(input);
        using var scope = torch.NewDisposeScope();
        return Convolve(input.to_mkldnn()).to_dense().MoveToOuterDisposeScope();
    }

    private Tensor Convolve(Tensor input) =>
        s_convolution.Call(input, _packedWeight, bias, geometry.padding, geometry.stride, geometry.dilation, geometry.groups);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _packedWeight.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{geometry.ReprPrefix()}, padding=({geometry.padding[0]}, {geometry.padding[1]}), dilation=({geometry.dilation[0]}, {geometry.dilation[1]}), " +
        $"groups={geometry.groups}, bias={(bias is null ? "False" : "True")}");
}
