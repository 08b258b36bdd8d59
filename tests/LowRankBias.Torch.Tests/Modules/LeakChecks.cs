using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

/// <summary>Tests that count live native tensors, a process-wide number: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakChecks
{
    public const string Name = "nn-optim leak checks";

    /// <summary>Live native tensors once the tensors other tests dropped have been finalised.</summary>
    public static long Live() => TestData.SettledLiveCount();
}

[Collection(LeakChecks.Name)]
public class ModuleLeakTests
{
    [Fact]
    public void DisposeFreesEveryParameterAndBuffer()
    {
        long before = LeakChecks.Live();
        var model = new Sequential(new Linear(3, 4), new Scale(2), new TinyModel(width: 2, depth: 2));
        Assert.Equal(before + 2 + 2 + 2 * 3, Tensor.LiveCount);
        model.Dispose();
        Assert.Equal(before, LeakChecks.Live());
    }

    [Fact]
    public void ForwardConversionAndStateDictLeaveNothingBehindOutsideTheCallersScope()
    {
        using var model = new TinyModel(width: 3, depth: 2);
        long before = LeakChecks.Live();
        using (NewDisposeScope())
        {
            model.call(ones([2, 3], ScalarType.Float64)).sum().backward();
            model.to(ScalarType.Float32);
            model.load_state_dict(model.state_dict());
            model.zero_grad();
        }
        Assert.Equal(before, LeakChecks.Live());
    }
}
