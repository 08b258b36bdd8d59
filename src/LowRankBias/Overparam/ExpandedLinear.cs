using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Overparam;

/// <summary>A <see cref="Linear"/> layer W [m, n] expanded to W_d ⋯ W_1 with W_1 [h, n], W_2 … W_{d−1} [h, h] and
/// W_d [m, h] (Huh thesis, App. 7.2, fully connected rule); see <see cref="ExpandedLayer"/> for the initialisation.</summary>
public sealed class ExpandedLinear : ExpandedLayer
{
    /// <summary>Expands <paramref name="source"/> (which is left unchanged) with the depth, width and gain of
    /// <paramref name="options"/>; its dtype and device are kept and its bias is copied onto the last factor.</summary>
    public ExpandedLinear(Linear source, ExpansionOptions? options = null)
        : this(source, options ?? new ExpansionOptions(), "")
    {
    }

    internal ExpandedLinear(Linear source, ExpansionOptions options, string path)
        : base(source.weight, source.bias, Shapes(source, options, path), InnerWidth(source, options, path), options.Gain)
    {
        in_features = source.in_features;
        out_features = source.out_features;
    }

    /// <summary>Input size n.</summary>
    public long in_features { get; }

    /// <summary>Output size m.</summary>
    public long out_features { get; }

    /// <inheritdoc />
    public override Module Collapse()
    {
        var plain = new Linear(in_features, out_features, bias is not null, factors[0].device, factors[0].dtype);
        return CopyInto(plain, plain.weight, plain.bias);
    }

    private protected override Tensor ApplyFactor(Tensor input, int index, Tensor? addBias) => F.linear(input, factors[index], addBias);

    private protected override void CheckInput(Tensor input)
    {
        long last = input.dim() == 0 ? 0 : input.size(-1);
        if (last != in_features)
            throw new ArgumentException($"ExpandedLinear expects inputs whose last dimension is {in_features}, got shape [{string.Join(", ", input.shape)}]", nameof(input));
    }

    private static long InnerWidth(Linear source, ExpansionOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        return options.WidthFor(source.in_features, Math.Min(source.out_features, source.in_features), path);
    }

    private static long[][] Shapes(Linear source, ExpansionOptions options, string path)
    {
        long h = InnerWidth(source, options, path);
        int d = options.Depth;
        return Enumerable.Range(0, d)
            .Select(i => new[] { i == d - 1 ? source.out_features : h, i == 0 ? source.in_features : h })
            .ToArray();
    }
}
