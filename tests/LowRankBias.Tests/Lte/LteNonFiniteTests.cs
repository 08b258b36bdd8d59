using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>LteTrainer stops on NaN/±∞ before the update, names the head, and refuses an empty batch.</summary>
public sealed class LteNonFiniteTests
{
    private static LteOptions Options => new() { Heads = 2, Rank = 2, Alpha = 4, MergeEvery = 0, Exclude = new[] { "head" } };

    private static double[][] Weights(LowRankBias.Lte.Lte lte) => lte.parameters().Select(p => p.ToArray<double>()).ToArray();

    [Fact]
    public void NaNInputStopsBeforeTheUpdateNamingTheHeadWhoseLossIsNaN()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        trainer.Step(Batch(0, 8).x, Batch(0, 8).y);
        double[][] before = Weights(lte);
        (Tensor x, Tensor y) = Batch(1, 8);
        x.narrow(0, 5, 1).fill_(double.NaN); // a sample of head 1's share (rows 4–7)

        var error = Assert.Throws<NonFiniteLossException>(() => trainer.Step(x, y));

        Assert.StartsWith("iteration 2: head 1's loss is NaN; training stopped before the update, so the weights are those after iteration 1", error.Message);
        Assert.Equal(2, error.Step);
        Assert.True(double.IsNaN(error.Loss));
        Assert.Equal(1, trainer.Iteration);
        Assert.Equal(before, Weights(lte));
    }

    [Fact]
    public void NonFiniteGradientOfAFiniteLossNamesTheHeadAndTheParameter()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.1 }));
        int calls = 0;
        // Heads' losses are computed in head order; head 1's gets √0 · 0 added: finite, with a NaN slope.
        var trainer = new LteTrainer(lte, adamW, (o, t) => calls++ % 2 == 1 ? Mse(o, t) + (o.sum() * 0).sqrt() : Mse(o, t));
        double[][] before = Weights(lte);

        var error = Assert.Throws<NonFiniteGradientException>(() => trainer.Step(Batch(0, 8).x, Batch(0, 8).y));

        Tensor parameter = adamW.param_groups.SelectMany(g => g.@params).ElementAt(error.Parameter);
        string name = lte.named_parameters().Single(p => ReferenceEquals(p.parameter, parameter)).name;
        Assert.StartsWith($"iteration 1: head 1's gradient of '{name}' is NaN or ±∞; training stopped before the update", error.Message);
        Assert.Equal(0, trainer.Iteration);
        Assert.Equal(before, Weights(lte));
    }

    [Fact]
    public void OptingOutOnTheOptimizerTrainsOnIntoNaNAsBefore()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.1 })) { error_if_nonfinite = false };
        var trainer = new LteTrainer(lte, adamW, Mse);
        (Tensor x, Tensor y) = Batch(0, 8);
        x.fill_(double.NaN);

        Assert.True(double.IsNaN(trainer.Step(x, y)));
        Tensor[] stepped = lte.head_parameters().Where(p => p.grad is not null).ToArray();
        Assert.NotEmpty(stepped);
        Assert.All(stepped, p => Assert.All(p.ToArray<double>(), v => Assert.True(double.IsNaN(v))));
    }

    [Fact]
    public void EmptyBatchIsRefusedInsteadOfANaNLoss()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        double[][] before = Weights(lte);

        var error = Assert.Throws<ArgumentException>(() => trainer.Step(Batch(0, 0).x, Batch(0, 0).y));

        Assert.StartsWith("the cumulative batch is empty", error.Message);
        Assert.Equal("input", error.ParamName);
        Assert.Equal(0, trainer.Iteration);
        Assert.Equal(before, Weights(lte));
    }
}
