using LowRankBias.Lte;

namespace LteArchitectures;

/// <summary>A model and the way it is trained — full rank or LTE — behind one step function; <see cref="Evaluated"/>
/// is what evaluation runs (for LTE the current model W + s/N Σ BₙAₙ).</summary>
internal sealed class Learner : IDisposable
{
    private readonly Func<Tensor, Tensor, double> _step;
    private readonly IDisposable[] _owned;

    private Learner(Module evaluated, Func<Tensor, Tensor, double> step, params IDisposable[] owned)
    {
        Evaluated = evaluated;
        _step = step;
        _owned = owned;
    }

    public Module Evaluated { get; }

    /// <summary>One optimizer step on a cumulative batch (input, target); returns the training loss.</summary>
    public double Step(Tensor[] batch) => _step(batch[0], batch[1]);

    /// <summary>AdamW (weight decay 0.05 off biases and norms) with linear warm-up and cosine decay.</summary>
    public static Learner FullRank(Experiment task, Preset preset)
    {
        Module model = task.Build();
        var optimizer = new AdamW(ParamGroup.WeightDecayGroups(model, new AdamWOptions { lr = preset.FullRankLr, weight_decay = 0.05 }));
        WarmupCosineLR schedule = Schedule(optimizer, preset.Steps);
        return new Learner(model, (x, y) =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = task.Loss(model.call(x), y);
            loss.backward();
            optimizer.step();
            schedule.step();
            return loss.item<float>();
        }, optimizer, model);
    }

    /// <summary>LTE on every linear layer but the output one (an averaged replica), the paper's rule for α and the learning rate.</summary>
    public static Learner Lte(Experiment task, Preset preset)
    {
        int steps = preset.LteStepFactor * preset.Steps;
        var lte = new Lte(task.Build(), new LteOptions
        {
            Heads = preset.Heads, Rank = preset.Rank, Alpha = preset.Alpha, MergeEvery = preset.MergeEvery, Exclude = task.OutputLayer,
        });
        var optimizer = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = LteOptions.PaperLearningRateFactor * preset.FullRankLr, weight_decay = 0.05 }));
        var trainer = new LteTrainer(lte, optimizer, task.Loss, Schedule(optimizer, steps));
        return new Learner(lte, trainer.Step, optimizer, lte);
    }

    private static WarmupCosineLR Schedule(Optimizer optimizer, long steps) => new(optimizer, warmup_steps: Math.Max(1, steps / 20), total_steps: steps);

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
    }
}
