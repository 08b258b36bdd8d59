using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

[Collection(SerialCollection.Name)]
public class ModuleLeakTests
{
    [Fact]
    public void DisposeFreesEveryParameterAndBuffer()
    {
        long before = TestData.SettledLiveCount();
        var model = new Sequential(new Linear(3, 4), new Scale(2), new TinyModel(width: 2, depth: 2));
        Assert.Equal(before + 2 + 2 + 2 * 3, Tensor.LiveCount);
        model.Dispose();
        Assert.Equal(before, TestData.SettledLiveCount());
    }

    [Fact]
    public void ForwardConversionAndStateDictLeaveNothingBehindOutsideTheCallersScope()
    {
        using var model = new TinyModel(width: 3, depth: 2);
        long before = TestData.SettledLiveCount();
        using (NewDisposeScope())
        {
            model.call(ones([2, 3], ScalarType.Float64)).sum().backward();
            model.to(ScalarType.Float32);
            model.load_state_dict(model.state_dict());
            model.zero_grad();
        }
        Assert.Equal(before, TestData.SettledLiveCount());
    }
}
