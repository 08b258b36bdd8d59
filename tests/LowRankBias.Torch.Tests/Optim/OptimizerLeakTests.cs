using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Modules;

namespace LowRankBias.Torch.Tests.Optim;

[Collection(SerialCollection.Name)]
public class OptimizerLeakTests
{
    [Fact]
    public void StepsAllocateStateOnceAndDisposeFreesIt()
    {
        long start = TestData.SettledLiveCount();
        var model = new Sequential(new Linear(4, 3), new Linear(3, 2));
        var adamw = new AdamW(model.parameters(), amsgrad: true);
        var sgd = new SGD(model.parameters(), momentum: 0.9);
        void Step(Optimizer opt)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            model.call(ones([2, 4])).sum().backward();
            nn.utils.clip_grad_norm_(model.parameters(), 0.1);
            opt.step();
        }

        Step(adamw);
        Step(sgd);
        long afterFirst = TestData.SettledLiveCount();
        Assert.Equal(start + 4 + 4 * 3 + 4, afterFirst);
        for (int i = 0; i < 3; i++) { Step(adamw); Step(sgd); }
        Assert.Equal(afterFirst, TestData.SettledLiveCount());

        adamw.Dispose();
        sgd.Dispose();
        model.Dispose();
        Assert.Equal(start, TestData.SettledLiveCount());
    }

    [Fact]
    public void MasterWeightsAndTheScalerKeepAFixedSetOfTensors()
    {
        long start = TestData.SettledLiveCount();
        var model = new Sequential(new Linear(4, 3), new Linear(3, 2));
        model.to(ScalarType.BFloat16);
        var adamw = new AdamW(model.parameters()) { MasterWeights = true };
        var scaler = new GradScaler();
        void Step()
        {
            using var scope = NewDisposeScope();
            adamw.zero_grad();
            scaler.scale(model.call(ones([2, 4], ScalarType.BFloat16)).@float().sum()).backward();
            scaler.unscale_(adamw);
            nn.utils.clip_grad_norm_(adamw.master_params(), 0.1);
            scaler.step(adamw);
            scaler.update();
        }

        Step();
        long afterFirst = TestData.SettledLiveCount();
        Assert.Equal(start + 4 + 4 * 3 + 2, afterFirst); // parameters; master, exp_avg, exp_avg_sq each; scale, tracker
        for (int i = 0; i < 3; i++) Step();
        Assert.Equal(afterFirst, TestData.SettledLiveCount());

        scaler.Dispose();
        adamw.Dispose();
        model.Dispose();
        Assert.Equal(start, TestData.SettledLiveCount());
    }
}
