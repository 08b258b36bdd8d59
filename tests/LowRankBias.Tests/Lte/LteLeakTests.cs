using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

[Collection(SerialCollection.Name)]
public sealed class LteLeakTests
{
    [Fact]
    public void NativeTensorCountStaysFlatOverStepsMergesClippingAndEvaluation()
    {
        using var scope = NewDisposeScope();
        var options = new LteOptions { Heads = 2, Rank = 2, Alpha = 4, MergeEvery = 2, MaxGradNorm = 0.5, MergeMode = LteMergeMode.Correction, Exclude = new[] { "head" } };
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        (Tensor x, Tensor y) = Batch(0, 4);
        void Cycle()
        {
            trainer.Step(x, y);
            trainer.Step(x, y);
            lte.eval();
            lte.call(x).Dispose();
            lte.train();
        }
        Cycle();
        long live = Live();
        for (int i = 0; i < 3; i++) Cycle();
        Assert.Equal(live, Live());
    }

    private static long Live()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Tensor.LiveCount;
    }
}
