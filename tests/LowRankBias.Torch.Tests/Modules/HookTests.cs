using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

public class HookTests
{
    [Fact]
    public void ForwardHooksObserveAndReplaceUntilRemoved()
    {
        using var scope = NewDisposeScope();
        using var seq = new Sequential(new Scale(2), new Scale(10));
        Tensor x = tensor(new double[] { 1, 2 });
        var seen = new List<double[]>();

        using (seq[0].register_forward_hook((m, input, output) => seen.Add(output.ToArray<double>())))
        using (seq[0].register_forward_hook((m, input, output) => output + 1))
        {
            Assert.Equal(new double[] { 30, 50 }, seq.call(x).ToArray<double>());
        }
        Assert.Equal(new double[] { 20, 40 }, seq.call(x).ToArray<double>());
        Assert.Equal(new[] { new double[] { 2, 4 } }, seen);
    }

    [Fact]
    public void PreHooksCanReplaceTheInput()
    {
        using var scope = NewDisposeScope();
        using var scale = new Scale(3);
        RemovableHandle handle = scale.register_forward_pre_hook((m, input) => input - 1);
        Assert.Equal(new double[] { 0, 3 }, scale.call(tensor(new double[] { 1, 2 })).ToArray<double>());
        handle.remove();
        handle.remove();
        Assert.Equal(new double[] { 3, 6 }, scale.call(tensor(new double[] { 1, 2 })).ToArray<double>());
    }

    [Fact]
    public void ForwardWithoutAnImplementationSaysSo()
    {
        using var list = new ModuleList();
        var error = Assert.Throws<NotImplementedException>(() => list.call(zeros([1])));
        Assert.Contains("ModuleList", error.Message);
    }
}
