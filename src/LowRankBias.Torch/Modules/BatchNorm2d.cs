using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Batch normalisation of N×C×H×W inputs (PyTorch's <c>nn.BatchNorm2d</c>). In training each channel is normalised
/// with the batch's mean and biased variance, and the buffers <c>running_mean</c> (zeros) and <c>running_var</c>
/// (ones) move towards the batch mean and unbiased variance: running = (1 − m)·running + m·batch, with m =
/// <see cref="momentum"/>, or m = 1/<c>num_batches_tracked</c> (a cumulative average) when momentum is null. In
/// evaluation the running statistics are used. Without <see cref="track_running_stats"/> there are no buffers and
/// batch statistics are used in both modes.
/// </summary>
public sealed class BatchNorm2d : Module
{
    // Tensor.add_(double) would pass a floating-point scalar, which an int64 tensor cannot absorb in place.
    private static readonly Op s_addInteger_ = new("aten::add_", "Scalar");

    /// <summary>Creates the layer for <paramref name="num_features"/> channels; weight starts at ones, bias at zeros.</summary>
    public BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true,
        Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num_features, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        if (momentum is double m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), m, "momentum must lie in [0, 1] (or be null for a cumulative average)");
        this.num_features = num_features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.track_running_stats = track_running_stats;
        weight = register_parameter("weight", affine ? torch.ones([num_features], dtype, device) : null);
        bias = register_parameter("bias", affine ? torch.zeros([num_features], dtype, device) : null);
        running_mean = register_buffer("running_mean", track_running_stats ? torch.zeros([num_features], dtype, device) : null);
        running_var = register_buffer("running_var", track_running_stats ? torch.ones([num_features], dtype, device) : null);
        num_batches_tracked = register_buffer("num_batches_tracked",
            track_running_stats ? torch.zeros([], ScalarType.Int64, device) : null);
    }

    /// <summary>Number of channels C.</summary>
    public long num_features { get; }

    /// <summary>Added to the variance for numerical stability.</summary>
    public double eps { get; }

    /// <summary>Weight of the newest batch in the running statistics; null for a cumulative average.</summary>
    public double? momentum { get; }

    /// <summary>Whether the layer has a learned per-channel scale and shift.</summary>
    public bool affine { get; }

    /// <summary>Whether running statistics are kept (and used in evaluation).</summary>
    public bool track_running_stats { get; }

    /// <summary>Per-channel scale, or null.</summary>
    public Tensor? weight { get; }

    /// <summary>Per-channel shift, or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Running mean per channel (buffer), or null.</summary>
    public Tensor? running_mean { get; }

    /// <summary>Running unbiased variance per channel (buffer), or null.</summary>
    public Tensor? running_var { get; }

    /// <summary>Number of training batches seen (int64 scalar buffer), or null.</summary>
    public Tensor? num_batches_tracked { get; }

    /// <summary>Resets the running statistics to mean 0, variance 1 and no batches.</summary>
    public void reset_running_stats()
    {
        if (!track_running_stats) return;
        running_mean!.zero_();
        running_var!.fill_(1);
        num_batches_tracked!.zero_();
    }

    /// <summary>Normalises each channel of <paramref name="input"/> (N×C×H×W).</summary>
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(BatchNorm2d), "N×C×H×W", 4);
        InputChecks.Size(input, 1, num_features, nameof(BatchNorm2d), "channels");
        double factor = 0;
        if (training && track_running_stats)
        {
            s_addInteger_.CallInPlace(num_batches_tracked!, 1L);
            factor = momentum ?? 1.0 / num_batches_tracked!.item<long>();
        }
        bool useBatchStatistics = training || !track_running_stats;
        return F.batch_norm(input, running_mean, running_var, weight, bias, useBatchStatistics, factor, eps);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{num_features}, eps={eps}, momentum={(momentum is double m ? m.ToString(CultureInfo.InvariantCulture) : "None")}, " +
        $"affine={(affine ? "True" : "False")}, track_running_stats={(track_running_stats ? "True" : "False")}");
}
