using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Amp;

public class GradScalerTests
{
    private const double Lr = 0.25;

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void ANonFiniteGradientSkipsTheStepAndBacksOffTheScale(double bad)
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        using var optimizer = new SGD([p], lr: Lr);
        using var scaler = new GradScaler(init_scale: 1024, growth_interval: 2);

        Assert.True(Iteration(scaler, optimizer, p, [0.5f, -1, 2]));
        Assert.Equal(new float[] { 1 - 0.125f, 2 + 0.25f, 3 - 0.5f }, p.ToArray<float>());
        Assert.Equal(1024, scaler.get_scale());
        Assert.Equal(1, scaler.state_dict()!.growth_tracker);

        Assert.False(Iteration(scaler, optimizer, p, [0.5f, (float)bad, 2]));
        Assert.Equal(new float[] { 1 - 0.125f, 2 + 0.25f, 3 - 0.5f }, p.ToArray<float>());
        Assert.Equal(512, scaler.get_scale());
        Assert.Equal(0, scaler.state_dict()!.growth_tracker);
    }

    [Fact]
    public void TheScaleGrowsAfterEachGrowthIntervalOfCleanStepsButNotPastFloat32()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new float[] { 1, 2 }, requires_grad: true);
        using var optimizer = new SGD([p], lr: 0);
        using var scaler = new GradScaler(init_scale: 8, growth_factor: 4, backoff_factor: 0.25, growth_interval: 3);
        float[] clean = [1, -1], broken = [float.NegativeInfinity, 1];
        // Hand-computed: ×4 after every 3rd clean step in a row, ×¼ and a fresh count after a broken one.
        (float[] grad, double scale, long tracker)[] expected =
        [
            (clean, 8, 1), (clean, 8, 2), (clean, 32, 0), (clean, 32, 1), (broken, 8, 0),
            (clean, 8, 1), (clean, 8, 2), (clean, 32, 0),
        ];
        foreach ((float[] grad, double scale, long tracker) in expected)
        {
            Iteration(scaler, optimizer, p, grad);
            Assert.Equal(scale, scaler.get_scale());
            Assert.Equal(tracker, scaler.state_dict()!.growth_tracker);
        }

        using var top = new GradScaler(init_scale: Math.ScaleB(1, 127), growth_interval: 1);
        Iteration(top, optimizer, p, [0, 0]);
        Assert.Equal(Math.ScaleB(1, 127), top.get_scale());
        Assert.Equal(0, top.state_dict()!.growth_tracker);
    }

    [Fact]
    public void UnscaledGradientsEqualTheUnscaledGradientAndTheFloat64Gradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        Tensor w = randn([5, 3]).requires_grad_();
        Tensor x = randn([8, 5]);
        Tensor t = randn([8, 3]);
        Tensor Loss() => (x.mm(w) - t).square().mean();

        Loss().backward();
        float[] plain = w.grad!.ToArray<float>();
        w.grad = null;
        using var optimizer = new SGD([w], lr: Lr);
        using var scaler = new GradScaler();
        scaler.scale(Loss()).backward();
        Assert.NotEqual(plain, w.grad!.ToArray<float>());
        scaler.unscale_(optimizer);

        // A power-of-two scale is exact in float32: unscaling gives back the very gradient of the unscaled loss.
        Assert.Equal(plain, w.grad!.ToArray<float>());
        // Closed form in float64: d/dw mean((xw − t)²) = 2/(8·3) · xᵀ(xw − t).
        Tensor x64 = x.@double();
        double[] expected = (x64.t().mm(x64.mm(w.detach().@double()) - t.@double()) * (2.0 / 24)).ToArray<double>();
        double[] got = w.grad!.@double().ToArray<double>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 1e-5);

        Assert.Throws<InvalidOperationException>(() => scaler.unscale_(optimizer));
        float[] before = w.detach().ToArray<float>();
        Assert.True(scaler.step(optimizer));
        float[] after = w.detach().ToArray<float>();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] - Lr * plain[i], after[i], 1e-6);
        Assert.Throws<InvalidOperationException>(() => scaler.step(optimizer));
        scaler.update();
    }

    [Fact]
    public void StateDictRoundTripsAndTheRestoredScalerContinuesTheSchedule()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new float[] { 1 }, requires_grad: true);
        using var optimizer = new SGD([p], lr: 0);
        using var original = new GradScaler(init_scale: 4, growth_factor: 3, backoff_factor: 0.75, growth_interval: 3);
        Iteration(original, optimizer, p, [1]);
        Iteration(original, optimizer, p, [1]);
        GradScalerState state = original.state_dict()!;
        Assert.Equal(new GradScalerState { scale = 4, growth_factor = 3, backoff_factor = 0.75, growth_interval = 3, growth_tracker = 2 }, state);

        using var restored = new GradScaler(init_scale: 1, growth_interval: 50);
        restored.load_state_dict(state);
        Assert.Equal(state, restored.state_dict());
        Iteration(original, optimizer, p, [1]);
        Iteration(restored, optimizer, p, [1]);
        Assert.Equal(12, restored.get_scale());
        Assert.Equal(original.state_dict(), restored.state_dict());

        using var disabled = new GradScaler(enabled: false);
        Assert.Null(disabled.state_dict());
        disabled.load_state_dict(state);
        Assert.Equal(1, disabled.get_scale());
        Assert.Throws<ArgumentException>(() => restored.load_state_dict(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => restored.load_state_dict(state with { growth_tracker = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradScaler(growth_factor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradScaler(init_scale: 1e39));
    }

    [Fact]
    public void ADisabledScalerPassesThroughAndFloat16GradientsAreRefused()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new float[] { 2 }, requires_grad: true);
        using var optimizer = new SGD([p], lr: Lr);
        using var disabled = new GradScaler(enabled: false);
        Tensor loss = (p * 3).sum();
        Tensor scaled = disabled.scale(loss);
        Assert.Equal(loss.item<float>(), scaled.item<float>());
        scaled.backward();
        Assert.True(disabled.step(optimizer));
        Assert.Equal(2 - Lr * 3, p.item<float>());

        using var scaler = new GradScaler();
        Assert.Throws<InvalidOperationException>(() => scaler.step(optimizer));
        Tensor half = tensor(new float[] { 1 }).half().requires_grad_();
        half.grad = ones([1], ScalarType.Float16);
        using var halfOptimizer = new SGD([half]);
        scaler.scale(loss.detach());
        Exception error = Assert.Throws<InvalidOperationException>(() => scaler.unscale_(halfOptimizer));
        Assert.Contains("float16", error.Message);
    }

    // One training iteration of loss = Σ grad·p, whose gradient is grad: scale, backward, step, update.
    private static bool Iteration(GradScaler scaler, Optimizer optimizer, Tensor p, float[] grad)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        scaler.scale((tensor(grad) * p).sum()).backward();
        bool stepped = scaler.step(optimizer);
        scaler.update();
        return stepped;
    }
}
