using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class MasterWeightsTests
{
    [Fact]
    public void AnUpdateBelowBFloat16PrecisionIsLostWithoutMasterWeightsAndKeptWithThem()
    {
        using var scope = NewDisposeScope();
        const int steps = 50;
        const float lr = 1e-4f;
        Tensor naive = ones([1], ScalarType.BFloat16, requires_grad: true);
        Tensor mastered = ones([1], ScalarType.BFloat16, requires_grad: true);
        using var naiveSgd = new SGD([naive], lr: lr);
        using var masterSgd = new SGD([mastered], lr: lr) { MasterWeights = true };

        float reference = 1;
        for (int i = 0; i < steps; i++)
        {
            foreach ((Tensor p, Optimizer optimizer) in new[] { (naive, (Optimizer)naiveSgd), (mastered, masterSgd) })
            {
                optimizer.zero_grad();
                p.sum().backward();  // gradient 1
                optimizer.step();
            }
            reference -= lr;  // float32 arithmetic, as the master's update
        }

        // 1 − 10⁻⁴ rounds back to 1 in bfloat16 (spacing 2⁻⁷ above 1, 2⁻⁸ below): every naive update is lost.
        Assert.Equal(1f, naive.@float().item<float>());
        // The master accumulates them; the parameter is the float32 trajectory rounded to bfloat16.
        Assert.Equal((float)(BFloat16)reference, mastered.@float().item<float>());
        Assert.NotEqual(1f, (float)(BFloat16)reference);
        using OptimizerStateDict state = masterSgd.state_dict();
        Tensor master = state.state[0].tensors["master"];
        Assert.Equal(ScalarType.Float32, master.dtype);
        Assert.Equal(reference, master.item<float>(), 1e-7f);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void ABFloat16ModelFollowsTheFloat32TrajectoryWithFloat32State(string kind)
    {
        using var scope = NewDisposeScope();
        // A linear loss Σ d·p whose gradient d is exact in bfloat16, so both models see the same gradients.
        Tensor d = tensor(new float[] { 0.5f, -1.25f, 2, -0.375f });
        float[] start = [1, -2, 0.5f, 3];
        Tensor reference = tensor(start, requires_grad: true);
        Tensor low = tensor(start).bfloat16().requires_grad_();
        Tensor naive = tensor(start).bfloat16().requires_grad_();
        using Optimizer referenceOptimizer = Make(kind, reference, masterWeights: false);
        using Optimizer lowOptimizer = Make(kind, low, masterWeights: true);
        using Optimizer naiveOptimizer = Make(kind, naive, masterWeights: false);

        for (int step = 0; step < 20; step++)
            foreach ((Tensor p, Optimizer optimizer) in new[] { (reference, referenceOptimizer), (low, lowOptimizer), (naive, naiveOptimizer) })
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                (d.to(p.dtype) * p).sum().backward();
                optimizer.step();
            }

        float[] expected = reference.detach().ToArray<float>().Select(v => (float)(BFloat16)v).ToArray();
        Assert.Equal(expected, low.@float().ToArray<float>());
        Assert.NotEqual(expected, naive.@float().ToArray<float>());
        using OptimizerStateDict state = lowOptimizer.state_dict();
        Assert.All(state.state[0].tensors.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        Assert.Equal(reference.detach().ToArray<float>(), state.state[0].tensors["master"].ToArray<float>());
    }

    [Fact]
    public void MasterParamsCarryFloat32GradientsThatTheScalerUnscalesBelowFloat16Range()
    {
        using var scope = NewDisposeScope();
        Tensor low = tensor(new float[] { 1, 2 }).half().requires_grad_();
        Tensor full = tensor(new float[] { 3 }, requires_grad: true);
        using var optimizer = new SGD([low, full], lr: 1024) { MasterWeights = true };
        using var scaler = new GradScaler(init_scale: 16384);
        // loss = 2⁻¹⁴ Σ c·low + Σ full with c = (2⁻¹², 3·2⁻¹²): low's gradients 2⁻²⁶ and 3·2⁻²⁶ lie below float16's
        // smallest subnormal (2⁻²⁴), so float16 backward flushes them to 0 or 2⁻²⁴ unless the loss is scaled (by 2¹⁴
        // here; 2¹⁶ itself would overflow float16).
        float[] trueGradient = [MathF.ScaleB(1, -26), MathF.ScaleB(3, -26)];
        Tensor c = tensor(new float[] { MathF.ScaleB(1, -12), MathF.ScaleB(3, -12) }).half();
        Tensor loss = (c * low).sum() * Math.ScaleB(1, -14) + full.sum();
        loss.backward(retain_graph: true);
        Assert.Equal(new float[] { 0, MathF.ScaleB(1, -24) }, low.grad!.@float().ToArray<float>());
        optimizer.zero_grad();
        scaler.scale(loss).backward();

        IReadOnlyList<Tensor> masters = optimizer.master_params();
        Assert.Equal(ScalarType.Float32, masters[0].dtype);
        Assert.Same(full, masters[1]);
        scaler.unscale_(optimizer);
        Assert.Equal(trueGradient, masters[0].grad!.ToArray<float>());
        Assert.Equal(new float[] { 1 }, full.grad!.ToArray<float>());

        Assert.True(scaler.step(optimizer));
        float[] expectedMaster = [1 - 1024 * trueGradient[0], 2 - 1024 * trueGradient[1]];
        Assert.Equal(expectedMaster, masters[0].ToArray<float>());
        Assert.Equal(expectedMaster.Select(v => (float)(Half)v).ToArray(), low.@float().ToArray<float>());
        Assert.Null(masters[0].grad);
        Assert.Equal(new float[] { 3 - 1024 }, full.detach().ToArray<float>());
    }

    [Fact]
    public void AMasterOnlyLoadsIntoAnOptimizerThatKeepsOne()
    {
        using var scope = NewDisposeScope();
        Tensor p = ones([2], ScalarType.BFloat16, requires_grad: true);
        using var withMasters = new SGD([p], lr: 0.5) { MasterWeights = true };
        p.sum().backward();
        withMasters.step();
        using OptimizerStateDict state = withMasters.state_dict();

        using var without = new SGD([p], lr: 0.5);
        Exception error = Assert.Throws<ArgumentException>(() => without.load_state_dict(state));
        Assert.Contains("master", error.Message);
        using var again = new SGD([p], lr: 0.5) { MasterWeights = true };
        again.load_state_dict(state);
        using OptimizerStateDict copy = again.state_dict();
        Assert.Equal(state.state[0].tensors["master"].ToArray<float>(), copy.state[0].tensors["master"].ToArray<float>());
    }

    private static Optimizer Make(string kind, Tensor p, bool masterWeights) => kind == "sgd"
        ? new SGD([p], lr: 1e-3, momentum: 0.9) { MasterWeights = masterWeights }
        : new AdamW([p], lr: 1e-3) { MasterWeights = masterWeights };
}
