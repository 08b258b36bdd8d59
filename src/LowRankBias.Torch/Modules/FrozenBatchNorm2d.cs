using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// A BatchNorm2d that no longer learns (torchvision's <c>ops.FrozenBatchNorm2d</c>, which its detection models put in
/// their ResNet backbones): every channel is normalised with the stored running statistics and scaled and shifted by
/// the stored weight and bias, in training as in evaluation, and nothing of it is trained or updated. All of them are
/// buffers, so optimizers do not see them and <see cref="Module.train"/> changes nothing. Unlike torchvision's it keeps
/// <c>num_batches_tracked</c>, so its state dict has a <see cref="BatchNorm2d"/>'s keys and loads into either.
/// </summary>
public sealed class FrozenBatchNorm2d : Module
{
    /// <summary>The frozen counterpart of <paramref name="source"/>, holding copies of its tensors.</summary>
    public FrozenBatchNorm2d(BatchNorm2d source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.track_running_stats)
            throw new ArgumentException("a BatchNorm2d without running statistics (track_running_stats = false) has nothing to freeze", nameof(source));
        num_features = source.num_features;
        eps = source.eps;
        using var noGrad = torch.no_grad();
        weight = register_buffer("weight", source.weight?.clone());
        bias = register_buffer("bias", source.bias?.clone());
        running_mean = register_buffer("running_mean", source.running_mean!.clone());
        running_var = register_buffer("running_var", source.running_var!.clone());
        num_batches_tracked = register_buffer("num_batches_tracked", source.num_batches_tracked!.clone());
    }

    /// <summary>Number of channels C.</summary>
    public long num_features { get; }

    /// <summary>Added to the variance for numerical stability.</summary>
    public double eps { get; }

    /// <summary>Per-channel scale (buffer), or null when the source had none.</summary>
    public Tensor? weight { get; }

    /// <summary>Per-channel shift (buffer), or null when the source had none.</summary>
    public Tensor? bias { get; }

    /// <summary>Mean per channel (buffer).</summary>
    public Tensor running_mean { get; }

    /// <summary>Variance per channel (buffer).</summary>
    public Tensor running_var { get; }

    /// <summary>The source's count of training batches (buffer), kept for its state dict only.</summary>
    public Tensor num_batches_tracked { get; }

    /// <summary>
    /// Replaces every <see cref="BatchNorm2d"/> below <paramref name="module"/> by its <see cref="FrozenBatchNorm2d"/>
    /// (the replaced layers are disposed) and returns how many were replaced. Every layer is checked before any is
    /// replaced. The root itself cannot be replaced: freeze a single layer with the constructor.
    /// </summary>
    public static int convert_frozen_batchnorm(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is BatchNorm2d) throw new ArgumentException("the module is itself a BatchNorm2d: use new FrozenBatchNorm2d(layer)", nameof(module));
        var layers = module.named_modules().Where(m => m.module is BatchNorm2d).Select(m => (m.name, layer: (BatchNorm2d)m.module)).ToList();
        foreach ((string name, BatchNorm2d layer) in layers)
            if (!layer.track_running_stats)
                throw new ArgumentException($"'{name}' keeps no running statistics (track_running_stats = false), so it cannot be frozen", nameof(module));
        foreach ((string name, BatchNorm2d layer) in layers)
        {
            module.set_submodule(name, new FrozenBatchNorm2d(layer));
            layer.Dispose();
        }
        return layers.Count;
    }

    /// <summary>(x − running_mean) / √(running_var + eps) · weight + bias per channel of <paramref name="input"/> (N×C×H×W).</summary>
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(FrozenBatchNorm2d), "N×C×H×W", 4);
        InputChecks.Size(input, 1, num_features, nameof(FrozenBatchNorm2d), "channels");
        return F.batch_norm(input, running_mean, running_var, weight, bias, training: false, eps: eps);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture, $"{num_features}, eps={eps}");
}
