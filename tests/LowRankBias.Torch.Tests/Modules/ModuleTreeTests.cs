using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules;

public class ModuleTreeTests
{
    private sealed class Shared : Module
    {
        public Module first, second;
        public Shared(Module m) { first = m; second = m; }
    }

    private sealed class Cyclic : Module
    {
        public Module? self;
    }

    [Fact]
    public void ModulesAndChildrenAreListedDepthFirstWithPaths()
    {
        using var model = new TinyModel(width: 2, depth: 2);
        Assert.Equal(new[] { "blocks" }, model.named_children().Select(c => c.name));
        Assert.Equal(new[]
        {
            "", "blocks", "blocks.0", "blocks.0.attn", "blocks.0.attn.q", "blocks.0.attn.o",
            "blocks.1", "blocks.1.attn", "blocks.1.attn.q", "blocks.1.attn.o",
        }, model.named_modules().Select(m => m.name));
        Assert.Equal(10, model.modules().Count());
        Assert.Equal(2 * (2 * 2 + 2 + 2 * 2), model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void SharedModulesAndParametersAreListedOnce()
    {
        using var linear = new Linear(2, 2);
        var shared = new Shared(linear);
        Assert.Equal(new[] { "first.weight", "first.bias" }, shared.named_parameters().Select(p => p.name));
        Assert.Equal(2, shared.named_modules().Count());
        Assert.Equal(3, shared.named_modules(remove_duplicate: false).Count());
        Assert.Equal(new[] { "first.weight", "first.bias", "second.weight", "second.bias" }, shared.state_dict().Keys);
    }

    [Fact]
    public void ACycleIsReportedInsteadOfRecursingForever()
    {
        var cyclic = new Cyclic();
        cyclic.self = cyclic;
        Assert.Single(cyclic.named_modules());
        var error = Assert.Throws<InvalidOperationException>(() => cyclic.state_dict());
        Assert.Contains("cycle", error.Message);
    }

    [Fact]
    public void TrainEvalRequiresGradAndZeroGradReachEveryDescendant()
    {
        using var scope = NewDisposeScope();
        using var model = new TinyModel(width: 2, depth: 2);
        model.eval();
        Assert.All(model.modules(), m => Assert.False(m.training));
        model.train();
        Assert.All(model.modules(), m => Assert.True(m.training));

        model.requires_grad_(false);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        model.requires_grad_();
        model.call(ones([1, 2], ScalarType.Float64)).sum().backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));

        model.zero_grad(set_to_none: false);
        Assert.All(model.parameters(), p => Assert.Equal(0.0, p.grad!.abs().sum().item<double>()));
        model.zero_grad();
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void ApplyVisitsChildrenBeforeTheirParent()
    {
        using var seq = new Sequential(new Scale(1), new Sequential(new Scale(2)));
        var order = new List<string>();
        seq.apply(m => order.Add(m.ToString().Split('\n')[0]));
        Assert.Equal(new[] { "Scale(factor=1)", "Scale(factor=2)", "Sequential(", "Sequential(" }, order);
    }

    [Fact]
    public void RegistrationRejectsBadOrDuplicateNames()
    {
        using var scope = NewDisposeScope();
        using var linear = new Linear(2, 2);
        Assert.Throws<ArgumentException>(() => linear.register_parameter("weight", zeros([2])));
        Assert.Throws<ArgumentException>(() => linear.register_buffer("a.b", zeros([2])));
        Assert.Throws<ArgumentException>(() => linear.register_parameter("ints", zeros([2], ScalarType.Int64)));
        Tensor w = ones([2], requires_grad: true);
        var error = Assert.Throws<ArgumentException>(() => linear.register_parameter("derived", w * 2));
        Assert.Contains("leaf", error.Message);
    }

    [Fact]
    public void AFieldTypedModuleIsAChildNamedAfterTheField()
    {
        using var attention = new Attention(2);
        Assert.Equal(new[] { "q", "o" }, attention.named_children().Select(c => c.name));
        using var scale = new Scale(3);
        attention.register_module("q", scale);
        Assert.Same(scale, attention.q);
    }

    [Fact]
    public void ToStringPrintsAPyTorchStyleTree()
    {
        using var seq = new Sequential(new Linear(4, 2), new ModuleDict(("act", new Scale(0.5)), ("empty", new ModuleList())));
        Assert.Equal(
            "Sequential(\n" +
            "  (0): Linear(in_features=4, out_features=2, bias=True)\n" +
            "  (1): ModuleDict(\n" +
            "    (act): Scale(factor=0.5)\n" +
            "    (empty): ModuleList()\n" +
            "  )\n" +
            ")", seq.ToString());
    }
}
