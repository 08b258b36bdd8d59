using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class CheckpointTests
{
    private sealed record Run(Linear Model, AdamW Optimizer, WarmupCosineLR Scheduler) : IDisposable
    {
        public static Run Create(ulong seed)
        {
            manual_seed(seed);
            var model = new Linear(3, 2, dtype: ScalarType.Float64);
            var optimizer = new AdamW(ParamGroup.WeightDecayGroups(model, new AdamWOptions { lr = 0.05, weight_decay = 0.1, amsgrad = true }));
            return new Run(model, optimizer, new WarmupCosineLR(optimizer, warmup_steps: 2, total_steps: 10));
        }

        public void Train(int steps, Tensor x, Tensor y)
        {
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                Optimizer.zero_grad();
                (Model.call(x) - y).square().mean().backward();
                Optimizer.step();
                Scheduler.step();
            }
        }

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    [Fact]
    public void ResumingFromStateDictsContinuesBitForBit()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        Tensor x = randn([8, 3], ScalarType.Float64), y = randn([8, 2], ScalarType.Float64);

        using var original = Run.Create(seed: 1);
        original.Train(3, x, y);
        var modelState = original.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        using OptimizerStateDict optimizerState = original.Optimizer.state_dict();
        SchedulerState schedulerState = original.Scheduler.state_dict();
        original.Train(4, x, y);

        using var resumed = Run.Create(seed: 2);
        resumed.Model.load_state_dict(modelState);
        resumed.Optimizer.load_state_dict(optimizerState);
        resumed.Scheduler.load_state_dict(schedulerState);
        Assert.Equal(original.Optimizer.param_groups.Count, resumed.Optimizer.param_groups.Count);
        resumed.Train(4, x, y);

        Assert.Equal(original.Model.weight.ToArray<double>(), resumed.Model.weight.ToArray<double>());
        Assert.Equal(original.Model.bias!.ToArray<double>(), resumed.Model.bias!.ToArray<double>());
        Assert.Equal(original.Scheduler.get_last_lr(), resumed.Scheduler.get_last_lr());
    }

    [Fact]
    public void StateDictHoldsCopiesStepCountsAndHyperParameters()
    {
        using var scope = NewDisposeScope();
        using var run = Run.Create(seed: 3);
        run.Train(2, ones([1, 3], ScalarType.Float64), zeros([1, 2], ScalarType.Float64));
        using OptimizerStateDict state = run.Optimizer.state_dict();

        Assert.Equal([[0], [1]], state.param_groups.Select(g => g.@params));
        Assert.Equal([0.1, 0.0], state.param_groups.Select(g => g.options.weight_decay));
        Assert.Equal(run.Scheduler.get_last_lr(), state.param_groups.Select(g => g.options.lr));
        Assert.All(state.state.Values, s => Assert.Equal(2, s.step));
        Assert.Equal(new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" }, state.state[0].tensors.Keys);

        double[] saved = state.state[0].tensors["exp_avg"].ToArray<double>();
        run.Train(1, ones([1, 3], ScalarType.Float64), zeros([1, 2], ScalarType.Float64));
        Assert.Equal(saved, state.state[0].tensors["exp_avg"].ToArray<double>());
    }

    [Fact]
    public void MismatchedStateDictsAreRejected()
    {
        using var scope = NewDisposeScope();
        using var run = Run.Create(seed: 4);
        Tensor p = zeros([2], ScalarType.Float64, requires_grad: true);
        using var single = new AdamW([p]);
        using var sgd = new SGD([p]);
        using OptimizerStateDict one = single.state_dict();
        var groups = Assert.Throws<ArgumentException>(() => run.Optimizer.load_state_dict(one));
        Assert.Contains("1 parameter groups", groups.Message);
        using OptimizerStateDict sgdState = sgd.state_dict();
        var type = Assert.Throws<ArgumentException>(() => single.load_state_dict(sgdState));
        Assert.Contains("AdamWOptions", type.Message);
    }

    [Fact]
    public void WeightDecayGroupsExemptOneDimensionalParametersAndChosenModules()
    {
        using var model = new Sequential(new Linear(3, 4), new Linear(4, 2));
        var defaults = new AdamWOptions { lr = 0.01, weight_decay = 0.3 };
        ParamGroup[] groups = ParamGroup.WeightDecayGroups(model, defaults);
        Assert.Equal(2, groups.Length);
        Assert.Equal(new[] { model.get_parameter("0.weight"), model.get_parameter("1.weight") }, groups[0].@params);
        Assert.Equal(new[] { model.get_parameter("0.bias"), model.get_parameter("1.bias") }, groups[1].@params);
        Assert.Equal((0.3, 0.01), (groups[0].options.weight_decay, groups[0].lr));
        Assert.Equal((0.0, 0.01), (groups[1].options.weight_decay, groups[1].lr));
        Assert.Equal(0.3, defaults.weight_decay);

        ParamGroup[] exemptHead = ParamGroup.WeightDecayGroups(model, defaults, m => m is Linear { out_features: 2 });
        Assert.Equal(new[] { model.get_parameter("0.weight") }, exemptHead[0].@params);
        Assert.Equal(3, exemptHead[1].@params.Count);
        ParamGroup[] decayAll = ParamGroup.WeightDecayGroups(model, defaults, no_decay_1d: false);
        Assert.Equal(4, Assert.Single(decayAll).@params.Count);
    }
}
