using System.Text.RegularExpressions;

namespace LowRankBias.Overparam;

/// <summary>
/// Settings of <see cref="Overparam.Expand"/>: every selected layer W (m×n) becomes W_d ⋯ W_1 with inner width h
/// (Huh thesis, App. 7.2). Records compose with <c>with</c>; <see cref="Validate"/> runs on every use.
/// </summary>
public sealed record ExpansionOptions
{
    /// <summary>Number of factors d ≥ 1 each layer is split into (the thesis's expansion factor). Default 2.</summary>
    public int Depth { get; init; } = 2;

    /// <summary>Inner width h for every layer; null uses <see cref="WidthFactor"/>. Set at most one of the two.</summary>
    public long? Width { get; init; }

    /// <summary>Inner width as a multiple of each layer's default width, rounded up. The default (factor 1) is h = n,
    /// the input size (the thesis's choice; it used 2n on ImageNet), raised for a convolution to the rank its flattened
    /// weight m×(n·k·k) can reach, min(m, n·k·k), where that is larger, so that h = n cannot cap it (a grey-scale first
    /// convolution has n = 1).</summary>
    public double? WidthFactor { get; init; }

    /// <summary>Permits an inner width below the rank the layer's weight can reach (min(m, n) for Linear,
    /// min(m, n·k·k) for Conv2d), which caps the rank of the effective weight and so changes what the layer can
    /// express. Off by default, so a width that is too small fails instead of silently constraining the model.</summary>
    public bool AllowRankBottleneck { get; init; }

    /// <summary>Layer types to expand. Default <see cref="ExpansionTargets.All"/>.</summary>
    public ExpansionTargets Targets { get; init; } = ExpansionTargets.All;

    /// <summary>Regular expressions matched against whole module paths (<c>named_modules</c> names such as
    /// <c>blocks.0.mlp.fc1</c>); null selects every layer of the <see cref="Targets"/> types. A pattern that selects a
    /// module of an unsupported type, or that selects nothing, is an error.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Regular expressions (whole paths) of modules never expanded; they win over <see cref="Include"/>.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>Multiplies the standard deviation of every expanded layer's output at initialisation (1 keeps the
    /// original layer's output variance exactly in expectation). Must be positive.</summary>
    public double Gain { get; init; } = 1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Depth < 1) throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "expansion depth d must be at least 1");
        if (Width is not null && WidthFactor is not null)
            throw new ArgumentException($"set either {nameof(Width)} ({Width}) or {nameof(WidthFactor)} ({WidthFactor}), not both");
        if (Width is < 1) throw new ArgumentOutOfRangeException(nameof(Width), Width, "inner width h must be at least 1");
        if (WidthFactor is double f && !(f > 0 && double.IsFinite(f)))
            throw new ArgumentOutOfRangeException(nameof(WidthFactor), f, "width factor must be positive and finite");
        if ((Targets & ExpansionTargets.All) == 0 || (Targets & ~ExpansionTargets.All) != 0)
            throw new ArgumentOutOfRangeException(nameof(Targets), Targets, "targets must be Linear, Conv2d or both");
        if (!(Gain > 0 && double.IsFinite(Gain))) throw new ArgumentOutOfRangeException(nameof(Gain), Gain, "gain must be positive and finite");
        foreach (string pattern in (Include ?? []).Concat(Exclude ?? []))
        {
            try { _ = new Regex(pattern); }
            catch (ArgumentException e) { throw new ArgumentException($"'{pattern}' is not a valid regular expression: {e.Message}", e); }
        }
    }

    /// <summary>The inner width for a layer with <paramref name="inputs"/> inputs (channels for convolutions) whose
    /// weight can reach rank <paramref name="rankCapacity"/>; throws when it would cap the rank and that is not allowed.</summary>
    internal long WidthFor(long inputs, long rankCapacity, string path)
    {
        long h = Width ?? (long)Math.Ceiling((WidthFactor ?? 1) * Math.Max(inputs, rankCapacity));
        if (h < rankCapacity && !AllowRankBottleneck)
            throw new ArgumentException(
                $"{Where(path)}inner width h = {h} is below {rankCapacity}, the rank the layer's weight can reach, so it caps the rank of the " +
                $"effective weight; use a larger width or set {nameof(AllowRankBottleneck)} to accept the bottleneck");
        return h;
    }

    /// <summary>"'blocks.0.fc': " for messages about the layer at <paramref name="path"/>, or "" for a layer outside a model.</summary>
    internal static string Where(string path) => path.Length == 0 ? "" : $"'{path}': ";
}
