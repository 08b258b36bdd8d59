using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Overparam;

public static partial class Overparam
{
    /// <summary>
    /// One <see cref="Linear"/> computing what the chain computes, <paramref name="chain"/>[0] applied first:
    /// W = W_k ⋯ W_1 and b = W_k(⋯(W_2 b_1 + b_2)⋯) + b_k, i.e. each layer's bias carried through the later weights.
    /// Members may be <see cref="Linear"/> or <see cref="ExpandedLinear"/> (taken as its effective weight). Computed in
    /// float64 and stored in the first layer's dtype and device; the result has a bias when any member has one.
    /// The chain is left unchanged.
    /// </summary>
    public static Linear ComposeLinear(IReadOnlyList<Module> chain)
    {
        CheckChain(chain, 1);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (Tensor weight, Tensor? bias) = LinearParts(chain[0], 0);
        for (int i = 1; i < chain.Count; i++)
        {
            (Tensor w, Tensor? b) = LinearParts(chain[i], i);
            if (w.size(1) != weight.size(0))
                throw new ArgumentException($"chain[{i}] takes {w.size(1)} features but chain[{i - 1}] gives {weight.size(0)}", nameof(chain));
            weight = w.mm(weight);
            bias = bias is null ? b : b is null ? w.matmul(bias) : w.matmul(bias) + b;
        }
        Tensor first = Overparam.EffectiveWeight(chain[0]);
        var composed = new Linear(weight.size(1), weight.size(0), bias is not null, first.device, first.dtype);
        composed.weight.copy_(weight);
        composed.bias?.copy_(bias!);
        return composed;
    }

    /// <summary>
    /// One <see cref="Conv2d"/> computing what a chain of convolutions computes, <paramref name="chain"/>[0] applied
    /// first. Every member has stride 1, dilation 1 and groups 1, and all but the first have no padding (the first's
    /// zero padding carries over: padding the input commutes with the rest of the chain, padding an intermediate
    /// output does not). Kernels compose by full convolution over the shared channels, so k₁×k₁ then k₂×k₂ gives
    /// (k₁ + k₂ − 1)×(k₁ + k₂ − 1) (two 3×3 → one 5×5); biases carry through like <see cref="ComposeLinear"/>'s, with
    /// each later kernel summed over its taps. Members may be <see cref="Conv2d"/> or <see cref="ExpandedConv2d"/>.
    /// Computed in float64, stored in the first layer's dtype and device; the chain is left unchanged.
    /// </summary>
    public static Conv2d ComposeConv2d(IReadOnlyList<Module> chain)
    {
        CheckChain(chain, 1);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        ConvParts first = ConvolutionParts(chain[0], 0, first: true);
        Tensor weight = first.Weight;
        Tensor? bias = first.Bias;
        for (int i = 1; i < chain.Count; i++)
        {
            ConvParts next = ConvolutionParts(chain[i], i, first: false);
            Tensor w = next.Weight; // [o, h, k2, k2]
            if (w.size(1) != weight.size(0))
                throw new ArgumentException($"chain[{i}] takes {w.size(1)} channels but chain[{i - 1}] gives {weight.size(0)}", nameof(chain));
            // W[o, i, t] = Σ_h Σ_v W2[o, h, v] W1[h, i, t − v]: a cross-correlation of the padded W1 (input channels as
            // the batch, h as channels) with the flipped W2.
            long ph = w.size(2) - 1, pw = w.size(3) - 1;
            Tensor composed = F.conv2d(weight.permute(1, 0, 2, 3), w.flip(2, 3), padding: [ph, pw]);
            weight = composed.permute(1, 0, 2, 3);
            Tensor tapSums = w.sum([2, 3]);
            bias = bias is null ? next.Bias : next.Bias is null ? tapSums.matmul(bias) : tapSums.matmul(bias) + next.Bias;
        }
        Tensor original = Overparam.EffectiveWeight(chain[0]);
        var conv = new Conv2d(weight.size(1), weight.size(0), [weight.size(2), weight.size(3)], padding: first.Padding,
            bias: bias is not null, device: original.device, dtype: original.dtype);
        conv.weight.copy_(weight);
        conv.bias?.copy_(bias!);
        return conv;
    }

    /// <summary>
    /// Collapses every run of two or more consecutive linear layers in the <see cref="Sequential"/> containers of
    /// <paramref name="model"/> (itself included) — a chain a user built by hand with no nonlinearity between, e.g.
    /// <c>Sequential(Linear, Linear, ReLU, Linear)</c>. A run is consecutive <see cref="Linear"/>/<see cref="ExpandedLinear"/>
    /// steps (<see cref="ComposeLinear"/>) or consecutive <see cref="Conv2d"/>/<see cref="ExpandedConv2d"/> steps that
    /// <see cref="ComposeConv2d"/> can compose exactly; <see cref="Identity"/> steps inside a run are skipped over. The
    /// run's first step becomes the composed layer and the others become <see cref="Identity"/>, so every other
    /// step keeps its index and state-dict name; the replaced layers are disposed. Returns the number of runs
    /// collapsed (0 leaves the model unchanged).
    /// </summary>
    public static int CollapseLinearChains(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var runs = new List<(Sequential container, List<int> steps)>();
        foreach (Sequential container in model.modules().OfType<Sequential>())
            runs.AddRange(Runs(container).Select(steps => (container, steps)));
        var composed = new List<Module>();
        try
        {
            foreach ((Sequential container, List<int> steps) in runs)
            {
                Module[] chain = steps.Select(i => container[i]).ToArray();
                composed.Add(IsLinear(chain[0]) ? ComposeLinear(chain) : ComposeConv2d(chain));
            }
        }
        catch
        {
            foreach (Module m in composed) m.Dispose();
            throw;
        }
        for (int r = 0; r < runs.Count; r++)
        {
            (Sequential container, List<int> steps) = runs[r];
            for (int j = 0; j < steps.Count; j++)
            {
                Module old = container[steps[j]];
                container[steps[j]] = j == 0 ? composed[r] : new Identity();
                old.Dispose();
            }
        }
        return runs.Count;
    }

    /// <summary>The step indices of each maximal run of ≥ 2 composable layers of one kind (Identity steps skipped).</summary>
    private static IEnumerable<List<int>> Runs(Sequential container)
    {
        var run = new List<int>();
        for (int i = 0; i <= container.Count; i++)
        {
            Module? step = i < container.Count ? container[i] : null;
            if (step is Identity) continue;
            bool extends = step is not null && run.Count > 0 && (IsLinear(step) && IsLinear(container[run[0]])
                || IsComposableConv(step, first: false) && IsComposableConv(container[run[0]], first: true));
            if (extends) { run.Add(i); continue; }
            if (run.Count >= 2) yield return run;
            run = step is not null && (IsLinear(step) || IsComposableConv(step, first: true)) ? [i] : [];
        }
    }

    private static bool IsLinear(Module m) => m is Linear or ExpandedLinear;

    private static bool IsComposableConv(Module m, bool first) => m switch
    {
        Conv2d c => Composable(c.geometry, first),
        ExpandedConv2d e => Composable(e.geometry, first),
        _ => false,
    };

    private static bool Composable(ConvGeometry g, bool first) =>
        g.stride.All(s => s == 1) && g.dilation.All(d => d == 1) && g.groups == 1 && (first || g.padding.All(p => p == 0));

    private static void CheckChain(IReadOnlyList<Module> chain, int minLength)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count < minLength) throw new ArgumentException("the chain holds no layer", nameof(chain));
        for (int i = 0; i < chain.Count; i++)
            if (chain[i] is null) throw new ArgumentNullException(nameof(chain), $"chain[{i}] is null");
    }

    private static (Tensor weight, Tensor? bias) LinearParts(Module layer, int index) => layer switch
    {
        Linear l => (l.weight.to(ScalarType.Float64), l.bias?.to(ScalarType.Float64)),
        ExpandedLinear e => (e.EffectiveWeight().to(ScalarType.Float64), e.bias?.to(ScalarType.Float64)),
        _ => throw new ArgumentException($"chain[{index}] is a {layer.GetType().Name}; a linear chain holds Linear or ExpandedLinear layers", "chain"),
    };

    private sealed record ConvParts(Tensor Weight, Tensor? Bias, long[] Padding);

    private static ConvParts ConvolutionParts(Module layer, int index, bool first)
    {
        if (!IsComposableConv(layer, first))
            throw new ArgumentException(layer is Conv2d or ExpandedConv2d
                ? $"chain[{index}] cannot be composed exactly: every convolution needs stride 1, dilation 1 and groups 1, and all but the first no padding"
                : $"chain[{index}] is a {layer.GetType().Name}; a convolution chain holds Conv2d or ExpandedConv2d layers", "chain");
        return layer switch
        {
            Conv2d c => new(c.weight.to(ScalarType.Float64), c.bias?.to(ScalarType.Float64), c.padding),
            ExpandedConv2d e => new(e.EffectiveWeight().to(ScalarType.Float64), e.bias?.to(ScalarType.Float64), e.geometry.padding),
            _ => throw new InvalidOperationException(),
        };
    }
}
