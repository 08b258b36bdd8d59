using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Merging;

/// <summary>A loss along the straight line between two models and its barrier (Yunis et al. eq. 6).</summary>
/// <param name="Alphas">The interpolation points α in [0, 1].</param>
/// <param name="Losses">L((1 − α)·θa + α·θb) at each α.</param>
/// <param name="Barrier">max over α of L(α) − ((1 − α)·L(0) + α·L(1)); 0 (or less) means linear mode connectivity.</param>
public sealed record InterpolationBarrier(double[] Alphas, double[] Losses, double Barrier);

/// <summary>
/// Arithmetic on whole models of one architecture: sums and averages (Kuzborskij &amp; Abbasi-Yadkori §5, merging by
/// summation), linear interpolation and its loss barrier (Yunis et al. eq. 6), and recomputing BatchNorm statistics
/// after such an edit (interpolated running statistics do not describe the interpolated network; Frankle et al.).
/// Results are written into a third model of the same architecture, which the caller builds.
/// </summary>
public static class ModelSpace
{
    /// <summary><paramref name="into"/> ← α·a + β·b, entry by entry over parameters and floating-point buffers (integer
    /// buffers such as BatchNorm's batch counter are copied from <paramref name="a"/>).</summary>
    /// <exception cref="ArgumentException">The models' parameters or buffers differ in name, shape or dtype.</exception>
    public static void Combine(Module into, Module a, Module b, double alpha, double beta)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var target = Entries(into);
        var first = Entries(a);
        var second = Entries(b);
        CheckSame(target, first, "into", "a");
        CheckSame(target, second, "into", "b");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < target.Count; i++)
        {
            Tensor t = target[i].tensor;
            if (t.dtype.IsFloatingPoint()) t.copy_(first[i].tensor * alpha + second[i].tensor * beta);
            else t.copy_(first[i].tensor);
        }
    }

    /// <summary><paramref name="into"/> ← a + b (merging by summation).</summary>
    public static void Sum(Module into, Module a, Module b) => Combine(into, a, b, 1, 1);

    /// <summary><paramref name="into"/> ← (a + b) / 2.</summary>
    public static void Average(Module into, Module a, Module b) => Combine(into, a, b, 0.5, 0.5);

    /// <summary><paramref name="into"/> ← (1 − t)·a + t·b.</summary>
    public static void Interpolate(Module into, Module a, Module b, double t) => Combine(into, a, b, 1 - t, t);

    /// <summary>
    /// The loss at <paramref name="points"/> evenly spaced points from <paramref name="a"/> (α = 0) to
    /// <paramref name="b"/> (α = 1), computed on <paramref name="into"/>, and the barrier of Yunis et al. eq. 6.
    /// <paramref name="afterInterpolation"/> runs on each interpolated model before its loss, e.g.
    /// <c>m =&gt; ModelSpace.RecomputeBatchNorm(m, batches)</c>.
    /// </summary>
    public static InterpolationBarrier Barrier(Module into, Module a, Module b, Func<Module, double> loss, int points = 11, Action<Module>? afterInterpolation = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        double[] alphas = Enumerable.Range(0, points).Select(i => (double)i / (points - 1)).ToArray();
        double[] losses = alphas.Select(alpha =>
        {
            Interpolate(into, a, b, alpha);
            afterInterpolation?.Invoke(into);
            return loss(into);
        }).ToArray();
        double barrier = alphas.Select((alpha, i) => losses[i] - ((1 - alpha) * losses[0] + alpha * losses[^1])).Max();
        return new InterpolationBarrier(alphas, losses, barrier);
    }

    /// <summary>
    /// Resets every <see cref="BatchNorm2d"/>'s running statistics to their values over <paramref name="batches"/>: the
    /// mean of the batches' channel means and of their unbiased channel variances (PyTorch's cumulative average,
    /// <c>momentum=None</c>). The forward passes run in training mode without gradients; the mode is restored.
    /// </summary>
    public static void RecomputeBatchNorm(Module model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        BatchNorm2d[] norms = model.modules().OfType<BatchNorm2d>().Where(n => n.running_mean is not null).ToArray();
        if (norms.Length == 0) return;
        var sums = new Dictionary<BatchNorm2d, (Tensor mean, Tensor var)>(ReferenceEqualityComparer.Instance);
        var hooks = norms.Select(n => n.register_forward_hook((module, input, _) =>
        {
            using Tensor mean = input.mean([0, 2, 3]), variance = input.var([0, 2, 3]);
            var norm = (BatchNorm2d)module;
            sums[norm] = sums.TryGetValue(norm, out var s)
                ? (s.mean.add_(mean), s.var.add_(variance))
                : (mean.clone().DetachFromDisposeScope(), variance.clone().DetachFromDisposeScope());
        })).ToArray();
        bool training = model.training;
        long count = 0;
        try
        {
            model.train();
            using var noGrad = torch.no_grad();
            foreach (Tensor batch in batches)
            {
                using var scope = torch.NewDisposeScope();
                model.call(batch);
                count++;
            }
            if (count == 0) throw new ArgumentException("no batches to recompute the BatchNorm statistics from", nameof(batches));
            foreach (BatchNorm2d norm in norms)
            {
                (Tensor mean, Tensor variance) = sums[norm];
                norm.running_mean!.copy_(mean.div_(count));
                norm.running_var!.copy_(variance.div_(count));
                norm.num_batches_tracked?.fill_(count);
            }
        }
        finally
        {
            foreach (RemovableHandle hook in hooks) hook.remove();
            foreach ((Tensor mean, Tensor variance) in sums.Values) { mean.Dispose(); variance.Dispose(); }
            if (!training) model.eval();
        }
    }

    private static List<(string name, Tensor tensor)> Entries(Module model) =>
        [.. model.named_parameters().Select(p => (p.name, p.parameter)), .. model.named_buffers().Select(b => (b.name, b.buffer))];

    private static void CheckSame(List<(string name, Tensor tensor)> x, List<(string name, Tensor tensor)> y, string xName, string yName)
    {
        if (x.Count != y.Count) throw new ArgumentException($"'{xName}' has {x.Count} parameters and buffers but '{yName}' has {y.Count}: not the same architecture");
        for (int i = 0; i < x.Count; i++)
            if (x[i].name != y[i].name || !x[i].tensor.shape.SequenceEqual(y[i].tensor.shape) || x[i].tensor.dtype != y[i].tensor.dtype)
                throw new ArgumentException($"entry {i} differs: '{xName}' has {x[i].name} [{string.Join(", ", x[i].tensor.shape)}] {x[i].tensor.dtype}, '{yName}' has {y[i].name} [{string.Join(", ", y[i].tensor.shape)}] {y[i].tensor.dtype}");
    }
}
