using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Tests.Lora;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>Merges, evaluation on the current model, the A initialisations, optimizer resets and bad input.</summary>
public sealed class LteMergeTests
{
    private static LteOptions Options => new() { Heads = 2, Rank = 2, Alpha = 4, MergeEvery = 0, Exclude = new[] { "head" } };

    [Fact]
    public void MergeAddsTheHeadAverageZeroesBKeepsAAndEvaluationSeesItBeforehand()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options with { NonLowRank = LteNonLowRank.Frozen });
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        for (int step = 0; step < 3; step++) trainer.Step(Batch(step, 4).x, Batch(step, 4).y);

        MultiHeadLoraLinear fc1 = LoraAt(lte, "fc1");
        Matrix<double> w = M(fc1.weight), expected = w.Clone();
        for (int n = 0; n < 2; n++) expected += 2.0 / 2 * M(Head(fc1.lora_B["default"], n)) * M(Head(fc1.lora_A["default"], n));
        double[] a = ToDoubles(fc1.lora_A["default"]), weightBits = ToDoubles(fc1.weight);
        Tensor x = Batch(50, 5).x;

        lte.eval();
        Tensor before = lte.call(x);
        Assert.Equal(weightBits, ToDoubles(fc1.weight));                 // the evaluation scope restored W exactly
        Assert.True(lte.splitting is false);
        lte.train();
        trainer.Merge();

        TestData.AssertClose(expected.ToRowMajorArray(), fc1.weight, 1e-13);
        Assert.All(ToDoubles(fc1.lora_B["default"]), v => Assert.Equal(0.0, v));
        Assert.Equal(a, ToDoubles(fc1.lora_A["default"]));
        lte.eval();
        AssertRelative(before, lte.call(x), 1e-13, "evaluation before the merge vs after it");
        Assert.NotEqual(0.0, ToDoubles(adamW.state_dict().state[0].tensors["exp_avg"]).Max(Math.Abs));
    }

    [Fact]
    public void ResetOptimizerClearsTheFactorsStateKeepsTheReplicasAndReinitializeADrawsANewA()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options with { MergeEvery = 2, ResetOptimizer = true, ReinitializeA = true });
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        MultiHeadLoraLinear fc1 = LoraAt(lte, "fc1");
        double[] a0 = ToDoubles(fc1.lora_A["default"]);
        int factors = adamW.param_groups[0].@params.Count, all = factors + adamW.param_groups[1].@params.Count;
        trainer.Step(Batch(0, 4).x, Batch(0, 4).y);
        using (OptimizerStateDict state = adamW.state_dict()) Assert.Equal(Enumerable.Range(0, all), state.state.Keys.Order());
        trainer.Step(Batch(1, 4).x, Batch(1, 4).y);

        // The factors restart (B = 0, a new A), so does their state; the replicas (biases, the left-out head), which
        // a merge only averages, keep theirs (ReLoRA resets only its LoRA parameters).
        using (OptimizerStateDict state = adamW.state_dict()) Assert.Equal(Enumerable.Range(factors, all - factors), state.state.Keys.Order());
        Assert.NotEqual(a0, ToDoubles(fc1.lora_A["default"]));
        AssertSingularValues(fc1.lora_A["default"], Math.Sqrt(2.0 / Mlp.In));
        Assert.All(ToDoubles(lte.replica("head.weight", 1)).Zip(ToDoubles(lte.replica("head.weight", 0))), p => Assert.Equal(p.First, p.Second));
    }

    [Theory]
    [InlineData(LteInit.SemiOrthogonal)]
    [InlineData(LteInit.ScaledOrthogonal)]
    public void AInitialisationsHaveThePapersAndTheOfficialCodesSpectra(LteInit init)
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options with { AInit = init, Rank = 3 });
        double expected = init == LteInit.SemiOrthogonal ? Math.Sqrt(3.0 / Mlp.In) : Math.Sqrt(Mlp.In / 3.0);
        AssertSingularValues(LoraAt(lte, "fc1").lora_A["default"], expected);
        Assert.All(ToDoubles(LoraAt(lte, "fc1").lora_B["default"]), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void StepOnDeviceTrainsExactlyAsStepAndKeepsTheLossAsAScalarTensor()
    {
        using var scope = NewDisposeScope();
        (LteTrainer trainer, LowRankBias.Lte.Lte model)[] runs = Enumerable.Range(0, 2).Select(_ =>
        {
            var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options with { MergeEvery = 2 });
            lte.ReseedHeads(3);
            return (new LteTrainer(lte, new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 })), Mse), lte);
        }).ToArray();
        for (int step = 0; step < 3; step++)
        {
            (Tensor x, Tensor y) = Batch(step, 4);
            double read = runs[0].trainer.Step(x, y);
            Tensor kept = runs[1].trainer.StepOnDevice(x, y);
            Assert.Equal(0, kept.dim());
            Assert.Equal(ScalarType.Float64, kept.dtype);
            Assert.Equal(read, kept.item<double>());
        }
        Assert.Equal(1, runs[1].trainer.Merges);
        Assert.Equal(ToDoubles(runs[0].model.model.parameters().First()), ToDoubles(runs[1].model.model.parameters().First()));
        foreach ((LteTrainer _, LowRankBias.Lte.Lte lte) in runs) lte.Dispose();
    }

    [Fact]
    public void BadInputIsRejectedWithClearMessages()
    {
        using var scope = NewDisposeScope();
        var grouped = new Sequential(Linear64(Mlp.In, 4, 1), new GroupNorm(2, 4, dtype: F64));
        var norm = Assert.Throws<ArgumentException>(() => new LowRankBias.Lte.Lte(grouped, Options));
        Assert.Contains("parameter '1.weight' of a GroupNorm", norm.Message);
        var correction = Assert.Throws<ArgumentException>(() => new LowRankBias.Lte.Lte(new TokenNet(), Options with { MergeMode = LteMergeMode.Correction, Targets = new[] { "embed" } }));
        Assert.Contains("correction merge mode supports heads on linear layers only; the targets select 'embed', a Embedding", correction.Message);
        Assert.Throws<ArgumentException>(() => (Options with { ReinitializeA = true, MergeMode = LteMergeMode.Correction }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Options with { Heads = 0 }).Validate());

        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var partial = new AdamW(lte.head_parameters().Skip(1));
        Assert.Contains("head parameters", Assert.Throws<ArgumentException>(() => new LteTrainer(lte, partial, Mse)).Message);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions()));
        var trainer = new LteTrainer(lte, adamW, Mse);
        Assert.Contains("split evenly", Assert.Throws<ArgumentException>(() => trainer.Step(Batch(0, 5).x, Batch(0, 5).y)).Message);
        Assert.Throws<ArgumentException>(() => lte.replica("fc1.weight", 0));
        using (lte.Evaluating()) Assert.Throws<InvalidOperationException>(lte.Merge);
    }

    [Fact]
    public void StepInsideEvaluatingIsRefusedAndChangesNothing()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        trainer.Step(Batch(0, 8).x, Batch(0, 8).y);
        double[][] before = lte.parameters().Select(p => p.ToArray<double>()).ToArray();

        using (lte.Evaluating())
        {
            var error = Assert.Throws<InvalidOperationException>(() => trainer.Step(Batch(1, 8).x, Batch(1, 8).y));
            Assert.Contains("training steps are not allowed inside Lte.Evaluating()", error.Message);
        }

        Assert.Equal(1, trainer.Iteration);
        Assert.Equal(before, lte.parameters().Select(p => p.ToArray<double>()).ToArray());
    }

    private static void AssertSingularValues(Tensor stacked, double expected)
    {
        for (int n = 0; n < stacked.size(0); n++)
            Assert.All(M(Head(stacked, n)).Svd().S, s => Assert.Equal(expected, s, 10));
    }
}
