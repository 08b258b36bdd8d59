using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// An inference-only copy of a <see cref="Conv2d"/> that always runs oneDNN's convolution (<c>aten::mkldnn_convolution</c>;
/// PyTorch's <c>torch.utils.mkldnn.MkldnnConv2d</c>, made for a whole model by <see cref="to_mkldnn"/>). libtorch 1.13's
/// <c>conv2d</c> picks oneDNN only for batches above 1, kernels above 3×3, groups or inputs of more than 20,480 elements;
/// every other convolution — at batch 1 nearly all of a small image's — goes to its im2col + BLAS path, which
/// parallelises over the batch (one thread at batch 1) and takes several times oneDNN's time. Unlike PyTorch's module it
/// takes and returns ordinary (dense) tensors, so it drops into any model. Weight and bias are buffers: nothing trains.
/// CPU float32 only.
/// </summary>
public sealed class MkldnnConv2d : Module
{
    private static readonly Op s_convolution = new("aten::mkldnn_convolution");

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

    /// <summary>The convolution of <paramref name="input"/> (N×C_in×H×W, CPU float32) by oneDNN, with the bias.</summary>
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(MkldnnConv2d), "N×C×H×W", 4);
        InputChecks.Size(input, 1, geometry.in_channels, nameof(MkldnnConv2d), "input channels");
        if (input.dtype != ScalarType.Float32 || input.device.Type != DeviceType.CPU)
            throw new ArgumentException($"MkldnnConv2d expects a float32 CPU input, got {input.dtype} on {input.device}", nameof(input));
        return s_convolution.Call(input, weight, bias, geometry.padding, geometry.stride, geometry.dilation, geometry.groups);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{geometry.ReprPrefix()}, padding=({geometry.padding[0]}, {geometry.padding[1]}), dilation=({geometry.dilation[0]}, {geometry.dilation[1]}), " +
        $"groups={geometry.groups}, bias={(bias is null ? "False" : "True")}");
}
