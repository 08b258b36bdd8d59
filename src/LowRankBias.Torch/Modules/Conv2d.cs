namespace LowRankBias.Torch.Modules;

/// <summary>
/// 2-D convolution (PyTorch's <c>nn.Conv2d</c>) of N×C_in×H×W (or unbatched C_in×H×W) inputs with zero padding.
/// The weight is [out_channels, in_channels/groups, kH, kW], initialised like PyTorch: kaiming_uniform_ with
/// a = √5, i.e. U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups·kH·kW, and the bias with the same bound.
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>A convolution with square kernel, stride, padding and dilation.</summary>
    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool bias = true, Device? device = null, ScalarType? dtype = null)
        : this(in_channels, out_channels, [kernel_size], [stride], [padding], [dilation], groups, bias, device, dtype)
    {
    }

    /// <summary>A convolution whose kernel_size, stride, padding and dilation each take one value (both spatial
    /// dimensions) or a (height, width) pair; stride and dilation default to 1, padding to 0.</summary>
    public Conv2d(long in_channels, long out_channels, long[] kernel_size, long[]? stride = null, long[]? padding = null,
        long[]? dilation = null, long groups = 1, bool bias = true, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(in_channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(out_channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        if (in_channels % groups != 0 || out_channels % groups != 0)
            throw new ArgumentException($"groups = {groups} must divide both in_channels = {in_channels} and out_channels = {out_channels}", nameof(groups));
        geometry = new ConvGeometry(in_channels, out_channels, InputChecks.Pair(kernel_size, nameof(kernel_size), 1),
            InputChecks.Pair(stride ?? [1], nameof(stride), 1), InputChecks.Pair(padding ?? [0], nameof(padding), 0),
            InputChecks.Pair(dilation ?? [1], nameof(dilation), 1), groups);
        weight = register_parameter("weight",
            torch.empty([out_channels, in_channels / groups, geometry.kernel_size[0], geometry.kernel_size[1]], dtype, device));
        this.bias = register_parameter("bias", bias ? torch.empty([out_channels], dtype, device) : null);
        reset_parameters();
    }

    /// <summary>Channels, kernel, stride, padding, dilation and groups, as one value (the properties below read it).</summary>
    public ConvGeometry geometry { get; }

    /// <summary>Input channels.</summary>
    public long in_channels => geometry.in_channels;

    /// <summary>Output channels.</summary>
    public long out_channels => geometry.out_channels;

    /// <summary>(kH, kW).</summary>
    public long[] kernel_size => geometry.kernel_size;

    /// <summary>(stride_h, stride_w).</summary>
    public long[] stride => geometry.stride;

    /// <summary>Zero padding added to both sides, (pad_h, pad_w).</summary>
    public long[] padding => geometry.padding;

    /// <summary>Spacing between kernel elements, (dil_h, dil_w).</summary>
    public long[] dilation => geometry.dilation;

    /// <summary>Number of blocked connections: each group of in_channels/groups inputs feeds out_channels/groups outputs.</summary>
    public long groups => geometry.groups;

    /// <summary>The kernel, [out_channels, in_channels/groups, kH, kW].</summary>
    public Tensor weight { get; }

    /// <summary>The bias, [out_channels], or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Re-draws weight and bias from PyTorch's default distribution.</summary>
    public void reset_parameters()
    {
        torch.nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            double bound = 1 / Math.Sqrt(torch.nn.init.calculate_fan_in_and_fan_out(weight).fan_in);
            torch.nn.init.uniform_(bias, -bound, bound);
        }
    }

    /// <summary>The cross-correlation of <paramref name="input"/> with the kernel, plus the bias.</summary>
    public override Tensor forward(Tensor input)
    {
        geometry.CheckInput(input, nameof(Conv2d));
        return geometry.conv2d(input, weight, bias);
    }

    /// <inheritdoc />
    public override string extra_repr()
    {
        string text = geometry.ReprPrefix();
        if (padding.Any(p => p != 0)) text += $", padding=({padding[0]}, {padding[1]})";
        if (dilation.Any(d => d != 1)) text += $", dilation=({dilation[0]}, {dilation[1]})";
        if (groups != 1) text += $", groups={groups}";
        return bias is null ? text + ", bias=False" : text;
    }
}
