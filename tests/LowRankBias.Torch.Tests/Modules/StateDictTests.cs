using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

public class StateDictTests
{
    [Fact]
    public void RoundTripMakesTwoModelsComputeTheSame()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var source = new TinyModel(width: 3, depth: 2);
        using var target = new TinyModel(width: 3, depth: 2);
        Tensor x = randn([4, 3], ScalarType.Float64);
        Assert.NotEqual(source.call(x).ToArray<double>(), target.call(x).ToArray<double>());

        var (missing, unexpected) = target.load_state_dict(source.state_dict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        Assert.Equal(source.call(x).ToArray<double>(), target.call(x).ToArray<double>());
    }

    [Fact]
    public void EntriesAreDetachedAliasesOfTheLiveTensors()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(2, 2);
        Tensor saved = linear.state_dict()["bias"];
        Assert.False(saved.requires_grad);
        using (no_grad()) linear.bias!.fill_(7);
        Assert.Equal(new float[] { 7, 7 }, saved.ToArray<float>());
    }

    [Fact]
    public void OnlyPersistentBuffersAreSaved()
    {
        using var scale = new Scale(2);
        Assert.Equal(new[] { "count", "scratch" }, scale.named_buffers().Select(b => b.name));
        Assert.Equal(new[] { "count" }, scale.state_dict().Keys);
    }

    [Fact]
    public void StrictLoadingListsMissingAndUnexpectedKeysAndCopiesNothing()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(2, 2);
        float[] weightBefore = linear.weight.ToArray<float>();
        var partial = new Dictionary<string, Tensor> { ["weight"] = zeros([2, 2]), ["extra"] = zeros([1]) };

        var error = Assert.Throws<ArgumentException>(() => linear.load_state_dict(partial));
        Assert.Contains("missing keys [bias]", error.Message);
        Assert.Contains("unexpected keys [extra]", error.Message);
        Assert.Equal(weightBefore, linear.weight.ToArray<float>());

        var (missing, unexpected) = linear.load_state_dict(partial, strict: false);
        Assert.Equal(new[] { "bias" }, missing);
        Assert.Equal(new[] { "extra" }, unexpected);
        Assert.Equal(new float[4], linear.weight.ToArray<float>());
    }

    [Fact]
    public void ShapeMismatchNamesTheKeyAndBothShapes()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(2, 3);
        var wrong = new Dictionary<string, Tensor> { ["weight"] = zeros([2, 3]), ["bias"] = zeros([3]) };
        var error = Assert.Throws<ArgumentException>(() => linear.load_state_dict(wrong));
        Assert.Contains("'weight'", error.Message);
        Assert.Contains("[3, 2]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void LoadingConvertsDtypeIntoTheExistingParameter()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(1, 1);
        Tensor weight = linear.weight;
        linear.load_state_dict(new Dictionary<string, Tensor>
        {
            ["weight"] = tensor(new double[] { 0.25 }, [1, 1]),
            ["bias"] = tensor(new double[] { -1 }),
        });
        Assert.Same(weight, linear.weight);
        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.Equal(new float[] { -0.75f }, linear.call(ones([1, 1])).ToArray<float>());
    }

    [Fact]
    public void ToDtypeKeepsParameterIdentityGradientsAndIntegerBuffers()
    {
        using var scope = NewDisposeScope();
        using var model = new Sequential(new Linear(2, 1), new Scale(3));
        Tensor weight = model.get_parameter("0.weight");
        model.call(ones([1, 2])).sum().backward();

        model.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, weight.dtype);
        Assert.Equal(ScalarType.Float64, weight.grad!.dtype);
        Assert.True(weight.requires_grad);
        Assert.Equal(ScalarType.Int64, model.state_dict()["1.count"].dtype);

        // The same tensor object the optimizer would hold is the one forward uses: a gradient reaches it.
        weight.grad = null;
        model.call(ones([1, 2], ScalarType.Float64)).sum().backward();
        Assert.Equal(new double[] { 3, 3 }, weight.grad!.ToArray<double>());
        Assert.Throws<ArgumentException>(() => model.to(ScalarType.Int32));
    }
}
