using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Group normalisation (PyTorch's <c>nn.GroupNorm</c>): the C channels of an N×C×… input are split into
/// <see cref="num_groups"/> groups and each group of each sample is normalised, then scaled and shifted per channel
/// (weight ones, bias zeros).
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer; <paramref name="num_groups"/> must divide <paramref name="num_channels"/>.</summary>
    public GroupNorm(long num_groups, long num_channels, double eps = 1e-5, bool affine = true, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num_groups, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(num_channels, 1);
        if (num_channels % num_groups != 0)
            throw new ArgumentException($"num_groups = {num_groups} must divide num_channels = {num_channels}", nameof(num_groups));
        this.num_groups = num_groups;
        this.num_channels = num_channels;
        this.eps = eps;
        this.affine = affine;
        weight = register_parameter("weight", affine ? torch.ones([num_channels], dtype, device) : null);
        bias = register_parameter("bias", affine ? torch.zeros([num_channels], dtype, device) : null);
    }

    /// <summary>Number of groups.</summary>
    public long num_groups { get; }

    /// <summary>Number of channels C.</summary>
    public long num_channels { get; }

    /// <summary>Added to the variance for numerical stability.</summary>
    public double eps { get; }

    /// <summary>Whether the layer has a learned per-channel scale and shift.</summary>
    public bool affine { get; }

    /// <summary>Per-channel scale, or null.</summary>
    public Tensor? weight { get; }

    /// <summary>Per-channel shift, or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Normalises <paramref name="input"/> (N×C×…).</summary>
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(GroupNorm), "N×C×…", 2, 3, 4, 5);
        InputChecks.Size(input, 1, num_channels, nameof(GroupNorm), "channels");
        return F.group_norm(input, num_groups, weight, bias, eps);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{num_groups}, {num_channels}, eps={eps}, affine={(affine ? "True" : "False")}");
}
