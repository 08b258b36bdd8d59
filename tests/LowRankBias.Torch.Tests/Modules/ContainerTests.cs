using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

public class ContainerTests
{
    private static double FactorOf(Module m) => double.Parse(m.extra_repr().Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void ModuleListIndexesInsertsAndRenumbers()
    {
        using var list = new ModuleList(new Scale(1), new Scale(3));
        list.insert(1, new Scale(2));
        list.append(new Scale(4));
        Assert.Equal(new[] { "0", "1", "2", "3" }, list.named_children().Select(c => c.name));
        Assert.Equal(new double[] { 1, 2, 3, 4 }, list.Select(FactorOf));
        Assert.Equal(4, FactorOf(list[-1]));
        list[0] = new Scale(9);
        Assert.Equal(9, FactorOf(list.get_submodule("0")));
        Assert.Throws<ArgumentOutOfRangeException>(() => list[4]);
    }

    [Fact]
    public void NamedSequentialRunsInOrderAndNamesItsSteps()
    {
        using var scope = NewDisposeScope();
        using var seq = new Sequential([("double", new Scale(2)), ("neg", new Scale(-1))]);
        Assert.Equal(new[] { "double", "neg" }, seq.named_children().Select(c => c.name));
        Assert.Equal(new double[] { -6 }, seq.call(tensor(new double[] { 3 })).ToArray<double>());
        Assert.Throws<ArgumentException>(() => new Sequential([("a", new Scale(1)), ("a", new Scale(2))]));
    }

    [Fact]
    public void ModuleDictKeepsInsertionOrderAndReplacesByKey()
    {
        using var dict = new ModuleDict(("b", new Scale(1)), ("a", new Scale(2)));
        dict["b"] = new Scale(5);
        Assert.Equal(new[] { "b", "a" }, dict.Keys);
        Assert.Equal(5, FactorOf(dict["b"]));
        Assert.True(dict.ContainsKey("a"));
        Assert.Equal(2, dict.Count);
        var error = Assert.Throws<KeyNotFoundException>(() => dict["c"]);
        Assert.Contains("keys: b, a", error.Message);
    }

    [Fact]
    public void LinearComputesXWTransposePlusBias()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(2, 3, dtype: ScalarType.Float64);
        linear.load_state_dict(new Dictionary<string, Tensor>
        {
            ["weight"] = tensor(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }),
            ["bias"] = tensor(new double[] { 0.5, -0.5, 1 }),
        });
        Tensor y = linear.call(tensor(new double[,] { { 1, -1 }, { 2, 0 } }));
        Assert.Equal(new double[] { -0.5, -1.5, 0, 2.5, 5.5, 11 }, y.ToArray<double>());
        var error = Assert.Throws<ArgumentException>(() => linear.call(zeros([2, 3], ScalarType.Float64)));
        Assert.Contains("last dimension is 2", error.Message);
    }

    [Fact]
    public void LinearDefaultInitStaysWithinOneOverSqrtFanIn()
    {
        using var linear = new Linear(16, 64);
        double bound = 1 / Math.Sqrt(16);
        Assert.All(linear.weight.ToArray<float>(), w => Assert.InRange(w, -bound, bound));
        Assert.All(linear.bias!.ToArray<float>(), b => Assert.InRange(b, -bound, bound));
    }
}
